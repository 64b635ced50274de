import { AppError } from '#libs/errors/app-error.js';
import type { TokenAuthenticator } from '#libs/grpc/auth.js';
import { createTokenVerifier, type TokenSettings, type TokenVerifier } from '#libs/grpc/bearer-token.js';
import { isUuid } from '#libs/ids/uuid.js';
import { CUSTOMER_SCOPES } from './scopes.js';

/**
 * End-user tokens as the order service reads them: `sub` is the customer id
 * (a UUID, lower-cased as every id we store), and of the `scope` claim only
 * the customer scopes count.
 */
export const customerTokens =
  (verify: TokenVerifier): TokenAuthenticator =>
  async (token) => {
    const { subject, scopes } = await verify(token);
    if (!isUuid(subject)) {
      throw new AppError('unauthenticated', 'token refused: its "sub" must be a customer id (a UUID)', { reason: 'TOKEN_SUBJECT_INVALID' });
    }
    return { subject: subject.toLowerCase(), scopes: new Set(CUSTOMER_SCOPES.filter((scope) => scopes.has(scope))) };
  };

/** The service's reader of customer tokens for its token settings (config.tokens); undefined when none are configured. */
export const customerTokensFor = (settings: TokenSettings | undefined): TokenAuthenticator | undefined =>
  settings && customerTokens(createTokenVerifier(settings));
