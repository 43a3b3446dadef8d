import { useEffect, useRef, useState } from 'react';
import { api, ApiError, enc } from '../api/client.ts';
import { isNotAvailable } from '../api/hooks.ts';
import type { PipelineVersion, SpecProblem, SpecValidation } from '../api/types.ts';
import { ErrorBox, NotAvailable } from '../components/common.tsx';
import { SpecEditor } from '../components/spec-editor.tsx';
import { Link, navigate } from '../router.tsx';
import { toYaml } from '../to-yaml.ts';

const TEMPLATE = `apiVersion: pipewright/v1
name: breast-cancer-diagnosis
params: { testSize: { type: number, default: 0.3 } }
stages:
  - { id: ingest, uses: ingest.csv@1, with: { path: examples/data/breast_cancer.csv, target: target } }
  - { id: split, uses: split.train_test@1, needs: [ingest], with: { testSize: "\${{ params.testSize }}", stratify: true, seed: 42 } }
  - { id: scale, uses: preprocess.standardize@1, needs: [split] }
  - { id: train, uses: train.logistic@1, needs: [scale], with: { epochs: 50 } }
  - { id: evaluate, uses: evaluate.classification@1, needs: [train, scale] }
`;

type Check = { state: 'idle' | 'checking' } | { state: 'done'; result: SpecValidation } | { state: 'unavailable' } | { state: 'error'; error: unknown };

/**
 * Submit a run from YAML. The spec is validated as it is typed (POST /v1/pipelines/validate, a
 * dry run that stores nothing) and every problem is shown at its line. Submitting posts the
 * same text to POST /v1/runs and opens the new run.
 */
export function SubmitPage({ search }: { search: URLSearchParams }) {
  const from = search.get('from');
  const version = search.get('version');
  const [text, setText] = useState(TEMPLATE);
  const [params, setParams] = useState('');
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [submitProblems, setSubmitProblems] = useState<SpecProblem[] | null>(null);
  const [submitError, setSubmitError] = useState<unknown>();
  const [submitting, setSubmitting] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    if (!from) return;
    void api<{ items: PipelineVersion[] }>(`/v1/pipelines/${enc(from)}/versions`).then(
      (body) => {
        const v = body.items.find((item) => String(item.version) === version) ?? body.items[0];
        if (v) setText(`${toYaml(v.spec)}\n`);
      },
      (error: unknown) => setSubmitError(error),
    );
  }, [from, version]);

  const paramsValue = (): { ok: true; value?: Record<string, unknown> } | { ok: false; message: string } => {
    if (!params.trim()) return { ok: true };
    try {
      const value = JSON.parse(params) as unknown;
      if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'Run params must be a JSON object, like {"testSize": 0.2}.' };
      return { ok: true, value: value as Record<string, unknown> };
    } catch (error) {
      return { ok: false, message: `Run params are not valid JSON: ${(error as Error).message}` };
    }
  };
  const parsedParams = paramsValue();

  // Validate 400 ms after the last keystroke; an answer to an older text is dropped.
  useEffect(() => {
    if (check.state === 'unavailable') return;
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      setCheck({ state: 'checking' });
      const body = parsedParams.ok && parsedParams.value ? { spec: text, params: parsedParams.value } : undefined;
      const request = body ? api<SpecValidation>('/v1/pipelines/validate', { body }) : api<SpecValidation>('/v1/pipelines/validate', { body: text, contentType: 'application/yaml' });
      request.then(
        (result) => {
          if (mine === seq.current) setCheck({ state: 'done', result });
        },
        (error: unknown) => {
          if (mine !== seq.current) return;
          setCheck(isNotAvailable(error) ? { state: 'unavailable' } : { state: 'error', error });
        },
      );
    }, 400);
    return () => clearTimeout(timer);
    // parsedParams derives from params
  }, [text, params]);

  const submit = async () => {
    if (!parsedParams.ok) return;
    setSubmitting(true);
    setSubmitError(undefined);
    setSubmitProblems(null);
    try {
      const created = parsedParams.value
        ? await api<{ id: string }>('/v1/runs', { body: { spec: text, params: parsedParams.value } })
        : await api<{ id: string }>('/v1/runs', { body: text, contentType: 'application/yaml' });
      navigate(`/runs/${created.id}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'PW_ERR_SPEC_INVALID') {
        setSubmitProblems(((error.details as { problems?: SpecProblem[] } | undefined)?.problems ?? []) as SpecProblem[]);
      } else {
        setSubmitError(error);
      }
    } finally {
      setSubmitting(false);
    }
  };

  const problems = check.state === 'done' ? check.result.problems : (submitProblems ?? []);
  const valid = check.state === 'done' && check.result.ok;

  return (
    <div>
      <header className="page-header">
        <div>
          <p className="breadcrumbs">
            <Link to="/pipelines">Pipelines</Link> /
          </p>
          <h1>Submit a run</h1>
        </div>
      </header>
      <form
        className="card submit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="spec-text">Pipeline spec (YAML or JSON)</label>
        <SpecEditor id="spec-text" value={text} onChange={setText} problems={problems} />
        <p className="validation" role="status" data-testid="validation-state" data-state={valid ? 'ok' : check.state === 'done' ? 'invalid' : check.state}>
          {checkMessage(check)}
        </p>
        {check.state === 'unavailable' ? <NotAvailable feature="Validation as you type" /> : null}
        {check.state === 'error' ? <ErrorBox error={check.error} /> : null}

        <label htmlFor="run-params">Run params (JSON object, optional)</label>
        <input id="run-params" className="mono" value={params} onChange={(e) => setParams(e.target.value)} placeholder='{"testSize": 0.2}' spellCheck={false} aria-invalid={!parsedParams.ok} />
        {!parsedParams.ok ? (
          <p className="field-error" role="alert">
            {parsedParams.message}
          </p>
        ) : null}
        {submitError ? <ErrorBox error={submitError} /> : null}
        <div className="button-row">
          <button type="submit" disabled={submitting || !parsedParams.ok || (check.state === 'done' && !check.result.ok)}>
            {submitting ? 'Submitting…' : 'Submit run'}
          </button>
          <button type="button" className="secondary" onClick={() => setText(TEMPLATE)}>
            Reset to the example
          </button>
        </div>
      </form>
    </div>
  );
}

function checkMessage(check: Check): string | null {
  switch (check.state) {
    case 'idle':
    case 'checking':
      return 'Checking…';
    case 'unavailable':
      return null;
    case 'error':
      return 'Could not check the spec.';
    case 'done':
      return check.result.ok
        ? `Valid: ${check.result.stages.length} stages (${check.result.stages.map((s) => s.id).join(' → ')}).`
        : `${check.result.problems.length} problem${check.result.problems.length === 1 ? '' : 's'}.`;
  }
}
