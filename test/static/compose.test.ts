// Static checks of the deployment files: docker-compose.yml, infra/Dockerfile*, .dockerignore.
// There is no Docker engine in CI, so this parses the files and checks what `docker compose
// up` would trip on, plus Pipewright's own rules (workers never get DATABASE_URL, one shared
// artifact volume, one QUEUE_PREFIX). Each check collects every problem it finds; the
// mutation tests at the bottom prove the checks fail when the files are wrong.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INFRA = join(ROOT, 'infra');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

const REQUIRED_SERVICES = ['redis', 'postgres', 'api', 'orchestrator', 'worker-cpu-1', 'worker-cpu-2'];
const REQUIRED_TARGETS = ['api', 'orchestrator', 'worker', 'worker-gpu'];
const GPU_BEGIN = '# >>> gpu-worker';
const GPU_END = '# <<< gpu-worker';

// ---------------------------------------------------------------------------------------
// Dockerfile parsing
// ---------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  index: number;
  name: string | undefined;
  /** FROM reference with global ARGs substituted. */
  from: string;
  instructions: Instruction[];
}

interface Dockerfile {
  path: string;
  stages: Stage[];
}

/** Joins continuation lines, drops comments and blank lines; returns logical instructions. */
function logicalLines(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  for (const raw of text.split(/\r?\n/)) {
    const trimmed = raw.trim();
    // Comment lines are removed even inside a continuation, as Docker does.
    if (trimmed.startsWith('#')) continue;
    if (trimmed === '' && buf === '') continue;
    if (trimmed.endsWith('\\')) {
      buf += `${trimmed.slice(0, -1)} `;
      continue;
    }
    buf += trimmed;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(buf.trim());
    if (m?.[1]) out.push({ op: m[1].toUpperCase(), args: (m[2] ?? '').trim() });
    buf = '';
  }
  if (buf.trim() !== '') throw new Error('Dockerfile ends inside a line continuation');
  return out;
}

function substitute(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, def, b) => {
    const name = (a ?? b) as string;
    return vars.get(name) ?? (def as string | undefined) ?? '';
  });
}

function parseDockerfile(path: string): Dockerfile {
  const globals = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of logicalLines(readFileSync(path, 'utf8'))) {
    if (ins.op === 'ARG' && stages.length === 0) {
      const [name, ...rest] = ins.args.split('=');
      if (name) globals.set(name.trim(), rest.join('=').trim());
      continue;
    }
    if (ins.op === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asAt = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        index: stages.length,
        name: asAt >= 0 ? words[asAt + 1]?.toLowerCase() : undefined,
        from: substitute(words[0] ?? '', globals),
        instructions: [],
      });
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) throw new Error(`${path}: ${ins.op} before the first FROM`);
    current.instructions.push(ins);
  }
  return { path, stages };
}

function findStage(df: Dockerfile, ref: string, before = Infinity): Stage | undefined {
  const lower = ref.toLowerCase();
  return df.stages.find((s) => s.index < before && (s.name === lower || String(s.index) === ref));
}

/** The target's stage and every stage it is built FROM, target first. */
function stageChain(df: Dockerfile, target: string): Stage[] {
  const chain: Stage[] = [];
  let stage = findStage(df, target);
  while (stage && !chain.includes(stage)) {
    chain.push(stage);
    stage = findStage(df, stage.from, stage.index);
  }
  return chain;
}

function copyFromRefs(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY' || i.op === 'ADD')
    .flatMap((i) => [...i.args.matchAll(/--from=(\S+)/g)].map((m) => m[1] ?? ''));
}

/** Stages whose output ends up in the target: its FROM chain and COPY --from sources. */
function reachableStages(df: Dockerfile, target: string): Stage[] {
  const seen = new Set<Stage>();
  const todo = stageChain(df, target);
  while (todo.length > 0) {
    const s = todo.pop();
    if (!s || seen.has(s)) continue;
    seen.add(s);
    todo.push(...stageChain(df, s.name ?? String(s.index)));
    for (const ref of copyFromRefs(s)) {
      const src = findStage(df, ref, s.index);
      if (src) todo.push(...stageChain(df, src.name ?? String(src.index)));
    }
  }
  return [...seen];
}

