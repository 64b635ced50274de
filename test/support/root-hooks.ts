import { startThrowawayNatsServer, type ThrowawayNatsServer } from './nats-server.js';

/**
 * Mocha root hooks: one throwaway nats-server (own port, own store directory)
 * for the whole run, so runs never share streams with each other or with a
 * running Larder. Test files read its URL from LARDER_TEST_NATS_URL.
 */
let nats: ThrowawayNatsServer | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(20_000);
    nats = await startThrowawayNatsServer();
    process.env.LARDER_TEST_NATS_URL = nats.url;
  },
  async afterAll() {
    await nats?.destroy();
  },
};

export function testNatsUrl(): string {
  const url = process.env.LARDER_TEST_NATS_URL;
  if (!url) throw new Error('LARDER_TEST_NATS_URL is not set: run tests through mocha (root hooks start NATS)');
  return url;
}
