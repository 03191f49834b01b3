import { applyMultiplierBp, microToUsd, microToUsdString, tokenCost, usdToMicro } from './micro-usd';

describe('micro-USD', () => {
  it('parses decimal amounts exactly, without float error', () => {
    expect(usdToMicro('0.1')).toBe(100_000);
    expect(usdToMicro(0.1)).toBe(100_000);
    expect(usdToMicro(0.3)).toBe(300_000);
    expect(usdToMicro('5000')).toBe(5_000_000_000);
    expect(usdToMicro('-2.000001')).toBe(-2_000_001);
    expect(usdToMicro(19.99)).toBe(19_990_000);
  });

  it('refuses more than 6 decimals and non-numbers', () => {
    expect(() => usdToMicro('0.0000001')).toThrow(RangeError);
    expect(() => usdToMicro('1e3')).toThrow(RangeError);
    expect(() => usdToMicro(NaN)).toThrow(RangeError);
    expect(() => usdToMicro('')).toThrow(RangeError);
  });

  it('formats back to the same decimal', () => {
    expect(microToUsdString(12_500_000)).toBe('12.5');
    expect(microToUsdString(1)).toBe('0.000001');
    expect(microToUsdString(-1_500_000)).toBe('-1.5');
    expect(microToUsd(3_000_000)).toBe(3);
  });

  it('prices tokens per million, rounding up to a whole micro-USD', () => {
    expect(tokenCost(1_000_000, 1_250_000)).toBe(1_250_000); // 1M tokens at $1.25/MTok
    expect(tokenCost(1, 1_250_000)).toBe(2); // 1.25 micro → 2
    expect(tokenCost(0, 1_250_000)).toBe(0);
    expect(tokenCost(1234, 10_000_000)).toBe(12_340);
  });

  it('applies a multiplier in basis points', () => {
    expect(applyMultiplierBp(1_000_000, 15_000)).toBe(1_500_000);
    expect(applyMultiplierBp(3, 3_333)).toBe(1);
  });
});
