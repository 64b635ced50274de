/**
 * Per-process coalescing of concurrent calls by natural batching: while a
 * batch is in the database, the calls that arrive collect in the queue, and the
 * next batch takes up to `maxBatch` of them in arrival order. No timer: a call
 * that finds a free slot goes at once, so an idle service adds no latency.
 * The inventory batches ReserveStock, CommitReservation and ReleaseReservation
 * with it (services/inventory/app.ts).
 *
 * `run` handles one batch in one statement and returns a verdict per member (e.g.
 * the inventory's reserveBatch). If the statement fails, nothing of it was
 * written, and each member is run again alone in arrival order: the member
 * that breaks fails alone and the rest commit. A statement that answers with
 * more or fewer verdicts than members is a bug in `run`: every member of that
 * batch fails (nothing is run again, since the statement did commit).
 */
export interface NaturalBatchesOptions<M, V> {
  run(members: readonly M[]): Promise<V[]>;
  /** Most members in one statement (e.g. RESERVE_BATCH_MAX). */
  maxBatch: number;
  /** Batches in the database at once, each on its own pooled connection (e.g. RESERVE_BATCHES_IN_FLIGHT). */
  maxInFlight: number;
}

export interface NaturalBatches<M, V> {
  submit(member: M): Promise<V>;
  /** Calls waiting for a batch plus those in one (for tests and metrics). */
  readonly pending: number;
}

interface Waiting<M, V> {
  member: M;
  resolve(verdict: V): void;
  reject(error: unknown): void;
}

export function naturalBatches<M, V>(options: NaturalBatchesOptions<M, V>): NaturalBatches<M, V> {
  const queue: Waiting<M, V>[] = [];
  let inFlight = 0;
  let inBatches = 0;

  const pump = () => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      inFlight += 1;
      inBatches += batch.length;
      void runBatch(batch).finally(() => {
        inFlight -= 1;
        inBatches -= batch.length;
        pump();
      });
    }
  };

  async function runBatch(batch: Waiting<M, V>[]): Promise<void> {
    let verdicts: V[];
    try {
      verdicts = await options.run(batch.map((w) => w.member));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const waiting of batch) {
        await options.run([waiting.member]).then(
          (alone) => settle([waiting], alone),
          (alone: unknown) => waiting.reject(alone),
        );
      }
      return;
    }
    settle(batch, verdicts);
  }

  return {
    submit(member) {
      const verdict = new Promise<V>((resolve, reject) => queue.push({ member, resolve, reject }));
      pump();
      return verdict;
    },
    get pending() {
      return queue.length + inBatches;
    },
  };
}

/** One verdict per member, by position; a count that does not match fails them all rather than hand out undefined. */
function settle<M, V>(batch: readonly Waiting<M, V>[], verdicts: readonly V[]): void {
  if (verdicts.length !== batch.length) {
    const error = new Error(`a batch of ${batch.length} members got ${verdicts.length} verdicts from its statement`);
    for (const waiting of batch) waiting.reject(error);
    return;
  }
  batch.forEach((waiting, i) => waiting.resolve(verdicts[i]!));
}
