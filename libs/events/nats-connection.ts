import { connect, type NatsConnection } from 'nats';
import type { Logger } from '#libs/logging/logger.js';

/**
 * Connects to NATS in the background and keeps reconnecting forever: a broker
 * outage must not stop a service from serving (the outbox holds events until
 * it is back). Resolves once the first connection is up.
 */
export function connectNats(url: string, name: string, logger: Logger): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish) captures a stack trace up
    // front, only to append it to a timeout's message: measurable CPU per event.
    noAsyncTraces: true,
  }).then((nc) => {
    logger.info({ url }, 'connected to NATS');
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect')
          logger.warn({ url, status: status.type }, 'NATS connection changed');
      }
    })();
    return nc;
  });
}
