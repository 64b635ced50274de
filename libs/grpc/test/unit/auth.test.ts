import { expect } from 'chai';
import { authorize, parseApiKeys, type ApiKey } from '../../auth.js';
import { expectAppError } from '#test/support/expect-app-error.js';

const SCOPES = ['catalog.read', 'catalog.write', 'stock.write', 'reservations'] as const;
const ADMIN_KEY = 'admin-secret-0123456789';
const SHOP_KEY = 'shop-secret-abcdefghij';

function parseError(text: string): Error {
  try {
    parseApiKeys(text, SCOPES);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected parseApiKeys to refuse ${JSON.stringify(text)}`);
}

describe('libs/grpc/auth', () => {
  describe('parseApiKeys', () => {
    it('parses several entries with their names, keys and scopes', () => {
      const keys = parseApiKeys(` admin=${ADMIN_KEY}:* ; shop=${SHOP_KEY}:catalog.read,reservations ;`, SCOPES);
      expect(keys).to.have.length(2);
      expect(keys[0]!.name).to.equal('admin');
      expect(keys[0]!.key).to.equal(ADMIN_KEY);
      expect([...keys[0]!.scopes]).to.deep.equal(['*']);
      expect(keys[1]!.name).to.equal('shop');
      expect(keys[1]!.key).to.equal(SHOP_KEY);
      expect([...keys[1]!.scopes]).to.deep.equal(['catalog.read', 'reservations']);
    });

    it("accepts '*' as a scope", () => {
      expect(parseApiKeys(`ops=${ADMIN_KEY}:*`, SCOPES)[0]!.scopes.has('*')).to.equal(true);
    });

    it('accepts a key of exactly 16 characters', () => {
      expect(parseApiKeys(`ops=${'k'.repeat(16)}:reservations`, SCOPES)[0]!.key).to.equal('k'.repeat(16));
    });

    it('refuses an unknown scope, naming the entry and the known scopes but neither the value nor the key', () => {
      // The value is withheld: in an entry with key and scopes swapped it would be the secret.
      const error = parseError(`admin=${ADMIN_KEY}:*;shop=${SHOP_KEY}:catalog.read,stock.delete`);
      expect(error.message).to.contain('entry 2 (shop)');
      expect(error.message).to.contain('known: catalog.read');
      expect(error.message).not.to.contain('stock.delete');
      expect(error.message).not.to.contain(SHOP_KEY);
    });

    it('refuses a key shorter than 16 characters without echoing it', () => {
      const short = 'short-key-15chr';
      expect(short).to.have.length(15);
      const error = parseError(`admin=${ADMIN_KEY}:*;shop=${short}:reservations`);
      expect(error.message).to.match(/entry 2 must be name=key:scope/);
      expect(error.message).not.to.contain(short);
    });

    it('refuses a key repeated by another entry without echoing it', () => {
      const error = parseError(`admin=${ADMIN_KEY}:*;shop=${ADMIN_KEY}:reservations`);
      expect(error.message).to.match(/entry 2 \(shop\) repeats another entry's key/);
      expect(error.message).not.to.contain(ADMIN_KEY);
    });

    it('refuses empty text', () => {
      for (const empty of ['', '   ', ';;', ' ; ']) {
        expect(parseError(empty).message).to.equal('no keys given');
      }
    });

    it('refuses malformed entries without echoing them', () => {
      for (const entry of [
        ADMIN_KEY,
        `admin=${ADMIN_KEY}`,
        `admin=${ADMIN_KEY}:`,
        `=${ADMIN_KEY}:*`,
        `admin=${ADMIN_KEY} x:*`,
        `ad min=${ADMIN_KEY}:*`,
      ]) {
        const error = parseError(entry);
        expect(error.message, entry).to.match(/entry 1 must be/);
        expect(error.message, entry).not.to.contain(ADMIN_KEY);
      }
    });
  });

  describe('authorize', () => {
    const keys: ApiKey[] = parseApiKeys(`admin=${ADMIN_KEY}:*;shop=${SHOP_KEY}:catalog.read,reservations`, SCOPES);

    it('returns the caller whose key and scope match', () => {
      expect(authorize(keys, `Bearer ${SHOP_KEY}`, 'reservations').name).to.equal('shop');
    });

    it("lets a '*' key use every scope", () => {
      for (const scope of SCOPES) expect(authorize(keys, `Bearer ${ADMIN_KEY}`, scope).name).to.equal('admin');
    });

    it("accepts the 'bearer' scheme in any case and surrounding white space", () => {
      expect(authorize(keys, `bearer ${SHOP_KEY}`, 'catalog.read').name).to.equal('shop');
      expect(authorize(keys, `BEARER   ${SHOP_KEY}  `, 'catalog.read').name).to.equal('shop');
    });

    it('refuses a missing header, or the scheme without a key, as unauthenticated API_KEY_MISSING', () => {
      for (const header of [undefined, '', '   ', 'Bearer', 'Bearer ', 'bearer  ']) {
        const error = expectAppError(() => authorize(keys, header, 'reservations'), 'unauthenticated');
        expect(error.reason, String(header)).to.equal('API_KEY_MISSING');
        expect(error.message, String(header)).to.contain('missing API key');
      }
    });

    it('refuses more than one word after Bearer as API_KEY_MISSING, without echoing them', () => {
      const error = expectAppError(() => authorize(keys, `Bearer ${SHOP_KEY} extra`, 'reservations'), 'unauthenticated');
      expect(error.reason).to.equal('API_KEY_MISSING');
      expect(error.message).to.contain('one API key after "Bearer "');
      expect(error.message).not.to.contain(SHOP_KEY);
    });

    it('refuses a key without the Bearer scheme as API_KEY_SCHEME_MISSING, saying so without echoing the key', () => {
      for (const header of [
        SHOP_KEY,
        ` ${SHOP_KEY} `,
        `Basic ${SHOP_KEY}`,
        `Token ${SHOP_KEY}`,
        `Bearer:${SHOP_KEY}`,
        `${SHOP_KEY} Bearer`,
      ]) {
        const error = expectAppError(() => authorize(keys, header, 'reservations'), 'unauthenticated');
        expect(error.reason, header).to.equal('API_KEY_SCHEME_MISSING');
        expect(error.message, header).to.contain('does not start with the "Bearer " scheme');
        expect(error.message, header).to.contain('authorization: Bearer <key>');
        expect(error.message, header).not.to.contain(SHOP_KEY);
      }
    });

    it('refuses an unknown key as unauthenticated API_KEY_INVALID, without echoing it', () => {
      for (const wrong of ['someone-elses-key-0000', `${SHOP_KEY}x`, SHOP_KEY.slice(0, -1), SHOP_KEY.toUpperCase()]) {
        const error = expectAppError(() => authorize(keys, `Bearer ${wrong}`, 'reservations'), 'unauthenticated');
        expect(error.reason).to.equal('API_KEY_INVALID');
        expect(error.message).not.to.contain(wrong);
      }
    });

    it('refuses a known key without the scope as permissionDenied SCOPE_MISSING', () => {
      const error = expectAppError(() => authorize(keys, `Bearer ${SHOP_KEY}`, 'stock.write'), 'permissionDenied');
      expect(error.reason).to.equal('SCOPE_MISSING');
      expect(error.metadata).to.deep.equal({ scope: 'stock.write' });
      expect(error.message).to.contain('"shop"');
      expect(error.message).not.to.contain(SHOP_KEY);
    });

    it('refuses everything when no keys are configured', () => {
      const error = expectAppError(() => authorize([], `Bearer ${ADMIN_KEY}`, 'reservations'), 'unauthenticated');
      expect(error.reason).to.equal('API_KEY_INVALID');
    });
  });
});
