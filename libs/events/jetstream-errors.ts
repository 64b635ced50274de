import { NatsError } from 'nats';

/**
 * True when a JetStream API call failed because the stream or consumer does not
 * exist (HTTP-like 404 in the API reply), as opposed to the broker being down.
 * Only this case should lead to "create it"; anything else must propagate.
 */
export function isJetStreamNotFound(err: unknown): boolean {
  return err instanceof NatsError && err.api_error?.code === 404;
}

/**
 * True when the JetStream API answered and refused the request (an API error
 * other than 503): asking again will not help. A TIMEOUT, no responders, or a
 * 503 while a leader is being elected are not refusals: those pass.
 */
export function isJetStreamRefusal(err: unknown): boolean {
  return err instanceof NatsError && err.api_error !== undefined && err.api_error.code !== 503;
}