/** Value of the last `op` instruction along the FROM chain (what the image inherits). */
function effective(df: Dockerfile, target: string, op: string): string | undefined {
  for (const stage of stageChain(df, target)) {
    const hit = stage.instructions.filter((i) => i.op === op).at(-1);
    if (hit) return hit.args;
  }
  return undefined;
}

function execForm(args: string): string[] {
  try {
    const v: unknown = JSON.parse(args);
    if (Array.isArray(v)) return v.map(String);
  } catch {
    // shell form
  }
  return args.split(/\s+/);
}

function checkDockerfile(df: Dockerfile, requiredTargets: string[]): string[] {
  const problems: string[] = [];
  const where = relative(ROOT, df.path);
  const names = new Set<string>();
  for (const s of df.stages) {
    if (s.name) {
      if (names.has(s.name)) problems.push(`${where}: stage ${s.name} defined twice`);
      names.add(s.name);
    }
    if (s.from === '' || s.from.includes('$')) problems.push(`${where}: FROM of stage ${s.name ?? s.index} does not resolve (${s.from})`);
    for (const ref of copyFromRefs(s)) {
      const isImage = /[:/]/.test(ref);
      if (!isImage && !findStage(df, ref, s.index)) problems.push(`${where}: COPY --from=${ref} in stage ${s.name ?? s.index} names no earlier stage`);
    }
  }
  for (const target of requiredTargets) {
    if (!findStage(df, target)) {
      problems.push(`${where}: no stage "FROM ... AS ${target}"`);
      continue;
    }
    const chain = stageChain(df, target);
    const rootImage = chain.at(-1)?.from ?? '';
    const reach = reachableStages(df, target);
    const runs = reach.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));

    if (!runs.some((r) => /\bnpm ci\b/.test(r))) problems.push(`${where}: target ${target} never runs npm ci`);
    const user = effective(df, target, 'USER');
    if (!user || /^(root|0)(:|$)/.test(user)) problems.push(`${where}: target ${target} runs as root (USER ${user ?? 'unset'})`);

    const cmd = effective(df, target, 'CMD');
    const service = target.replace(/-gpu$/, '');
    if (!cmd) problems.push(`${where}: target ${target} has no CMD`);
    else if (!execForm(cmd).includes(`services/${service}`)) problems.push(`${where}: CMD of ${target} does not start services/${service}: ${cmd}`);

    if (target === 'worker-gpu') {
      if (!/cuda/i.test(rootImage)) problems.push(`${where}: worker-gpu is not based on a CUDA image (${rootImage})`);
      if (!runs.some((r) => r.includes('@tensorflow/tfjs-node-gpu'))) problems.push(`${where}: worker-gpu does not install @tensorflow/tfjs-node-gpu`);
    } else if (!/^node:20([.-]|$)/.test(rootImage)) {
      problems.push(`${where}: target ${target} is not based on node:20 (${rootImage})`);
    }
    if (target === 'api') {
      const hc = effective(df, target, 'HEALTHCHECK');
      if (!hc || /^NONE\b/i.test(hc)) problems.push(`${where}: api has no HEALTHCHECK`);
      else if (!hc.includes('/healthz') && !hc.includes('/readyz')) problems.push(`${where}: api HEALTHCHECK probes neither /healthz nor /readyz`);
      const exposed = reach.flatMap((s) => s.instructions.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)));
      if (!exposed.some((p) => p.replace(/\/tcp$/, '') === '3000')) problems.push(`${where}: api does not EXPOSE 3000`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Compose model
// ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Compose variable interpolation with defaults only (independent of the caller's env). */
function interpolate(s: string): string {
  return s
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_m, _name, kind, def) => (kind?.includes('-') ? (def as string) : ''))
    .replace(/\$\$/g, '$');
}

function environment(svc: Obj): Map<string, unknown> {
  const env = new Map<string, unknown>();
  const raw = svc.environment;
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const [k, ...v] = String(item).split('=');
      if (k) env.set(k, v.length > 0 ? v.join('=') : undefined);
    }
  } else if (isObj(raw)) {
    for (const [k, v] of Object.entries(raw)) env.set(k, v);
  }
  return env;
}

