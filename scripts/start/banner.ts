import type { StartService } from './settings.js';

/** One line per key: the key, then its scopes ('*' = every scope). */
function keyLines(service: StartService, width: number): string[] {
  return service.developmentKeys.map((k, i) => {
    const scopes = k.scopes.has('*') ? 'every scope' : [...k.scopes].join(', ');
    return `  ${(i === 0 ? service.name : '').padEnd(10)} ${k.key.padEnd(width)}  ${scopes}`;
  });
}

const keyWidth = (services: StartService[]) => Math.max(...services.flatMap((s) => s.developmentKeys.map((k) => k.key.length)));

/** The customer-token lines: the demo customer's development token, or why there is none. */
function tokenLines(options: BannerOptions): string[] {
  if (!options.customerToken) return ['Customer tokens: as JWT_JWKS_FILE / JWT_JWKS_URL configure them (no development token).'];
  return [
    `Customer token for the demo customer ${options.customerId} (development key set deploy/dev-jwks, 12 h;`,
    'refused when NODE_ENV=production; npm run token -- <customer-uuid> mints others):',
    `  ${options.customerToken}`,
  ];
}

export interface BannerOptions {
  seconds: number;
  customerId: string;
  /** A development token for customerId, when npm start turned development tokens on. */
  customerToken?: string;
  ownKeys: boolean;
}

/** What `npm start` prints once every service is SERVING: addresses, keys, the demo customer's token, first calls. */
export function banner(services: StartService[], options: BannerOptions): string {
  const [inventory, order] = services as [StartService, StartService];
  const call = 'npx buf curl --protocol grpc --http2-prior-knowledge';
  const keys = options.ownKeys
    ? ['API keys: the ones in API_KEYS (the development keys are off).']
    : ['Development API keys (refused when NODE_ENV=production):', ...services.flatMap((s) => keyLines(s, keyWidth(services)))];
  return `
Larder is up in ${options.seconds.toFixed(1)} s.

${services.map((s) => `  ${s.name.padEnd(10)}  127.0.0.1:${s.grpcPort}   metrics http://127.0.0.1:${s.metricsPort}/metrics`).join('\n')}
  (gRPC with reflection and grpc.health.v1; no .proto files needed)

${keys.join('\n')}

${tokenLines(options).join('\n')}

Try:
  ${call} -H 'authorization: Bearer dev-storefront-key' -d '{"page_size": 5, "name_contains": "milk"}' \\
      http://127.0.0.1:${inventory.grpcPort}/larder.inventory.v1.InventoryService/ListProducts
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${options.customerId}", "product_id": "<products[0].id from above>", "quantity": 2}' \\
      http://127.0.0.1:${order.grpcPort}/larder.order.v1.CartService/AddCartItem
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${options.customerId}", "idempotency_key": "my-first-order", "payment_token": "tok_ok"}' \\
      http://127.0.0.1:${order.grpcPort}/larder.order.v1.OrderService/Checkout${
        options.customerToken
          ? `
  ${call} -H 'authorization: Bearer ${options.customerToken}' -d '{}' \\
      http://127.0.0.1:${order.grpcPort}/larder.order.v1.OrderService/ListOrders   # customer_id comes from the token`
          : ''
      }
  npm run demo      # a checked tour: checkout, a declined card, a flash sale

Ctrl-C stops everything.`;
}
