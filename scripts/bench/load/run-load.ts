import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GeneratorMessage, LoadResult, LoadSpec } from './spec.js';

const GENERATOR = fileURLToPath(new URL('./generator.ts', import.meta.url));

export interface LoadHooks {
  /** Runs once the generator is connected, right before its warm-up starts. */
  beforeGo?: () => Promise<void>;
}

/**
 * Runs one load case in a generator process of its own and resolves to its
 * result. Bounded: the process is killed if it has not answered well after its
 * window.
 */
export function runLoad(spec: LoadSpec, hooks: LoadHooks = {}): Promise<LoadResult> {
  const child = fork(GENERATOR, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const limitMs = (spec.warmupSeconds + spec.seconds + 60) * 1000;
  return new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator for ${spec.path} gave no result within ${limitMs / 1000} s`));
    }, limitMs);
    child.on('message', (message: GeneratorMessage) => {
      if (message.type === 'ready') {
        (hooks.beforeGo ?? (async () => undefined))()
          .then(() => child.send('go'))
          .catch((error: unknown) => {
            child.kill('SIGKILL');
            reject(error as Error);
          });
      } else if (message.type === 'result') resolve(message.result);
      else reject(new Error(`load generator for ${spec.path}: ${message.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`load generator exited (${signal ?? code}) without a result`));
    });
    child.send(spec);
  });
}