function dependsOn(svc: Obj): Map<string, string> {
  const deps = new Map<string, string>();
  const raw = svc.depends_on;
  if (Array.isArray(raw)) for (const d of raw) deps.set(String(d), 'service_started');
  else if (isObj(raw)) for (const [k, v] of Object.entries(raw)) deps.set(k, isObj(v) ? String(v.condition ?? 'service_started') : 'service_started');
  return deps;
}

interface Mount {
  source: string | undefined;
  target: string;
  named: boolean;
}

function mounts(svc: Obj): Mount[] {
  const raw = Array.isArray(svc.volumes) ? svc.volumes : [];
  return raw.map((v): Mount => {
    if (typeof v === 'string') {
      const parts = v.split(':');
      if (parts.length === 1) return { source: undefined, target: parts[0] ?? '', named: false };
      const source = parts[0] ?? '';
      return { source, target: parts[1] ?? '', named: !/^[./~$]/.test(source) };
    }
    const o = isObj(v) ? v : {};
    const source = typeof o.source === 'string' ? o.source : undefined;
    const type = typeof o.type === 'string' ? o.type : 'volume';
    return { source, target: String(o.target ?? ''), named: type === 'volume' && source !== undefined };
  });
}

interface Build {
  context: string;
  dockerfile: string;
  target: string | undefined;
}

function build(svc: Obj): Build | undefined {
  if (svc.build === undefined) return undefined;
  const b = isObj(svc.build) ? svc.build : { context: svc.build };
  const context = resolve(ROOT, String(b.context ?? '.'));
  const dockerfile = resolve(context, String(b.dockerfile ?? 'Dockerfile'));
  return { context, dockerfile, target: b.target === undefined ? undefined : String(b.target) };
}

function isWorker(name: string, svc: Obj): boolean {
  return name.startsWith('worker') || (build(svc)?.target ?? '').startsWith('worker');
}

function isApp(name: string, svc: Obj): boolean {
  return name === 'api' || name === 'orchestrator' || isWorker(name, svc);
}

function commandWords(svc: Obj): string[] {
  if (Array.isArray(svc.command)) return svc.command.map(String);
  if (typeof svc.command === 'string') return svc.command.split(/\s+/);
  return [];
}

function hasComposeHealthcheck(svc: Obj): boolean {
  const hc = svc.healthcheck;
  if (!isObj(hc) || hc.disable === true) return false;
  const test = Array.isArray(hc.test) ? hc.test.map(String) : [String(hc.test ?? '')];
  return test[0] !== 'NONE' && test.join('') !== '';
}

function loadYaml(text: string): Obj {
  const doc: unknown = parse(text, { merge: true });
  if (!isObj(doc)) throw new Error('compose file is not a mapping');
  return doc;
}

