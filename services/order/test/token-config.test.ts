import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, generateSecret } from 'jose';
import { ConfigError } from '#libs/config/env.js';
import { withDatabase } from '#libs/db/admin.js';
import { jwkThumbprint } from '#libs/grpc/jwks.js';
import { runProcess } from '#test/support/run-process.js';
import { TEST_DATABASE_SERVER } from '#test/support/test-database.js';
import { DEVELOPMENT_JWKS_THUMBPRINTS, readOrderConfig } from '../config.js';

/**
 * Token settings the order service refuses at start: its main.ts as a process
 * prints `order: invalid configuration: <VARIABLE>: …` and exits 2 before
 * serving anything.
 */

const DEV_JWKS = 'deploy/dev-jwks/jwks.json';
const dir = mkdtempSync(join(tmpdir(), 'larder-token-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const ISSUER_AUDIENCE = { JWT_ISSUER: 'https://id.test.invalid/', JWT_AUDIENCE: 'larder-order' };

async function startRefused(env: Record<string, string>): Promise<string> {
  const run = await runProcess(process.execPath, ['--import', 'tsx', 'services/order/main.ts'], {
    // A database that does not exist: a process that got past its configuration would say so.
    env: { ...process.env, DATABASE_URL: withDatabase(TEST_DATABASE_SERVER, 'larder_token_config_never_created'), ...env },
    timeoutMs: 30_000,
  });
  expect(run.code, run.stderr + run.stdout).to.equal(2);
  expect(run.stdout, 'nothing logged').to.equal('');
  return run.stderr;
}

describe('order service: token configuration', function () {
  this.timeout(60_000);
  let publicJwk: object;

  before(async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    publicJwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' };
  });

  it('refuses JWT_JWKS_FILE together with JWT_JWKS_URL, naming JWT_JWKS_URL', async () => {
    const jwks = file('both.json', JSON.stringify({ keys: [publicJwk] }));
    const stderr = await startRefused({ JWT_JWKS_FILE: jwks, JWT_JWKS_URL: 'https://id.test.invalid/jwks', ...ISSUER_AUDIENCE });
    expect(stderr).to.match(/^order: invalid configuration: JWT_JWKS_URL: cannot be set together with JWT_JWKS_FILE/);
  });

  for (const missing of ['JWT_ISSUER', 'JWT_AUDIENCE']) {
    it(`refuses a key set without ${missing}, naming it`, async () => {
      const env: Record<string, string> = { JWT_JWKS_URL: 'https://id.test.invalid/jwks', ...ISSUER_AUDIENCE };
      delete env[missing];
      expect(await startRefused(env)).to.equal(
        `order: invalid configuration: ${missing}: is required when JWT_JWKS_FILE or JWT_JWKS_URL is set\n`,
      );
    });
  }

  it('refuses a JWKS file with a shared-secret (oct) key, naming JWT_JWKS_FILE', async () => {
    const secret = await exportJWK(await generateSecret('HS256', { extractable: true }));
    const path = file('oct.json', JSON.stringify({ keys: [publicJwk, { ...secret, kid: 'hmac' }] }));
    const stderr = await startRefused({ JWT_JWKS_FILE: path, ...ISSUER_AUDIENCE });
    expect(stderr).to.match(
      /^order: invalid configuration: JWT_JWKS_FILE: .*: key 2 \(kid hmac\) has kty "oct"; only RSA, EC and OKP keys/,
    );
  });

  it('refuses every other bad JWKS file with a ConfigError naming JWT_JWKS_FILE and what is wrong', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const cases: [string, string, RegExp][] = [
      ['missing', join(dir, 'no-such.json'), /cannot read/],
      ['not JSON', file('text.json', 'keys: none'), /is not valid JSON|Unexpected token/],
      ['no keys', file('empty.json', '{"keys": []}'), /non-empty "keys" array/],
      [
        'an HS256 alg',
        file('hs.json', JSON.stringify({ keys: [{ ...publicJwk, alg: 'HS256' }] })),
        /has alg "HS256"; accepted: RS256, ES256, EdDSA/,
      ],
      ['a private key', file('private.json', JSON.stringify({ keys: [await exportJWK(privateKey)] })), /holds private key material/],
      ['a broken key', file('broken.json', JSON.stringify({ keys: [{ ...publicJwk, x: 'AAAA' }] })), /is not a usable public key/],
    ];
    for (const [name, path, why] of cases) {
      let error: unknown;
      try {
        readOrderConfig({ JWT_JWKS_FILE: path, ...ISSUER_AUDIENCE });
      } catch (caught) {
        error = caught;
      }
      expect(error, name).to.be.instanceOf(ConfigError);
      expect((error as ConfigError).variable, name).to.equal('JWT_JWKS_FILE');
      expect((error as ConfigError).message, name).to.match(why);
    }
  });

  it('refuses the development key set when NODE_ENV=production, naming JWT_JWKS_FILE', async () => {
    const stderr = await startRefused({
      NODE_ENV: 'production',
      API_KEYS: 'admin=a-production-key-0123456789:*',
      JWT_JWKS_FILE: DEV_JWKS,
      ...ISSUER_AUDIENCE,
    });
    expect(stderr).to.match(/^order: invalid configuration: JWT_JWKS_FILE: .* holds the development key .* NODE_ENV=production\n$/);
  });

  it('recognises the development key by its thumbprint, whatever its kid', () => {
    const devKey = (JSON.parse(readFileSync(DEV_JWKS, 'utf8')) as { keys: { kid: string }[] }).keys[0]!;
    expect(DEVELOPMENT_JWKS_THUMBPRINTS).to.deep.equal([jwkThumbprint(devKey as never)]);
    const renamed = file('renamed.json', JSON.stringify({ keys: [{ ...devKey, kid: 'not-the-dev-key' }] }));
    const production = {
      NODE_ENV: 'production',
      API_KEYS: 'admin=a-production-key-0123456789:*',
      JWT_JWKS_FILE: renamed,
      ...ISSUER_AUDIENCE,
    };
    expect(() => readOrderConfig(production)).to.throw(/JWT_JWKS_FILE: .* holds the development key/);
    // Outside production the development key set is what npm start uses.
    expect(readOrderConfig({ JWT_JWKS_FILE: DEV_JWKS, ...ISSUER_AUDIENCE }).tokens?.keys.kind).to.equal('file');
    expect(readOrderConfig({}).tokens).to.equal(undefined);
  });
});
