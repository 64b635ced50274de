import { writeSync } from 'node:fs';

/**
 * Named places where a test can have a service process die at once, to prove
 * that a crash exactly there loses, doubles and charges nothing. Each name is
 * a moment between two effects that must both happen (or be resumed) after a
 * restart. Set with LARDER_CRASH_AT (test-only; refused in production).
 */
export const CRASH_POINTS = {
  'reserve-answered': 'order saga: ReserveStock answered, before the order records the reservation',
  'payment-captured': 'order saga: the gateway captured the charge, before the order records it or commits the stock',
  'order-confirmed': 'order saga: the CONFIRMED change committed, before the relay publishes its outbox row',
  'relay-mid-batch': 'outbox relay: part of a batch acknowledged by JetStream, none of it marked published',
  'consumer-after-commit': 'inbox consumer: the effect committed, before the message is acknowledged',
  'transfer-mid-transaction': 'inventory transfers: stock moved and the ledger written, before the transaction commits',
} as const;

export type CrashPoint = keyof typeof CRASH_POINTS;

/** Die the `hit`-th time `point` is reached (1 = the first time). */
export interface CrashSetting {
  point: CrashPoint;
  hit: number;
}

/** What production code calls at a crash point; does nothing unless this process was told to die there. */
export interface CrashPoints {
  reached(point: CrashPoint): void;
}

export const noCrashPoints: CrashPoints = { reached: () => undefined };

const isCrashPoint = (name: string): name is CrashPoint => Object.hasOwn(CRASH_POINTS, name);

/** Parses `<point>` or `<point>:<hit>`; throws an Error whose message says what is wrong and what is allowed. */
export function parseCrashSetting(text: string): CrashSetting {
  const [name = '', hitText, ...rest] = text.trim().split(':');
  if (!isCrashPoint(name) || rest.length > 0)
    throw new Error(`must be <point>[:<hit>] with a point among ${Object.keys(CRASH_POINTS).join(', ')} (got "${text}")`);
  if (hitText === undefined) return { point: name, hit: 1 };
  const hit = Number(hitText);
  if (!/^\d+$/.test(hitText) || !Number.isSafeInteger(hit) || hit < 1)
    throw new Error(`the hit after "${name}:" must be a whole number ≥ 1 (got "${hitText}")`);
  return { point: name, hit };
}

/**
 * Crash points for one process. At the chosen hit it writes one line to stderr
 * (synchronously: nothing after it runs) and sends itself SIGKILL, so no
 * cleanup, no flush and no graceful stop can hide what a real crash leaves.
 */
export function crashPoints(setting: CrashSetting | undefined, kill: () => void = () => process.kill(process.pid, 'SIGKILL')): CrashPoints {
  if (!setting) return noCrashPoints;
  let hits = 0;
  return {
    reached(point) {
      if (point !== setting.point) return;
      hits += 1;
      if (hits !== setting.hit) return;
      writeSync(2, `larder: crash point ${point} reached (hit ${hits}); killing the process (LARDER_CRASH_AT)\n`);
      kill();
    },
  };
}