/** The compose text with the commented-out GPU worker block uncommented. */
function withGpuWorker(text: string): string {
  const lines = text.split('\n');
  const begin = lines.findIndex((l) => l.trim() === GPU_BEGIN);
  const end = lines.findIndex((l) => l.trim() === GPU_END);
  if (begin < 0 || end < begin) throw new Error(`no "${GPU_BEGIN}" ... "${GPU_END}" block in docker-compose.yml`);
  return lines.map((l, i) => (i > begin && i < end ? l.replace(/^(\s*)# ?/, '$1') : l)).join('\n');
}

function checkCompose(doc: Obj, requiredServices: string[]): string[] {
  const problems: string[] = [];
  const services = isObj(doc.services) ? doc.services : {};
  const declaredVolumes = new Set(Object.keys(isObj(doc.volumes) ? doc.volumes : {}));
  const names = Object.keys(services);
  const svcOf = (n: string): Obj => {
    const s = services[n];
    return isObj(s) ? s : {};
  };
  const dockerfiles = new Map<string, Dockerfile>();

  for (const r of requiredServices) if (!names.includes(r)) problems.push(`service ${r} is missing`);

  for (const name of names) {
    const svc = svcOf(name);
    const env = environment(svc);
    const envStr = (k: string): string | undefined => {
      const v = env.get(k);
      return typeof v === 'string' || typeof v === 'number' ? interpolate(String(v)) : undefined;
    };

    // build: a Dockerfile under infra/ and a target stage that exists in it
    const b = build(svc);
    if (b) {
      if (!existsSync(b.context) || !statSync(b.context).isDirectory()) problems.push(`${name}: build context ${b.context} is not a directory`);
      const rel = relative(INFRA, b.dockerfile);
      if (rel.startsWith('..') || isAbsolute(rel)) problems.push(`${name}: Dockerfile ${relative(ROOT, b.dockerfile)} is not under infra/`);
      if (!existsSync(b.dockerfile)) {
        problems.push(`${name}: Dockerfile ${relative(ROOT, b.dockerfile)} does not exist`);
      } else {
        let df = dockerfiles.get(b.dockerfile);
        if (!df) {
          df = parseDockerfile(b.dockerfile);
          dockerfiles.set(b.dockerfile, df);
        }
        if (b.target === undefined) {
          if (df.stages.length > 1) problems.push(`${name}: builds the multi-stage ${relative(ROOT, b.dockerfile)} without a target`);
        } else if (!findStage(df, b.target)) {
          problems.push(`${name}: target ${b.target} is not a "FROM ... AS ${b.target}" stage in ${relative(ROOT, b.dockerfile)}`);
        }
      }
    } else if (typeof svc.image !== 'string') {
      problems.push(`${name}: neither build nor image`);
    }

    // depends_on: defined services, valid conditions, healthchecks where waited for
    for (const [dep, condition] of dependsOn(svc)) {
      if (!names.includes(dep)) {
        problems.push(`${name}: depends_on ${dep}, which is not a service`);
        continue;
      }
      if (dep === name) problems.push(`${name}: depends on itself`);
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) problems.push(`${name}: depends_on ${dep} has unknown condition ${condition}`);
      if (condition === 'service_healthy') {
        const depSvc = svcOf(dep);
        const depBuild = build(depSvc);
        const depDf = depBuild ? dockerfiles.get(depBuild.dockerfile) ?? (existsSync(depBuild.dockerfile) ? parseDockerfile(depBuild.dockerfile) : undefined) : undefined;
        const imageHc = depDf && depBuild?.target ? effective(depDf, depBuild.target, 'HEALTHCHECK') : undefined;
        if (!hasComposeHealthcheck(depSvc) && (!imageHc || /^NONE\b/i.test(imageHc))) problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }

    // volumes: every named volume is declared at the top level
    for (const m of mounts(svc)) {
      if (m.named && m.source && !declaredVolumes.has(m.source)) problems.push(`${name}: volume ${m.source} is not declared under top-level volumes`);
    }

    // workspace commands name a workspace with a start script
    const words = commandWords(svc);
    const w = words.indexOf('-w');
    if (w >= 0) {
      const ws = words[w + 1] ?? '';
      const pkgPath = join(ROOT, ws, 'package.json');
      const pkg: unknown = existsSync(pkgPath) ? JSON.parse(readFileSync(pkgPath, 'utf8')) : undefined;
      const scripts = isObj(pkg) && isObj(pkg.scripts) ? pkg.scripts : {};
      const script = words[words.indexOf('run') + 1] ?? '';
      if (!isObj(pkg)) problems.push(`${name}: command runs workspace ${ws}, which has no package.json`);
      else if (!(script in scripts)) problems.push(`${name}: workspace ${ws} has no "${script}" script`);
    }

    if (env.has('ARTIFACT_ROOT') && !mounts(svc).some((m) => m.target === envStr('ARTIFACT_ROOT'))) problems.push(`${name}: ARTIFACT_ROOT=${envStr('ARTIFACT_ROOT')} is not a mounted volume`);
    if (svc.env_file !== undefined && isApp(name, svc)) problems.push(`${name}: env_file hides the environment from these checks; use environment`);

    if (!isApp(name, svc)) continue;

    // environment contract
    const need = isWorker(name, svc) ? ['REDIS_URL', 'ARTIFACT_ROOT', 'QUEUE_PREFIX'] : ['DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX'];
    for (const k of need) if (!env.has(k)) problems.push(`${name}: environment lacks ${k}`);
    if (isWorker(name, svc)) {
      if (env.has('DATABASE_URL')) problems.push(`${name}: a worker gets DATABASE_URL, but workers never touch Postgres`);
      for (const dep of dependsOn(svc).keys()) if (/postgres/i.test(String(svcOf(dep).image ?? dep))) problems.push(`${name}: a worker depends on ${dep} (Postgres)`);
      if (!words.includes('--queues')) problems.push(`${name}: worker command has no --queues`);
    }
    for (const k of ['DATABASE_URL', 'REDIS_URL']) {
      const url = envStr(k);
      if (url === undefined) continue;
      let host = '';
      try {
        host = new URL(url).hostname;
      } catch {
        problems.push(`${name}: ${k} is not a URL: ${url}`);
        continue;
      }
      if (!names.includes(host)) problems.push(`${name}: ${k} points at host ${host}, which is not a service`);
      else if (!dependsOn(svc).has(host)) problems.push(`${name}: uses ${host} (${k}) without depends_on ${host}`);
    }
  }

  // All app services agree on the queue prefix, and it is a hash-tagged string ("{pw}" must be
  // quoted in YAML, or it parses as a mapping).
  const prefixes = names.filter((n) => isApp(n, svcOf(n))).map((n) => [n, environment(svcOf(n)).get('QUEUE_PREFIX')] as const);
  for (const [n, p] of prefixes) if (p !== undefined && (typeof p !== 'string' || !/\{[^}]+\}/.test(p))) problems.push(`${n}: QUEUE_PREFIX must be a hash-tagged string like "{pw}", got ${JSON.stringify(p)}`);
  if (new Set(prefixes.map(([, p]) => JSON.stringify(p))).size > 1) problems.push(`QUEUE_PREFIX differs between services: ${JSON.stringify(prefixes)}`);

  // One shared artifact store: api and every worker mount the same named volume at ARTIFACT_ROOT.
  const artifactVolumes = new Map<string, string>();
  for (const n of names.filter((x) => x === 'api' || isWorker(x, svcOf(x)) || environment(svcOf(x)).has('ARTIFACT_ROOT'))) {
    const env = environment(svcOf(n));
    const root = env.get('ARTIFACT_ROOT');
    if (root === undefined) {
      problems.push(`${n}: no ARTIFACT_ROOT`);
      continue;
    }
    const m = mounts(svcOf(n)).find((x) => x.target === interpolate(String(root)));
    if (m?.named && m.source) artifactVolumes.set(n, m.source);
    else if (m) problems.push(`${n}: ARTIFACT_ROOT is not a named (shareable) volume`);
  }
  if (new Set(artifactVolumes.values()).size > 1) problems.push(`artifact store is not one shared volume: ${JSON.stringify([...artifactVolumes])}`);

  // dependency cycles
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      problems.push(`depends_on cycle: ${[...path, n].join(' -> ')}`);
      return;
    }
    state.set(n, 'visiting');
    for (const d of dependsOn(svcOf(n)).keys()) if (names.includes(d)) visit(d, [...path, n]);
    state.set(n, 'done');
  };
  for (const n of names) visit(n, []);

  // infrastructure services
  if (names.includes('redis')) {
    const redis = svcOf('redis');
    if (!String(redis.image ?? '').startsWith('redis:7')) problems.push(`redis: image is not redis:7 (${String(redis.image)})`);
    if (!/--appendonly\s+yes/.test(commandWords(redis).join(' '))) problems.push('redis: not started with --appendonly yes');
  }
  if (names.includes('postgres')) {
    const pg = svcOf('postgres');
    const env = environment(pg);
    if (!String(pg.image ?? '').startsWith('postgres:16')) problems.push(`postgres: image is not postgres:16 (${String(pg.image)})`);
    if (!env.has('POSTGRES_PASSWORD')) problems.push('postgres: no POSTGRES_PASSWORD');
    if (env.get('POSTGRES_DB') !== 'pipewright') problems.push('postgres: POSTGRES_DB is not pipewright');
    const hc = isObj(pg.healthcheck) ? pg.healthcheck : {};
    if (!JSON.stringify(hc.test ?? '').includes('pg_isready')) problems.push('postgres: healthcheck does not use pg_isready');
    if (!mounts(pg).some((m) => m.named && m.target === '/var/lib/postgresql/data')) problems.push('postgres: data directory is not on a named volume');
    // DATABASE_URL must match what the postgres service creates
    const user = String(env.get('POSTGRES_USER') ?? 'postgres');
    const password = interpolate(String(env.get('POSTGRES_PASSWORD') ?? ''));
    for (const n of names) {
      const raw = environment(svcOf(n)).get('DATABASE_URL');
      if (typeof raw !== 'string') continue;
      try {
        const u = new URL(interpolate(raw));
        if (u.hostname !== 'postgres') continue;
        if (decodeURIComponent(u.username) !== user) problems.push(`${n}: DATABASE_URL user ${u.username} is not POSTGRES_USER ${user}`);
        if (decodeURIComponent(u.password) !== password) problems.push(`${n}: DATABASE_URL password does not match POSTGRES_PASSWORD`);
        if (u.pathname !== '/pipewright') problems.push(`${n}: DATABASE_URL database is ${u.pathname}, not /pipewright`);
      } catch {
        // reported above
      }
    }
  }
  if (names.includes('api')) {
    const api = svcOf('api');
    const port = environment(api).get('PORT');
    if (port === undefined) problems.push('api: no PORT');
    const ports = (Array.isArray(api.ports) ? api.ports : []).map((p) => (isObj(p) ? String(p.target) : String(p).split(':').at(-1)?.replace(/\/tcp$/, '')));
    if (port !== undefined && !ports.includes(String(port))) problems.push(`api: PORT ${String(port)} is not published (ports: ${JSON.stringify(api.ports)})`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

const composeText = readFileSync(COMPOSE_FILE, 'utf8');

describe('docker-compose.yml', () => {
  it('parses as YAML with merge keys and has services and volumes', () => {
    const doc = loadYaml(composeText);
    expect(isObj(doc.services)).toBe(true);
    expect(isObj(doc.volumes)).toBe(true);
  });

  it('is consistent with infra/ and the environment contract', () => {
    expect(checkCompose(loadYaml(composeText), REQUIRED_SERVICES)).toEqual([]);
  });

  it('keeps the GPU worker commented out, and valid once uncommented', () => {
    const plain = loadYaml(composeText);
    expect(Object.keys(isObj(plain.services) ? plain.services : {})).not.toContain('worker-gpu-1');

    const doc = loadYaml(withGpuWorker(composeText));
    expect(checkCompose(doc, [...REQUIRED_SERVICES, 'worker-gpu-1'])).toEqual([]);
    const gpu = (doc.services as Obj)['worker-gpu-1'] as Obj;
    expect(build(gpu)?.target).toBe('worker-gpu');
    expect(commandWords(gpu)).toEqual(expect.arrayContaining(['--queues', 'gpu']));
    const devices = (((gpu.deploy as Obj | undefined)?.resources as Obj | undefined)?.reservations as Obj | undefined)?.devices;
    expect(devices).toEqual([expect.objectContaining({ driver: 'nvidia', capabilities: expect.arrayContaining(['gpu']) })]);
  });
});

describe('infra Dockerfiles', () => {
  it('every Dockerfile referenced by compose defines the required targets properly', () => {
    const doc = loadYaml(withGpuWorker(composeText));
    const services = doc.services as Obj;
    const files = new Set<string>();
    for (const svc of Object.values(services)) {
      const b = isObj(svc) ? build(svc) : undefined;
      if (b) files.add(b.dockerfile);
    }
    expect(files.size).toBeGreaterThan(0);
    const problems: string[] = [];
    const targets = new Set<string>();
    for (const file of files) {
      const df = parseDockerfile(file);
      const used = Object.values(services)
        .map((s) => (isObj(s) ? build(s) : undefined))
        .filter((b) => b?.dockerfile === file && b.target !== undefined)
        .map((b) => b?.target ?? '');
      used.forEach((t) => targets.add(t));
      problems.push(...checkDockerfile(df, [...new Set(used)]));
    }
    expect(problems).toEqual([]);
    // Between them, the Dockerfiles provide all four images.
    expect([...targets].sort()).toEqual(expect.arrayContaining(REQUIRED_TARGETS));
  });

  it('infra/Dockerfile has every target', () => {
    const file = join(INFRA, 'Dockerfile');
    if (!existsSync(file)) return; // one Dockerfile per service instead: covered above
    expect(checkDockerfile(parseDockerfile(file), REQUIRED_TARGETS)).toEqual([]);
  });

  it('.dockerignore keeps node_modules and .git out of the context (COPY . . follows npm ci)', () => {
    const entries = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const e of ['node_modules', '**/node_modules', '.git', '.pipewright', 'test-output', 'coverage']) expect(entries).toContain(e);
  });
});

describe('the checks catch broken files', () => {
  const mutate = (edit: (services: Obj, doc: Obj) => void): string[] => {
    const doc = loadYaml(withGpuWorker(composeText));
    edit(doc.services as Obj, doc);
    return checkCompose(doc, REQUIRED_SERVICES);
  };
  const svc = (services: Obj, name: string): Obj => services[name] as Obj;

  it('a worker with DATABASE_URL', () => {
    const problems = mutate((s) => {
      svc(s, 'worker-cpu-1').environment = { ...(svc(s, 'worker-cpu-1').environment as Obj), DATABASE_URL: 'postgres://postgres/x' };
    });
    expect(problems.join('\n')).toMatch(/worker-cpu-1: a worker gets DATABASE_URL/);
  });

  it('the api without REDIS_URL', () => {
    const problems = mutate((s) => {
      const env = { ...(svc(s, 'api').environment as Obj) };
      delete env.REDIS_URL;
      svc(s, 'api').environment = env;
    });
    expect(problems.join('\n')).toMatch(/api: environment lacks REDIS_URL/);
  });

  it('depends_on an unknown service', () => {
    const problems = mutate((s) => {
      svc(s, 'orchestrator').depends_on = { pg: { condition: 'service_healthy' } };
    });
    expect(problems.join('\n')).toMatch(/orchestrator: depends_on pg, which is not a service/);
  });

  it('an undeclared named volume', () => {
    const problems = mutate((_s, doc) => {
      delete (doc.volumes as Obj).artifacts;
    });
    expect(problems.join('\n')).toMatch(/volume artifacts is not declared/);
  });

  it('a target missing from the Dockerfile, and a Dockerfile outside infra/', () => {
    const problems = mutate((s) => {
      svc(s, 'api').build = { context: '.', dockerfile: 'infra/Dockerfile', target: 'apii' };
      svc(s, 'orchestrator').build = { context: '.', dockerfile: 'Dockerfile.orchestrator', target: 'orchestrator' };
    });
    const text = problems.join('\n');
    expect(text).toMatch(/api: target apii is not a "FROM ... AS apii" stage/);
    expect(text).toMatch(/orchestrator: Dockerfile Dockerfile.orchestrator is not under infra/);
  });

  it('an unquoted {pw} queue prefix and a service_healthy wait on a service without healthcheck', () => {
    const problems = mutate((s) => {
      svc(s, 'api').environment = { ...(svc(s, 'api').environment as Obj), QUEUE_PREFIX: { pw: null } };
      delete svc(s, 'redis').healthcheck;
    });
    const text = problems.join('\n');
    expect(text).toMatch(/api: QUEUE_PREFIX must be a hash-tagged string/);
    expect(text).toMatch(/QUEUE_PREFIX differs between services/);
    expect(text).toMatch(/waits for redis to be healthy, but redis has no healthcheck/);
  });

  it('workers on different artifact volumes', () => {
    const problems = mutate((s, doc) => {
      svc(s, 'worker-cpu-2').volumes = ['other:/data/artifacts'];
      (doc.volumes as Obj).other = null;
    });
    expect(problems.join('\n')).toMatch(/artifact store is not one shared volume/);
  });

  it('a Dockerfile target running as root, without CMD or npm ci', () => {
    const df = parseDockerfile(join(INFRA, 'Dockerfile'));
    const broken: Dockerfile = {
      path: df.path,
      stages: [...df.stages, { index: df.stages.length, name: 'bare', from: 'node:20-bookworm-slim', instructions: [{ op: 'USER', args: 'root' }] }],
    };
    const text = checkDockerfile(broken, ['bare', 'nope']).join('\n');
    expect(text).toMatch(/target bare runs as root/);
    expect(text).toMatch(/target bare has no CMD/);
    expect(text).toMatch(/target bare never runs npm ci/);
    expect(text).toMatch(/no stage "FROM \.\.\. AS nope"/);
  });
});
