import { AppError } from '#libs/errors/app-error.js';
import type { CallContext } from '#libs/grpc/call-context.js';
import * as v from '#libs/validation/fields.js';

/**
 * Which customer a request acts for. An API key acts for anyone and must name
 * the customer (`field` required). A customer's token acts only for its own
 * `sub`: `field` may be left empty, and naming another customer is refused.
 */
export function actingCustomer(ctx: CallContext, field: string, given: string | undefined): string {
  if (ctx.subject === undefined) return v.requireUuid(field, given);
  if (!given) return ctx.subject;
  const customerId = v.requireUuid(field, given);
  if (customerId !== ctx.subject) {
    throw new AppError('permissionDenied', `${field}: a customer token may act only for its own customer`, {
      field,
      reason: 'CUSTOMER_MISMATCH',
    });
  }
  return customerId;
}
