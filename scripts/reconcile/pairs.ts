/**
 * Walks both tables in key order, a page at a time (keyset: WHERE id > last),
 * and pairs each order with the reservation under its id, as a merge join of
 * two sorted streams: memory holds one page of each side, whatever the size.
 * Both keys are uuid columns, which PostgreSQL orders byte by byte, the order
 * of their lower-case text forms as JavaScript compares them.
 */

/** Rows of one table in key order, `pageSize` per read, until a short page. */
export async function* keysetRows<T>(
  readPage: (after: string | undefined, limit: number) => Promise<T[]>,
  keyOf: (row: T) => string,
  pageSize: number,
): AsyncGenerator<T> {
  let after: string | undefined;
  for (;;) {
    const rows = await readPage(after, pageSize);
    yield* rows;
    if (rows.length < pageSize) return;
    after = keyOf(rows[rows.length - 1]!);
  }
}

/** Pairs rows of two key-ordered streams by key: both, or the one side that exists. */
export async function* mergeByKey<L, R>(
  left: AsyncIterator<L>,
  right: AsyncIterator<R>,
  leftKey: (row: L) => string,
  rightKey: (row: R) => string,
): AsyncGenerator<{ left?: L; right?: R }> {
  let l = await left.next();
  let r = await right.next();
  while (!l.done || !r.done) {
    if (r.done || (!l.done && leftKey(l.value) < rightKey(r.value))) {
      yield { left: l.value as L };
      l = await left.next();
    } else if (l.done || rightKey(r.value) < leftKey(l.value)) {
      yield { right: r.value };
      r = await right.next();
    } else {
      yield { left: l.value, right: r.value };
      [l, r] = await Promise.all([left.next(), right.next()]);
    }
  }
}

/** Groups a stream into arrays of at most `size`. */
export async function* chunks<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of source) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
