import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * The container files (docker-compose.yml, the services' Dockerfiles,
 * .dockerignore) parsed well enough for static checks without a Docker engine,
 * plus a way to lay out what a build stage copies into a directory, to
 * type-check and run those files as the image holds them.
 * Used by services/<service>/test/containers.test.ts through container-checks.ts.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// ---------- docker-compose.yml ----------

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { target: string })[];
  restart?: string;
  stop_grace_period?: string;
}

/** A command or test in either of compose's forms, as words. */
export const words = (command: string | string[] | undefined): string[] =>
  command === undefined ? [] : Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);

export interface Compose {
  services: Record<string, ComposeService>;
  service(name: string): ComposeService;
  /** A service's environment as strings, whichever of compose's two forms it uses. */
  environment(name: string): Record<string, string>;
  /** The build context and the Dockerfile's path from the repository root. */
  build(name: string): { context: string; dockerfile: string };
  /** Published and target container ports. */
  ports(name: string): { published: number; target: number }[];
  /** Each dependency with its condition (undefined in the short form). */
  dependsOn(name: string): Record<string, string | undefined>;
}

export function loadCompose(path = 'docker-compose.yml'): Compose {
  const services = (parseYaml(readRepoFile(path)) as { services?: Record<string, ComposeService> }).services ?? {};
  const service = (name: string): ComposeService => {
    const found = services[name];
    if (!found) throw new Error(`${path} has no service "${name}"`);
    return found;
  };
  return {
    services,
    service,
    environment(name) {
      const env = service(name).environment ?? {};
      if (Array.isArray(env)) {
        return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]));
      }
      return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
    },
    build(name) {
      const spec = service(name).build;
      if (spec === undefined) throw new Error(`service "${name}" has no build`);
      const context = typeof spec === 'string' ? spec : (spec.context ?? '.');
      const dockerfile = typeof spec === 'string' ? 'Dockerfile' : (spec.dockerfile ?? 'Dockerfile');
      return { context, dockerfile: posix.join(context, dockerfile) };
    },
    ports(name) {
      return (service(name).ports ?? []).map((port) => {
        if (typeof port === 'object') return { published: Number(port.published ?? port.target), target: Number(port.target) };
        const parts = String(port)
          .replace(/\/(tcp|udp)$/, '')
          .split(':');
        const target = Number(parts.at(-1));
        return { published: parts.length > 1 ? Number(parts.at(-2)) : target, target };
      });
    },
    dependsOn(name) {
      const spec = service(name).depends_on ?? {};
      if (Array.isArray(spec)) return Object.fromEntries(spec.map((dep) => [dep, undefined]));
      return Object.fromEntries(Object.entries(spec).map(([dep, { condition } = {}]) => [dep, condition]));
    },
  };
}

