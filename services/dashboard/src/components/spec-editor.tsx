import { useRef, type UIEvent } from 'react';
import type { SpecProblem } from '../api/types.ts';

/**
 * A YAML text area with a line-number gutter; lines with a problem are marked in the gutter and
 * the problems are listed under it, each with its line and a button that puts the cursor there.
 */
export function SpecEditor({ value, onChange, problems, id }: { value: string; onChange(text: string): void; problems: SpecProblem[]; id: string }) {
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = value.split('\n');
  const byLine = new Map<number, SpecProblem[]>();
  for (const p of problems) if (p.line) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);

  const onScroll = (event: UIEvent<HTMLTextAreaElement>) => {
    if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
  };
  const goTo = (line: number, column = 1) => {
    const el = area.current;
    if (!el) return;
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, column - 1);
    el.focus();
    el.setSelectionRange(offset, offset + Math.max(1, (lines[line - 1] ?? '').length - column + 1));
    const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 18;
    el.scrollTop = Math.max(0, (line - 4) * lineHeight);
  };

  return (
    <div className="spec-editor">
      <div className="editor-frame">
        <div className="gutter" ref={gutter} aria-hidden="true">
          {lines.map((_, i) => {
            const marks = byLine.get(i + 1);
            return (
              <div key={i} className={marks ? 'gutter-line bad' : 'gutter-line'} title={marks?.map((p) => p.message).join('\n')}>
                {marks ? '● ' : ''}
                {i + 1}
              </div>
            );
          })}
        </div>
        <textarea
          id={id}
          ref={area}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onScroll={onScroll}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          wrap="off"
          aria-invalid={problems.length > 0}
          aria-describedby={`${id}-problems`}
          data-testid="spec-editor"
        />
      </div>
      <div id={`${id}-problems`} aria-live="polite">
        {problems.length > 0 ? (
          <ul className="problems" aria-label="Problems in the spec" data-testid="spec-problems">
            {problems.map((p, i) => (
              <li key={i} className="problem">
                {p.line ? (
                  <button type="button" className="link-button" onClick={() => goTo(p.line ?? 1, p.column)} aria-label={`Go to line ${p.line}`}>
                    line {p.line}
                  </button>
                ) : (
                  <span className="muted">whole spec</span>
                )}
                {p.line ? <pre className="line-excerpt">{lines[p.line - 1]}</pre> : null}
                <span>
                  {p.path ? <code>{p.path}</code> : null} {p.message} <span className="muted">({p.code})</span>
                </span>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
