import type { StartService } from './settings.js';

/** One line per key: the key, then its scopes ('*' = every scope). */
function keyLines(service: StartService, width: number): string[] {
  return service.developmentKeys.map((k, i) => {
    const scopes = k.scopes.has('*') ? 'every scope' : [...k.scopes].join(', ');
    return `  ${(i === 0 ? service.name : '').padEnd(10)} ${k.key.padEnd(width)}  ${scopes}`;
  });
}

const keyWidth = (services: StartService[]) => Math.max(...services.flatMap((s) => s.developmentKeys.map((k) => k.key.length)));

/** What `npm start` prints once every service is SERVING: addresses, keys, first calls. */
export function banner(services: StartService[], options: { seconds: number; customerId: string; ownKeys: boolean }): string {
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

Try:
  ${call} -H 'authorization: Bearer dev-storefront-key' -d '{"page_size": 5, "name_contains": "milk"}' \\
      http://127.0.0.1:${inventory.grpcPort}/larder.inventory.v1.InventoryService/ListProducts
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${options.customerId}", "product_id": "<products[0].id from above>", "quantity": 2}' \\
      http://127.0.0.1:${order.grpcPort}/larder.order.v1.CartService/AddCartItem
  ${call} -H 'authorization: Bearer dev-storefront-key' \\
      -d '{"customer_id": "${options.customerId}", "idempotency_key": "my-first-order", "payment_token": "tok_ok"}' \\
      http://127.0.0.1:${order.grpcPort}/larder.order.v1.OrderService/Checkout
  npm run demo      # a checked tour: checkout, a declined card, a flash sale

Ctrl-C stops everything.`;
}