/** Every environment variable a service's configuration code reads: `reader('NAME'` calls in its source. */
export function variablesReadByCode(files: readonly string[]): Set<string> {
  const sources = files.map(readRepoFile).join('\n');
  return new Set([...sources.matchAll(/\b\w+\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
}

// ---------- Dockerfiles ----------

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name?: string;
  image: string;
  workdir: string;
  instructions: Instruction[];
}

export interface Copy {
  /** The stage it copies from (--from=), or undefined for the build context. */
  from?: string;
  /** Normalized: relative to the context, or to the source stage's WORKDIR; no trailing slash. */
  sources: string[];
  /** As written. */
  destination: string;
}

export interface Dockerfile {
  path: string;
  stages: Stage[];
  final: Stage;
  inFinal(keyword: string): Instruction[];
  copies(stage: Stage): Copy[];
  /** ENV of the final stage. */
  env(): Record<string, string>;
  /** EXPOSEd ports of the final stage, without /tcp. */
  exposed(): string[];
  /** The final CMD (exec form). */
  cmd(): string[];
  /** The HEALTHCHECK's command (exec form), or undefined. */
  healthcheck(): string[] | undefined;
  /** The final stage's last USER, without the group. */
  user(): string | undefined;
}

function parseStages(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ image, name, workdir: '/', instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${upper} before FROM`);
    if (upper === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args);
    stage.instructions.push({ keyword: upper, args });
  }
  return stages;
}

export function loadDockerfile(path: string): Dockerfile {
  const stages = parseStages(readRepoFile(path));
  const final = stages.at(-1);
  if (!final) throw new Error(`${path} has no FROM`);
  const inFinal = (keyword: string): Instruction[] => final.instructions.filter((i) => i.keyword === keyword);
  const copies = (stage: Stage): Copy[] =>
    stage.instructions
      .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
      .map(({ args }) => {
        const tokens = args.split(/\s+/);
        const flags = tokens.filter((t) => t.startsWith('--'));
        const rest = tokens.filter((t) => !t.startsWith('--')).join(' ');
        const paths = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        const sources = paths.slice(0, -1).map((p) => {
          const relative = from ? posix.relative(stages.find((s) => s.name === from)?.workdir ?? '/', posix.resolve('/', p)) : p;
          return posix.normalize(relative).replace(/\/$/, '').replace(/^\.\//, '');
        });
        return { from, sources, destination: paths.at(-1)! };
      });
  return {
    path,
    stages,
    final,
    inFinal,
    copies,
    env: () =>
      Object.fromEntries(
        inFinal('ENV').flatMap((i) =>
          [...i.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/"/g, '')]),
        ),
      ),
    exposed: () => inFinal('EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => p.replace(/\/tcp$/, ''))),
    cmd: () => JSON.parse(inFinal('CMD').at(-1)?.args ?? '[]') as string[],
    healthcheck() {
      const args = inFinal('HEALTHCHECK').at(-1)?.args;
      return args === undefined ? undefined : (JSON.parse(args.slice(args.indexOf('CMD') + 3).trim()) as string[]);
    },
    user: () => inFinal('USER').at(-1)?.args.split(':')[0],
  };
}

// ---------- .dockerignore ----------

export const DOCKERIGNORE: readonly string[] = readRepoFile('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

/** A .dockerignore pattern as a regular expression: `*` and `?` within a segment, `**` across segments. */
function patternRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i += 1;
      if (pattern[i + 1] === '/') {
        i += 1;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether .dockerignore leaves `path` (relative to the context) out, as Docker
 * decides: a pattern matching the path or any folder above it excludes it, a
 * later `!pattern` brings it back. No `[...]` classes.
 */
export function ignoredByDocker(path: string, patterns: readonly string[] = DOCKERIGNORE): boolean {
  const parts = path.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const line of patterns) {
    const negated = line.startsWith('!');
    const pattern = posix
      .normalize(negated ? line.slice(1).trim() : line)
      .replace(/^\/+/, '')
      .replace(/\/+$/, '');
    const regex = patternRegex(pattern);
    if (selfAndParents.some((p) => regex.test(p))) ignored = !negated;
  }
  return ignored;
}

/**
 * Lays out in `into` what `stageName`'s COPY instructions take from the build
 * context (paths under its WORKDIR), as Docker would: .dockerignore applied,
 * `dir/ dest/` copying the folder's contents. RUN steps are not run (link
 * node_modules yourself); wildcard sources are not supported.
 */
export function assembleStage(dockerfile: Dockerfile, stageName: string, into: string): void {
  const stage = dockerfile.stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`${dockerfile.path} has no stage "${stageName}"`);
  const kept = (path: string) => !ignoredByDocker(relative(ROOT, path).split(sep).join('/'));
  for (const copy of dockerfile.copies(stage).filter((c) => !c.from)) {
    const destination = posix.relative(stage.workdir, posix.resolve(stage.workdir, copy.destination));
    if (destination.startsWith('..')) throw new Error(`COPY … ${copy.destination} leaves WORKDIR ${stage.workdir}`);
    const intoFolder = copy.sources.length > 1 || copy.destination.endsWith('/');
    for (const source of copy.sources) {
      if (/[*?[]/.test(source)) throw new Error(`COPY ${source}: wildcards are not supported here`);
      const from = join(ROOT, source);
      if (!kept(from)) continue;
      if (statSync(from).isDirectory()) {
        cpSync(from, join(into, destination), { recursive: true, filter: kept });
      } else {
        const target = intoFolder ? join(into, destination, posix.basename(source)) : join(into, destination);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(from, target);
      }
    }
  }
}

// ---------- processes ----------

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node …args` to its end (SIGKILL and a rejection after timeoutMs). */
export function runNode(
  args: readonly string[],
  { cwd = ROOT, env = process.env, timeoutMs = 20_000 }: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not exit within ${timeoutMs} ms (stdout: ${stdout}, stderr: ${stderr})`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}
