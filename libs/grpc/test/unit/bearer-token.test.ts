import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { AppError } from '#libs/errors/app-error.js';
import { createTokenVerifier, looksLikeJwt } from '../../bearer-token.js';
import { checkJwks, jwkThumbprint } from '../../jwks.js';

/** The generic verification, without a server: what an algorithm outside the allow-list gets, and the JWKS checks. */

const SETTINGS = { issuer: 'iss', audience: 'aud' };

const UUID = '0190a000-0000-7000-8000-00000000000a';
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

/** What the verifier answered: `kind/reason` of its AppError, or OK. */
async function answerOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) return 'OK';
  expect(error).to.be.instanceOf(AppError);
  return `${(error as AppError).kind}/${(error as AppError).reason}`;
}

/**
 * An RS256 token signed by a 1024-bit RSA key (below the 2048 bits RS256 asks), with node's crypto: jose will not
 * sign with it, and verifying with it throws a TypeError.
 */
function weakRsaToken(kid: string): { token: string; jwk: JWK } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'RS256', kid })}.${part({ iss: 'iss', aud: 'aud', sub: UUID, exp: inAMinute() })}`;
  const signature = sign('RSA-SHA256', Buffer.from(signed), privateKey as KeyObject).toString('base64url');
  return { token: `${signed}.${signature}`, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid } };
}

/** A JWKS endpoint on a free local port answering every request with `status` and `body`. */
async function serveJwks(status: number, body: string): Promise<{ url: URL; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`), server };
}

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

  describe('UNAUTHENTICATED, not UNAVAILABLE, for what fetching keys has nothing to do with', () => {
    it('a key of a local key file that cannot verify the token (RSA under 2048 bits): TOKEN_KEY_UNUSABLE', async () => {
      const { token, jwk } = weakRsaToken('weak');
      const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'file', path: 'test', jwks: checkJwks({ keys: [jwk] }) } });
      expect(await answerOf(verify(token))).to.equal('unauthenticated/TOKEN_KEY_UNUSABLE');
    });

    it('the same key served by a reachable remote key set: TOKEN_KEY_UNUSABLE too', async () => {
      const { token, jwk } = weakRsaToken('weak');
      const { url, server } = await serveJwks(200, JSON.stringify({ keys: [jwk] }));
      try {
        const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'url', url } });
        expect(await answerOf(verify(token))).to.equal('unauthenticated/TOKEN_KEY_UNUSABLE');
      } finally {
        server.close();
      }
    });

    it('a validly signed token whose "sub" is not a string (an array holding a UUID, a number): TOKEN_MALFORMED naming the claim', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwks = checkJwks({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] });
      const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'file', path: 'test', jwks } });
      for (const sub of [[UUID], 42, { id: UUID }]) {
        const token = await new SignJWT({ iss: 'iss', aud: 'aud', sub: sub as unknown as string, exp: inAMinute() })
          .setProtectedHeader({ alg: 'ES256', kid: 'k' })
          .sign(privateKey);
        const error = (await verify(token).catch((e: unknown) => e)) as AppError;
        expect([error.kind, error.reason, error.metadata], JSON.stringify(sub)).to.deep.equal([
          'unauthenticated',
          'TOKEN_MALFORMED',
          { claim: 'sub' },
        ]);
      }
    });
  });

  it('answers UNAVAILABLE (TOKEN_KEYS_UNAVAILABLE) when the remote key set answers other than 200 or with no JSON', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: 's' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).sign(privateKey);
    for (const [status, body] of [
      [503, '{}'],
      [200, 'not json'],
      [200, '{"keys": "none"}'],
    ] as const) {
      const { url, server } = await serveJwks(status, body);
      try {
        const verify = createTokenVerifier({ ...SETTINGS, keys: { kind: 'url', url } });
        expect(await answerOf(verify(token)), `${status} ${body}`).to.equal('unavailable/TOKEN_KEYS_UNAVAILABLE');
      } finally {
        server.close();
      }
    }
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
