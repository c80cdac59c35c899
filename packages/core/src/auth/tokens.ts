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

/** Issues and verifies session tokens (HS256 JWTs). Stateless, so any node accepts any node's tokens. */
export class TokenService {
  private readonly signingKey: Uint8Array;
  private readonly verificationKeys: Uint8Array[];
  private readonly expiresInSeconds: number;

  constructor(options: TokenOptions) {
    if (options.secret.length < 16) throw new Error('The token secret must be at least 16 characters');
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
