import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AppError } from '#libs/errors/app-error.js';
import { createTokenVerifier } from '#libs/grpc/bearer-token.js';
import { checkJwks } from '#libs/grpc/jwks.js';
import { customerTokens } from '../../transport/customer-token.js';

/** The order service's reading of a verified token, without a server: what a caller can put in `sub`. */

const UUID = '0190A000-0000-7000-8000-00000000000A';

describe('order transport: customer tokens', () => {
  let authenticate: ReturnType<typeof customerTokens>;
  let mint: (sub: unknown) => Promise<string>;
  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = checkJwks({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] });
    authenticate = customerTokens(createTokenVerifier({ issuer: 'iss', audience: 'aud', keys: { kind: 'file', path: 'test', jwks } }));
    mint = (sub) =>
      new SignJWT({ iss: 'iss', aud: 'aud', sub: sub as string, scope: 'carts', exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .sign(privateKey);
  });

  it('takes a UUID sub as the customer, lower-cased', async () => {
    const { subject, scopes } = await authenticate(await mint(UUID));
    expect([subject, [...scopes]]).to.deep.equal([UUID.toLowerCase(), ['carts']]);
  });

  it('refuses a validly signed token whose sub is an array holding a UUID: UNAUTHENTICATED, not a crash (INTERNAL)', async () => {
    const error: unknown = await authenticate(await mint([UUID])).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(AppError);
    expect([(error as AppError).kind, (error as AppError).reason, (error as AppError).metadata]).to.deep.equal([
      'unauthenticated',
      'TOKEN_MALFORMED',
      { claim: 'sub' },
    ]);
  });
});
