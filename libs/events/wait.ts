/**
 * A sleep that the owner can cut short: wake() ends an interruptible wait (new
 * work arrived), interrupt() ends any wait (shutting down). A wake() that comes
 * while nobody is waiting is remembered, so work signalled during a round is not
 * left for the next poll.
 */
export interface Waiter {
  /** Resolves after ms, or earlier on interrupt() — and on wake() when interruptible. */
  wait(ms: number, options?: { interruptible?: boolean }): Promise<void>;
  wake(): void;
  interrupt(): void;
  /** Forgets an earlier wake(): call when starting the work that wake() asked for. */
  clearWake(): void;
}

export function createWaiter(): Waiter {
  let woken = false;
  let current: { resolve: () => void; interruptible: boolean; timer: NodeJS.Timeout } | undefined;

  const finish = () => {
    if (!current) return;
    clearTimeout(current.timer);
    const { resolve } = current;
    current = undefined;
    resolve();
  };

  return {
    wait(ms, options = {}) {
      const interruptible = options.interruptible ?? true;
      if (interruptible && woken) {
        woken = false;
        return Promise.resolve();
      }
      finish();
      return new Promise<void>((resolve) => {
        current = { resolve, interruptible, timer: setTimeout(finish, Math.max(0, ms)) };
      });
    },
    wake() {
      if (current?.interruptible) {
        finish();
      } else {
        woken = true;
      }
    },
    interrupt() {
      finish();
    },
    clearWake() {
      woken = false;
    },
  };
}
