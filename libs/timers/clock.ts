/** Now, injected: tests drive reservation expiry, leases and retry times with their own clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
