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
/** Claim carrying the user's credential version when the token was issued. */
const CREDENTIAL_VERSION_CLAIM = 'cv';
/** Claim carrying the id of the API token a session was made from. */
const API_TOKEN_CLAIM = 'tid';
/** Claim carrying the principal's groups (`Principal.groups`), when it has any. */
const GROUPS_CLAIM = 'groups';

/** What a valid token says. */
export interface VerifiedToken {
  principal: Principal;
  /** The credential version the token was issued under, when it carries one (see `Authenticator.credentialVersion`). */
  credentialVersion?: string;
  /** The API token the session was made from, when it was (see `ConanService.verifyToken`). */
  apiTokenId?: string;
}

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
  /** How long an issued token lives. */
  readonly expiresInSeconds: number;

  constructor(options: TokenOptions) {
    checkSecret(options.secret, 'secret');
    (options.previousSecrets ?? []).forEach((secret, i) => checkSecret(secret, `previousSecrets[${i}]`));
    const encode = (s: string) => new TextEncoder().encode(s);
    this.signingKey = encode(options.secret);
    this.verificationKeys = [this.signingKey, ...(options.previousSecrets ?? []).map(encode)];
    this.expiresInSeconds = options.expiresInSeconds ?? 7200;
  }

  /**
   * A token for `principal`, valid for the configured lifetime. With a
   * `credentialVersion`, it is only as good as that version: see
   * `ConanService.verifyToken`.
   */
  async issue(principal: Principal, options: { credentialVersion?: string } = {}): Promise<string> {
    const claims: Record<string, string | string[]> = { user: principal.name };
    if (options.credentialVersion !== undefined) claims[CREDENTIAL_VERSION_CLAIM] = options.credentialVersion;
    // A session made from an API token stays as narrow, and dies with it.
    if (principal.apiToken) claims[API_TOKEN_CLAIM] = principal.apiToken.id;
    if (principal.groups && principal.groups.length > 0) claims[GROUPS_CLAIM] = [...principal.groups];
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(principal.name)
      .setIssuedAt()
      .setExpirationTime(`${this.expiresInSeconds}s`)
      .sign(this.signingKey);
  }

  /**
   * The principal a token stands for; throws `UNAUTHORIZED` if it is
   * malformed, forged or expired. Does not check the credential version:
   * `ConanService.verifyToken` does.
   */
  async verify(token: string): Promise<Principal> {
    return (await this.verifyClaims(token)).principal;
  }

  /** Like {@link verify}, with the credential version the token carries. */
  async verifyClaims(token: string): Promise<VerifiedToken> {
    for (const key of this.verificationKeys) {
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || payload.sub === '') break;
        const version = payload[CREDENTIAL_VERSION_CLAIM];
        if (version !== undefined && typeof version !== 'string') break;
        const groups = payload[GROUPS_CLAIM];
        if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) break;
        const apiTokenId = payload[API_TOKEN_CLAIM];
        if (apiTokenId !== undefined && typeof apiTokenId !== 'string') break;
        const verified: VerifiedToken = { principal: groups === undefined ? { name: payload.sub } : { name: payload.sub, groups } };
        if (version !== undefined) verified.credentialVersion = version;
        if (apiTokenId !== undefined) verified.apiTokenId = apiTokenId;
        return verified;
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new ConanError('UNAUTHORIZED', 'Token expired: log in again');
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        break;
      }
    }
    throw new ConanError('UNAUTHORIZED', 'Invalid token: log in again');
  }
}
