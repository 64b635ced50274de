import { connect, type NatsConnection } from 'nats';
import type { Logger } from '#libs/logging/logger.js';

/**
 * Connects to NATS in the background and keeps reconnecting forever: a broker
 * outage must not stop a service from serving (the outbox holds events until
 * it is back). Resolves once the first connection is up.
 *
 * `servers` is one server or every server of a cluster. The client picks one
 * and, when that one goes away, reconnects to another of them (or to one the
 * cluster announced meanwhile), so losing a node costs a reconnect, not the
 * connection; JetStream calls made while the cluster elects new leaders fail
 * or time out, and the relay and consumers retry them.
 */
export function connectNats(servers: readonly string[], name: string, logger: Logger): Promise<NatsConnection> {
  return connect({
    servers: [...servers],
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish) captures a stack trace up
    // front, only to append it to a timeout's message: measurable CPU per event.
    noAsyncTraces: true,
  }).then((nc) => {
    logger.info({ servers, server: nc.getServer() }, 'connected to NATS');
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect')
          logger.warn({ servers, server: status.data, status: status.type }, 'NATS connection changed');
      }
    })();
    return nc;
  });
}
