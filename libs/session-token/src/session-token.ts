import { errors, jwtVerify, SignJWT } from 'jose';
import { hkdfSync } from 'node:crypto';

export const SESSION_ISSUER = 'torouter-auth';
export const SESSION_AUDIENCE = 'torouter-api';
/** Access tokens live 1 hour; a client signs in again (or refreshes) after that. */
export const SESSION_TTL_SECONDS = 3600;

export interface SessionClaims {
  /** Account id. */
  sub: string;
  role: 'user' | 'admin';
  /** The account's session epoch at issue time; a bumped epoch revokes the token. */
  epoch: number;
}

export interface VerifiedSession extends SessionClaims {
  issuedAt: number;
  expiresAt: number;
}

const keyCache = new Map<string, Uint8Array>();

/** The HS256 key for session tokens, derived from the master secret (never used raw). */
export function sessionSigningKey(masterSecret: string): Uint8Array {
  let key = keyCache.get(masterSecret);
  if (!key) {
    key = new Uint8Array(hkdfSync('sha256', masterSecret, 'torouter', 'session-jwt', 32));
    keyCache.set(masterSecret, key);
  }
  return key;
}

export async function signSessionToken(
  claims: SessionClaims,
  masterSecret: string,
  ttlSeconds = SESSION_TTL_SECONDS,
): Promise<string> {
  return new SignJWT({ role: claims.role, epoch: claims.epoch })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(sessionSigningKey(masterSecret));
}

/** Returns the claims, or null for anything not a valid, unexpired token of ours. Never throws. */
export async function verifySessionToken(
  token: string,
  masterSecret: string,
): Promise<VerifiedSession | null> {
  try {
    const { payload } = await jwtVerify(token, sessionSigningKey(masterSecret), {
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      algorithms: ['HS256'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.epoch !== 'number') return null;
    if (payload.role !== 'user' && payload.role !== 'admin') return null;
    return {
      sub: payload.sub,
      role: payload.role,
      epoch: payload.epoch,
      issuedAt: payload.iat ?? 0,
      expiresAt: payload.exp ?? 0,
    };
  } catch (e) {
    if (e instanceof errors.JOSEError) return null;
    throw e;
  }
}
