/**
 * mulberry32: a small seeded PRNG returning [0, 1), so a randomised test can be
 * replayed with its seed. (A textbook LCG in plain numbers is not a substitute:
 * its products pass 2^53 and lose their low bits, so `% n` stops being random.)
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded whole number in [0, n). */
export function seededInts(seed: number): (n: number) => number {
  const random = seededRandom(seed);
  return (n) => Math.floor(random() * n);
}
