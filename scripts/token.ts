/**
 * `npm run token -- <customer-uuid> [scopes]`: prints a development customer
 * token (deploy/dev-jwks; accepted by an order service started by npm start,
 * refused in production). Scopes are comma- or space-separated, default all
 * customer scopes: carts, orders.read, orders.write.
 */
import { isUuid } from '#libs/ids/uuid.js';
import { CUSTOMER_SCOPES } from '../services/order/operator.js';
import { mintDevToken } from './token/dev-token.js';

const [customerId, ...scopeArgs] = process.argv.slice(2);
const scopes = scopeArgs.flatMap((arg) => arg.split(/[,\s]+/)).filter(Boolean);
const unknown = scopes.filter((scope) => !CUSTOMER_SCOPES.includes(scope));
if (!customerId || !isUuid(customerId) || unknown.length > 0) {
  console.error(
    `usage: npm run token -- <customer-uuid> [scopes]   (scopes from ${CUSTOMER_SCOPES.join(', ')})` +
      (unknown.length ? `\nunknown scope: ${unknown.join(', ')}` : ''),
  );
  process.exit(2);
}
console.log(await mintDevToken(customerId.toLowerCase(), scopes.length ? { scopes } : {}));
