import type {
  Fulfilment as FulfilmentMessage,
  ShippingAddress as ShippingAddressMessage,
} from '#libs/contracts/larder/order/v1/resources.js';
import { invalid } from '#libs/errors/app-error.js';
import * as v from '#libs/validation/fields.js';
import { latLng, postalCode } from '#libs/validation/geo.js';
import type { Fulfilment, ShippingAddress } from '../domain/types.js';

/** Validators for order requests, naming fields by their proto paths. */

export const idempotencyKey = (value: string | undefined) => v.text('idempotency_key', value, { min: 1, max: 128 });

export function paymentToken(value: string | undefined): string {
  const token = v.text('payment_token', value, { min: 1, max: 200 });
  if (!/^[A-Za-z0-9_.:-]+$/.test(token)) throw invalid('payment_token', 'may only contain letters, digits, "_", ".", ":" and "-"');
  return token;
}

export function shippingAddress(field: string, value: ShippingAddressMessage | undefined, required = false): ShippingAddress | undefined {
  if (!value) {
    if (required) throw invalid(field, 'is required');
    return undefined;
  }
  const country = v.text(`${field}.country_code`, value.countryCode, { min: 1, max: 2 });
  if (!/^[A-Z]{2}$/.test(country)) throw invalid(`${field}.country_code`, 'must be two upper-case letters (ISO 3166-1 alpha-2)');
  return {
    recipient: v.text(`${field}.recipient`, value.recipient, { min: 1, max: 200 }),
    line1: v.text(`${field}.line1`, value.line1, { min: 1, max: 200 }),
    line2: v.text(`${field}.line2`, value.line2, { max: 200 }),
    city: v.text(`${field}.city`, value.city, { min: 1, max: 100 }),
    postalCode: v.text(`${field}.postal_code`, value.postalCode, { min: 1, max: 20 }),
    countryCode: country,
  };
}

/**
 * A fulfilment, when given: a delivery needs an address (the shipping
 * address's rules, and a postal code routing can match: 1-16 letters, digits,
 * spaces or '-') and may have coordinates; a pickup needs its location's UUID.
 * A fulfilment message with neither is refused: leave the field unset instead.
 */
export function fulfilment(field: string, value: FulfilmentMessage | undefined): Fulfilment | undefined {
  if (!value) return undefined;
  if (value.pickup) return { kind: 'pickup', locationId: v.requireUuid(`${field}.pickup.location_id`, value.pickup.locationId) };
  if (!value.delivery) throw invalid(field, 'must be a delivery or a pickup (leave it unset for neither)');
  const path = `${field}.delivery`;
  const address = shippingAddress(`${path}.address`, value.delivery.address, true)!;
  address.postalCode = postalCode(`${path}.address.postal_code`, address.postalCode, { required: true })!;
  const at = latLng(`${path}.coordinates`, value.delivery.coordinates);
  return { kind: 'delivery', address, ...(at ? { coordinates: at } : {}) };
}

export function orderItems(values: readonly { productId: string; quantity: number }[] | undefined) {
  const items = v.listSize('items', values, { min: 1, max: 100 });
  const seen = new Set<string>();
  return items.map((item, index) => {
    const productId = v.requireUuid(`items[${index}].product_id`, item.productId);
    if (seen.has(productId)) throw invalid(`items[${index}].product_id`, `repeats product ${productId}; list each product once`);
    seen.add(productId);
    return { productId, quantity: v.integer(`items[${index}].quantity`, item.quantity, { min: 1, max: 1000 }) };
  });
}
