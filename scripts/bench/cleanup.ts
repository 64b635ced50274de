/**
 * Everything a bench case starts (databases, processes, NATS) is registered
 * here and undone in reverse order when the case ends, when it fails, and when
 * the run is interrupted (Ctrl-C, SIGTERM), so no throwaway database outlives
 * the run.
 */
type Undo = () => Promise<unknown>;

const pending: Undo[] = [];

/** Registers an undo step; returns a function that runs it now (and unregisters it). */
export function onCleanup(undo: Undo): () => Promise<void> {
  pending.push(undo);
  return async () => {
    const index = pending.lastIndexOf(undo);
    if (index < 0) return;
    pending.splice(index, 1);
    await undo().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
  };
}

/** Runs `body` with a scope of its own: whatever it registered through `defer` is undone after it, success or failure. */
export async function withCleanup<T>(body: (defer: (undo: Undo) => void) => Promise<T>): Promise<T> {
  const mine: (() => Promise<void>)[] = [];
  try {
    return await body((undo) => mine.push(onCleanup(undo)));
  } finally {
    for (const run of mine.reverse()) await run();
  }
}

async function runAll(): Promise<void> {
  while (pending.length > 0) {
    const undo = pending.pop()!;
    await undo().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
  }
}

/** On SIGINT/SIGTERM: undo everything still registered, then exit. */
export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: dropping the bench's databases and stopping its processes…`);
      void runAll().finally(() => process.exit(130));
    });
  }
}
