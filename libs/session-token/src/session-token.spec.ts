import { SignJWT } from 'jose';
import { sessionSigningKey, signSessionToken, verifySessionToken } from './session-token';

const secret = 's'.repeat(40);

describe('session tokens', () => {
  it('round-trips the claims', async () => {
    const token = await signSessionToken({ sub: 'acc-1', role: 'admin', epoch: 3 }, secret);
    const v = await verifySessionToken(token, secret);
    expect(v).toMatchObject({ sub: 'acc-1', role: 'admin', epoch: 3 });
    expect(v!.expiresAt - v!.issuedAt).toBe(3600);
  });

  it('rejects another secret, expiry, tampering and garbage', async () => {
    const token = await signSessionToken({ sub: 'acc-1', role: 'user', epoch: 0 }, secret);
    expect(await verifySessionToken(token, 'o'.repeat(40))).toBeNull();
    expect(await verifySessionToken(token.slice(0, -2) + 'xx', secret)).toBeNull();
    expect(await verifySessionToken('not.a.jwt', secret)).toBeNull();
    const expired = await new SignJWT({ role: 'user', epoch: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('acc-1')
      .setIssuer('torouter-auth')
      .setAudience('torouter-api')
      .setIssuedAt(1)
      .setExpirationTime(2)
      .sign(sessionSigningKey(secret));
    expect(await verifySessionToken(expired, secret)).toBeNull();
  });
});
