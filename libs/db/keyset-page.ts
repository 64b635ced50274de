/**
 * Keyset pages are read with one row more than the page size: that extra row
 * says whether another page exists without a count. Returns the page and, when
 * more follow, the key of its last row to continue after.
 */
export function splitPage<T, K>(rows: readonly T[], pageSize: number, keyOf: (row: T) => K): { page: T[]; nextKey?: K } {
  const page = rows.slice(0, pageSize);
  return { page, nextKey: rows.length > pageSize ? keyOf(page[page.length - 1]!) : undefined };
}
