import { timingSafeEqual } from 'node:crypto';
import { authenticator } from 'otplib';

/** RFC 6238 as every authenticator app does it: SHA-1, 6 digits, 30-second steps. */
export const TOTP_STEP_SECONDS = 30;
const ISSUER = 'ToRouter';
/** Steps accepted either side of now, for clock drift between the phone and the server. */
const DRIFT_STEPS = 1;
const totp = authenticator.clone({ step: TOTP_STEP_SECONDS, digits: 6, window: DRIFT_STEPS });

/** A new 160-bit secret (RFC 4226's recommendation), Base32. */
export function newTotpSecret(): string {
  return totp.generateSecret(20);
}

export function totpKeyUri(accountName: string, secret: string): string {
  return totp.keyuri(accountName, ISSUER, secret);
}

/**
 * The time step whose code `code` is (within the drift window), or null when it matches none. Callers
 * record the step, so a code is accepted once only.
 */
export function matchTotpStep(code: string, secret: string, now = Date.now()): number | null {
  const given = Buffer.from(code.replace(/\s+/g, ''));
  if (!/^\d{6}$/.test(given.toString())) return null;
  const current = Math.floor(now / 1000 / TOTP_STEP_SECONDS);
  let match: number | null = null;
  // Every candidate is computed and compared in constant time, whichever matches.
  for (let delta = -DRIFT_STEPS; delta <= DRIFT_STEPS; delta++) {
    const step = current + delta;
    const expected = Buffer.from(totp.clone({ epoch: step * TOTP_STEP_SECONDS * 1000 }).generate(secret));
    if (timingSafeEqual(expected, given) && match === null) match = step;
  }
  return match;
}
