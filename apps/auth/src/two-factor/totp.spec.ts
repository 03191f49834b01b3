import { authenticator } from 'otplib';
import { matchTotpStep, newTotpSecret, totpKeyUri, TOTP_STEP_SECONDS } from './totp';

describe('TOTP (RFC 6238, 6 digits, 30 s)', () => {
  const secret = newTotpSecret();
  const now = 1_760_000_000_000;
  const step = Math.floor(now / 1000 / TOTP_STEP_SECONDS);
  const codeAt = (s: number) => authenticator.clone({ epoch: s * TOTP_STEP_SECONDS * 1000 }).generate(secret);

  it('matches the RFC 6238 SHA-1 test vector', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits) → 287082 (6).
    const rfcSecret = authenticator.encode(Buffer.from('12345678901234567890').toString('hex'));
    expect(matchTotpStep('287082', rfcSecret, 59_000)).toBe(1);
  });

  it('accepts the current step and one either side, and says which step matched', () => {
    expect(matchTotpStep(codeAt(step), secret, now)).toBe(step);
    expect(matchTotpStep(codeAt(step - 1), secret, now)).toBe(step - 1);
    expect(matchTotpStep(codeAt(step + 1), secret, now)).toBe(step + 1);
    expect(matchTotpStep(codeAt(step - 2), secret, now)).toBeNull();
    expect(matchTotpStep(codeAt(step + 2), secret, now)).toBeNull();
  });

  it('refuses anything that is not six digits, and tolerates spaces', () => {
    const code = codeAt(step);
    expect(matchTotpStep(`${code.slice(0, 3)} ${code.slice(3)}`, secret, now)).toBe(step);
    expect(matchTotpStep('12345', secret, now)).toBeNull();
    expect(matchTotpStep('1234567', secret, now)).toBeNull();
    expect(matchTotpStep('abcdef', secret, now)).toBeNull();
    expect(matchTotpStep('', secret, now)).toBeNull();
  });

  it('makes 160-bit Base32 secrets and standard otpauth URIs', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpKeyUri('ada@example.com', secret));
    expect(uri.href.startsWith('otpauth://totp/ToRouter:ada%40example.com?')).toBe(true);
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
  });
});
