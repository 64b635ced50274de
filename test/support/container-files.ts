import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { runProcess, type Run } from './run-process.js';

/**
 * The container files (docker-compose.yml, the Dockerfile, .dockerignore)
 * parsed well enough for static checks without a Docker engine, plus a way to
 * lay out what a stage copies into a directory (from the context or from an
 * earlier stage's directory), to build and run those files as the image holds them.
 * Used by services/<service>/test/containers.test.ts through container-checks.ts.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

// ---------- docker-compose.yml ----------

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string | number | null> | string[] };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { target: string })[];
  restart?: string;
  stop_grace_period?: string;
  /** Compose profiles: a service with any runs only when one is asked for (`--profile monitoring`). */
  profiles?: string[];
}

/** A command or test in either of compose's forms, as words. */
export const words = (command: string | string[] | undefined): string[] =>
  command === undefined ? [] : Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);

export interface Compose {
  services: Record<string, ComposeService>;
  service(name: string): ComposeService;
  /** A service's environment as strings, whichever of compose's two forms it uses. */
  environment(name: string): Record<string, string>;
  /** The build context, the Dockerfile's path from the repository root, and the build args. */
  build(name: string): { context: string; dockerfile: string; args: Record<string, string> };
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
      const raw = typeof spec === 'string' ? {} : (spec.args ?? {});
      const args = Array.isArray(raw)
        ? Object.fromEntries(raw.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]))
        : Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, value === null ? '' : String(value)]));
      return { context, dockerfile: posix.join(context, dockerfile), args };
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
  /** The FROM image as resolved with the build args: an image, or an earlier stage's name. */
  image: string;
  /** The earlier stage it builds on (FROM <stage>), if any. */
  parent?: string;
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
  /** ARGs declared before the first FROM, with their defaults ('' when none). */
  globalArgs: Record<string, string>;
  stages: Stage[];
  /** The last stage: the image. */
  final: Stage;
  /** A stage and every stage it builds on, base first. */
  lineage(stage: Stage): Stage[];
  /** The final stage's instructions with `keyword`, those it inherits included. */
  inFinal(keyword: string): Instruction[];
  copies(stage: Stage): Copy[];
  /** ENV of the final stage (inherited included). */
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

/** `$NAME` and `${NAME}` replaced from `values`; throws for a name without a value, as a blank FROM fails the build. */
function substitute(text: string, values: Record<string, string>, where: string): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = values[name];
    if (value === undefined || value === '') throw new Error(`${where}: build arg ${name} has no value`);
    return value;
  });
}

function parseStages(
  text: string,
  path: string,
  buildArgs: Record<string, string>,
): { globalArgs: Record<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [written = '', , name] = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const image = substitute(written, { ...globalArgs, ...buildArgs }, `${path}: FROM ${written}`);
      const parent = stages.find((s) => s.name === image);
      stages.push({ image, name, parent: parent?.name, workdir: parent?.workdir ?? '/', instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (upper !== 'ARG') throw new Error(`${path}: ${upper} before FROM`);
      const [argName = '', value = ''] = args.split('=');
      globalArgs[argName.trim()] = value.trim();
      continue;
    }
    if (upper === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, args);
    stage.instructions.push({ keyword: upper, args });
  }
  return { globalArgs, stages };
}

/** `path`, parsed with `buildArgs` (as `--build-arg`) resolving the FROM lines. */
export function loadDockerfile(path: string, buildArgs: Record<string, string> = {}): Dockerfile {
  const { globalArgs, stages } = parseStages(readRepoFile(path), path, buildArgs);
  const final = stages.at(-1);
  if (!final) throw new Error(`${path} has no FROM`);
  const lineage = (stage: Stage): Stage[] => {
    const parent = stage.parent === undefined ? undefined : stages.find((s) => s.name === stage.parent);
    return parent ? [...lineage(parent), stage] : [stage];
  };
  const inFinal = (keyword: string): Instruction[] =>
    lineage(final)
      .flatMap((stage) => stage.instructions)
      .filter((i) => i.keyword === keyword);
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
    globalArgs,
    stages,
    final,
    lineage,
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
 * Lays out in `into` what `stageName`'s COPY instructions copy (paths under its
 * WORKDIR), as Docker would: from the build context with .dockerignore applied,
 * or `--from=<stage>` out of `stageDirs[stage]` (that stage's WORKDIR laid out
 * by an earlier call); `dir/ dest/` copies the folder's contents. RUN steps are
 * not run (link node_modules yourself); wildcard sources are not supported.
 */
export function assembleStage(dockerfile: Dockerfile, stageName: string, into: string, stageDirs: Record<string, string> = {}): void {
  const stage = dockerfile.stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`${dockerfile.path} has no stage "${stageName}"`);
  const kept = (path: string) => !ignoredByDocker(relative(ROOT, path).split(sep).join('/'));
  for (const copy of dockerfile.copies(stage)) {
    const destination = posix.relative(stage.workdir, posix.resolve(stage.workdir, copy.destination));
    if (destination.startsWith('..')) throw new Error(`COPY … ${copy.destination} leaves WORKDIR ${stage.workdir}`);
    const base = copy.from === undefined ? ROOT : stageDirs[copy.from];
    if (base === undefined) throw new Error(`COPY --from=${copy.from}: no directory given for stage ${copy.from}`);
    const filter = copy.from === undefined ? kept : () => true;
    const intoFolder = copy.sources.length > 1 || copy.destination.endsWith('/');
    for (const source of copy.sources) {
      if (/[*?[]/.test(source)) throw new Error(`COPY ${source}: wildcards are not supported here`);
      if (source.startsWith('..')) throw new Error(`COPY --from=${copy.from} ${source}: outside the stage's WORKDIR`);
      const from = join(base, source);
      if (!filter(from)) continue;
      if (statSync(from).isDirectory()) {
        cpSync(from, join(into, destination), { recursive: true, filter });
      } else {
        const target = intoFolder ? join(into, destination, posix.basename(source)) : join(into, destination);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(from, target);
      }
    }
  }
}

/**
 * What `npm ci --omit=dev` installs, as symlinks into the repository's
 * node_modules: every top-level package package-lock.json does not mark dev.
 * Code under `into` then finds no devDependency (tsx, typescript, mocha…); the
 * linked packages resolve their own dependencies where they really are.
 */
export function linkProductionModules(into: string): string[] {
  const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { dev?: boolean }> };
  const names = Object.entries(lock.packages)
    .filter(
      ([path, entry]) => path.startsWith('node_modules/') && !path.slice('node_modules/'.length).includes('node_modules/') && !entry.dev,
    )
    .map(([path]) => path.slice('node_modules/'.length))
    .filter((name) => existsSync(join(ROOT, 'node_modules', name)));
  for (const name of names) {
    mkdirSync(dirname(join(into, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(into, 'node_modules', name), 'dir');
  }
  return names;
}

// ---------- processes ----------

/** Runs `node …args` to its end (SIGKILL and a rejection after timeoutMs). */
export const runNode = (
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> => runProcess(process.execPath, args, options);
