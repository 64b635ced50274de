import { expect } from 'chai';
import { customerTokenReader } from '../../../services/order/operator.js';
import { banner } from '../../start/banner.js';
import { readStartSettings } from '../../start/settings.js';
import { DEV_TOKEN_ENV, mintDevToken, usesDevTokens } from '../../token/dev-token.js';

/** The development key set: its private half signs what the service, configured as npm start does, accepts. */
describe('development customer tokens (scripts/token/dev-token.ts)', () => {
  const customerId = '6f1c1b7e-2d2a-4a8e-9f57-1d1f0c7a9b10';

  it('mints a token the order service accepts with the environment npm start gives it', async () => {
    const readToken = customerTokenReader(DEV_TOKEN_ENV)!;
    const caller = await readToken(await mintDevToken(customerId, { scopes: ['carts'] }));
    expect([caller.subject, [...caller.scopes]]).to.deep.equal([customerId, ['carts']]);
  });

  it('is on outside production unless the environment configures tokens itself', () => {
    expect(usesDevTokens({})).to.equal(true);
    expect(usesDevTokens({ NODE_ENV: 'test' })).to.equal(true);
    expect(usesDevTokens({ NODE_ENV: 'production' })).to.equal(false);
    expect(usesDevTokens({ JWT_JWKS_URL: 'https://id.example/jwks' })).to.equal(false);
    expect(usesDevTokens({ JWT_ISSUER: 'https://id.example/' })).to.equal(false);
  });

  it('npm start prints the token for the demo customer, or says there is none', () => {
    const services = readStartSettings({});
    const shown = banner(services, { seconds: 1, customerId, customerToken: 'eyJ.token.here', ownKeys: false });
    expect(shown).to.contain(`Customer token for the demo customer ${customerId}`);
    expect(shown).to.contain("-H 'authorization: Bearer eyJ.token.here' -d '{}'");
    expect(banner(services, { seconds: 1, customerId, ownKeys: false })).to.contain('no development token');
  });
});
