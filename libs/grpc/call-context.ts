import { randomUUID } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from '#libs/logging/logger.js';

/** What a handler knows about the call besides its request. */
export interface CallContext {
  /** From `x-request-id` metadata, or generated: ties logs, events and downstream calls together. */
  correlationId: string;
  /** Name of the API key that made the call, or `token:<subject>` for an end-user token. */
  caller: string;
  /** The verified subject (`sub`) of the caller's end-user token; absent when an API key made the call. */
  subject?: string;
  /** Logger bound to method, caller and correlation id. */
  logger: Logger;
  /** When the caller stops waiting, if it set a deadline. */
  deadline?: Date;
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's correlation id if it is sane (it goes into logs and headers), else makes one. */
export function correlationIdFrom(metadata: Metadata): string {
  const given = metadata.get('x-request-id')[0];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}
