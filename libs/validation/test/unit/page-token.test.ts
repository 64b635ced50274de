import { expect } from 'chai';
import { decodePageToken, encodePageToken } from '../../page-token.js';
import { expectInvalid } from '#test/support/expect-app-error.js';

const filter = { categoryId: '0190a6e2-7c3b-7def-8abc-0123456789ab', nameContains: 'milk', includeDeleted: false };
const b64url = (text: string): string => Buffer.from(text).toString('base64url');

describe('libs/validation/page-token', () => {
  it('round-trips the last key for the same filters', () => {
    const token = encodePageToken('key-42', filter);
    expect(decodePageToken('page_token', token, { ...filter })).to.equal('key-42');
  });

  it('round-trips keys with any characters', () => {
    for (const key of ['', 'Oat milk', 'ä/🍎"\\;', 'x'.repeat(300)]) {
      expect(decodePageToken('page_token', encodePageToken(key, 'categories'), 'categories')).to.equal(key);
    }
  });

  it('issues opaque base64url tokens', () => {
    expect(encodePageToken('key-42', filter)).to.match(/^[A-Za-z0-9_-]+$/);
  });

  it('reads an absent or empty token as the first page', () => {
    expect(decodePageToken('page_token', undefined, filter)).to.equal(undefined);
    expect(decodePageToken('page_token', '', filter)).to.equal(undefined);
  });

  it('refuses a page token issued for other filters', () => {
    const token = encodePageToken('key-42', filter);
    const error = expectInvalid(() => decodePageToken('page_token', token, { ...filter, nameContains: 'oat' }), 'page_token');
    expect(error.message).to.match(/different filters/);
    expectInvalid(() => decodePageToken('page_token', token, { ...filter, includeDeleted: true }), 'page_token');
    expectInvalid(() => decodePageToken('page_token', encodePageToken('a', 'categories'), filter), 'page_token');
  });

  it('refuses garbage', () => {
    expectInvalid(() => decodePageToken('page_token', 'garbage', filter), 'page_token');
  });

  it('refuses an over-long token', () => {
    const long = b64url(JSON.stringify({ k: 'x'.repeat(2000), q: 'whatever' }));
    expect(long.length).to.be.above(1024);
    expectInvalid(() => decodePageToken('page_token', long, filter), 'page_token');
  });

  it('refuses a token with characters outside base64url', () => {
    const token = encodePageToken('key-42', filter);
    for (const bad of [`${token}=`, `${token}+`, `${token}/`, ` ${token}`, `${token}\n`, 'a.b']) {
      expectInvalid(() => decodePageToken('page_token', bad, filter), 'page_token');
    }
  });

  it('refuses valid base64url of something that is not JSON', () => {
    expectInvalid(() => decodePageToken('page_token', b64url('not json at all'), filter), 'page_token');
    expectInvalid(() => decodePageToken('page_token', b64url('{"k":'), filter), 'page_token');
  });

  it('refuses JSON without a string k and q', () => {
    for (const body of ['{}', '{"k":"a"}', '{"q":"a"}', '{"k":1,"q":"a"}', '{"k":"a","q":null}', 'null', '42', '"k"', '[]']) {
      const error = expectInvalid(() => decodePageToken('page_token', b64url(body), filter), 'page_token');
      expect(error.message, body).to.match(/not a token this server issued/);
    }
  });

  it('names the field it was given', () => {
    expectInvalid(() => decodePageToken('next', 'garbage', filter), 'next');
  });
});
