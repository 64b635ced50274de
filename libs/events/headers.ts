/**
 * Header names shared by the relay (which sets them) and consumers (which read
 * them). Kept in one place so a rename cannot leave one side behind.
 */

/** Set by JetStream from the publish option `msgID`; the event id, used for dedupe on both ends. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Full protobuf message name, so a consumer can decode without guessing from the subject. */
export const EVENT_TYPE_HEADER = 'Larder-Event-Type';

/** The request that caused the event, carried across services for log correlation. */
export const CORRELATION_ID_HEADER = 'X-Correlation-Id';

/** Why a message was moved to the dead-letter subject (the last handler error). */
export const DEAD_LETTER_REASON_HEADER = 'Larder-Dead-Letter-Reason';

/** Which durable consumer gave up on the message: the same event can fail in one consumer and not another. */
export const DEAD_LETTER_CONSUMER_HEADER = 'Larder-Dead-Letter-Consumer';

/** Header values cannot hold CR/LF (they would break the NATS header block); long errors are cut. */
export function toHeaderValue(text: string, maxLength = 500): string {
  const flat = text.replace(/[\r\n]+/g, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}
