import type { Logger } from '#libs/logging/logger.js';

export interface UntilStartedOptions {
  /** What the step starts, for the log line of each failed attempt. */
  what: string;
  logger: Logger;
  /** True once the process is stopping: no more attempts. */
  stopping: () => boolean;
  /** Errors that another attempt cannot cure (a setting the server refuses); thrown at once. */
  fatal?: (error: unknown) => boolean;
  /** The longest wait between attempts; they start at 250 ms and double. */
  maxDelayMs?: number;
}

/**
 * Runs a start-up step against NATS (the streams, a durable consumer) until it
 * succeeds. A broker still starting, or a cluster electing a stream leader,
 * answers TIMEOUT or 503 for a while; a service that gave up then would serve
 * on with no relay or consumers, and its health would not show it (it answers
 * from PostgreSQL). So it tries again, logging each failure, until the process
 * stops.
 */
export async function untilStarted<T>(step: () => Promise<T>, options: UntilStartedOptions): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (options.stopping() || options.fatal?.(error)) throw error;
      const retryInMs = Math.min(maxDelayMs, 250 * 2 ** Math.min(attempt - 1, 10));
      options.logger.warn({ err: error, attempt, retryInMs }, `${options.what} could not start; trying again`);
      // Unref'd: a process that is otherwise done does not wait for the next attempt.
      await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
      if (options.stopping()) throw new Error(`stopped before ${options.what} started`, { cause: error });
    }
  }
}
