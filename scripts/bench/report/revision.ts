import { execFileSync } from 'node:child_process';

/**
 * The commit a run measured, with "+changes" when services/ or libs/ differ
 * from it (a run of uncommitted code should say so); "unknown" outside a git
 * checkout.
 */
export function measuredRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'services', 'libs') ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}
