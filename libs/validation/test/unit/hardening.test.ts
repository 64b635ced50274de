import { expect } from 'chai';
import { parseApiKeys } from '#libs/grpc/auth.js';
import { text } from '../../fields.js';
import { expectInvalid } from '#test/support/expect-app-error.js';

describe('input hardening', () => {
  it('refuses C1 control characters (U+0080–U+009F) as it refuses C0 ones', () => {
    expectInvalid(() => text('name', 'a\u009bb', { max: 10 }), 'name');
    expect(text('name', 'café', { max: 10 })).to.equal('café');
  });

  it('does not echo a secret when an API_KEYS entry has key and scopes swapped', () => {
    let message = '';
    try {
      parseApiKeys('shop=catalog.read,reservations:MYSECRETVALUE12345', ['catalog.read', 'reservations']);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/unknown scope/);
    expect(message).to.not.include('MYSECRETVALUE12345');
  });
});
