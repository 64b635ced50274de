import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { AppError } from '#libs/errors/app-error.js';
import { createTokenVerifier, looksLikeJwt } from '../../bearer-token.js';
import { checkJwks, jwkThumbprint } from '../../jwks.js';

/** The generic verification, without a server: what an algorithm outside the allow-list gets, and the JWKS checks. */

const SETTINGS = { issuer: 'iss', audience: 'aud' };

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return (error as AppError).reason;
  }
  return 'OK';
}

describe('libs/grpc/bearer-token', () => {
  it('refuses an asymmetric algorithm outside RS256, ES256, EdDSA even when a key without "alg" would verify it', async () => {
    for (const alg of ['ES384', 'RS512', 'PS256']) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k' };
      const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'file', path: 'test', jwks: checkJwks({ keys: [jwk] }) } });
      const token = await new SignJWT({ iss: 'iss', aud: 'aud', sub: 's', exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg, kid: 'k' })
        .sign(privateKey);
      expect(await reasonOf(verify(token)), alg).to.equal('TOKEN_ALGORITHM_REFUSED');
    }
  });

  it('verifies a good EdDSA token and reads its subject and scopes', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwks = checkJwks({ keys: [{ ...(await exportJWK(publicKey)), kid: 'ed', alg: 'EdDSA' }] });
    const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'file', path: 'test', jwks } });
    const token = await new SignJWT({
      iss: 'iss',
      aud: 'aud',
      sub: 'who',
      scope: 'carts  orders.read',
      exp: Math.floor(Date.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'ed' })
      .sign(privateKey);
    const verified = await verify(token);
    expect([verified.subject, [...verified.scopes]]).to.deep.equal(['who', ['carts', 'orders.read']]);
  });

  it('answers UNAVAILABLE (TOKEN_KEYS_UNAVAILABLE) when a remote key set cannot be fetched', async () => {
    const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'url', url: new URL('http://127.0.0.1:9/jwks.json') } });
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: 's' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(privateKey);
    const error = await verify(token).catch((e: AppError) => e);
    expect([(error as AppError).kind, (error as AppError).reason]).to.deep.equal(['unavailable', 'TOKEN_KEYS_UNAVAILABLE']);
  });

  it('tells JWT-shaped bearer values from API keys', () => {
    for (const token of ['a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'eyJhbGciOiJSUzI1NiJ9']) expect(looksLikeJwt(token), token).to.equal(true);
    for (const key of ['dev-order-admin-key', 'a.b', 'a.b.c.d', 'has space.b.c']) expect(looksLikeJwt(key), key).to.equal(false);
  });

  it('computes the RFC 7638 thumbprint as jose does, for RSA, EC and OKP keys', async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const jwk = (await exportJWK((await generateKeyPair(alg, { extractable: true })).publicKey)) as JWK;
      expect(jwkThumbprint({ ...jwk, kid: 'ignored' }), alg).to.equal(await calculateJwkThumbprint(jwk));
    }
  });

  it('checkJwks refuses what is not a key set', () => {
    for (const document of [null, {}, { keys: [] }, { keys: {} }, { keys: [null] }, { keys: ['x'] }]) {
      expect(() => checkJwks(document), JSON.stringify(document)).to.throw();
    }
  });
});
