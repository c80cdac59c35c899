import { SignJWT, errors, jwtVerify } from 'jose';
import { ConanError } from '../service/errors.js';
import type { Principal } from './principal.js';

/** Options of {@link TokenService}. */
export interface TokenOptions {
  /** Secret used to sign new tokens (at least 16 characters). */
  secret: string;
  /** Older secrets still accepted for verification, so a secret can be rotated without logging everyone out. */
  previousSecrets?: string[];
  /** Lifetime of a session token in seconds (default 2 hours, like conan_server's 120 minutes). */
  expiresInSeconds?: number;
}

const ISSUER = 'cimmeria';
const MIN_SECRET_LENGTH = 16;

/**
 * A missing secret (typically an unset environment variable) must stop the
 * host at start with words that name it, not fail later inside the JWT code;
 * the message never contains the secret itself.
 */
function checkSecret(secret: unknown, name: string): void {
  if (typeof secret !== 'string') {
    throw new TypeError(
      `TokenService: the token ${name} is missing (got ${secret === null ? 'null' : typeof secret}): ` +
        `pass a string of at least ${MIN_SECRET_LENGTH} characters, e.g. from an environment variable that is set`,
    );
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(
      `TokenService: the token ${name} must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`,
    );
  }
}

/** Issues and verifies session tokens (HS256 JWTs). Stateless, so any node accepts any node's tokens. */
export class TokenService {
  private readonly signingKey: Uint8Array;
  private readonly verificationKeys: Uint8Array[];
  private readonly expiresInSeconds: number;

  constructor(options: TokenOptions) {
    checkSecret(options.secret, 'secret');
    (options.previousSecrets ?? []).forEach((secret, i) => checkSecret(secret, `previousSecrets[${i}]`));
    const encode = (s: string) => new TextEncoder().encode(s);
    this.signingKey = encode(options.secret);
    this.verificationKeys = [this.signingKey, ...(options.previousSecrets ?? []).map(encode)];
    this.expiresInSeconds = options.expiresInSeconds ?? 7200;
  }

  /** A token for `principal`, valid for the configured lifetime. */
  async issue(principal: Principal): Promise<string> {
    return new SignJWT({ user: principal.name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(principal.name)
      .setIssuedAt()
      .setExpirationTime(`${this.expiresInSeconds}s`)
      .sign(this.signingKey);
  }

  /** The principal a token stands for; throws `UNAUTHORIZED` if it is malformed, forged or expired. */
  async verify(token: string): Promise<Principal> {
    for (const key of this.verificationKeys) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || payload.sub === '') break;
        return { name: payload.sub };
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new ConanError('UNAUTHORIZED', 'Token expired: log in again');
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        break;
      }
    }
    throw new ConanError('UNAUTHORIZED', 'Invalid token: log in again');
  }
}
