/** An amount of money in integer micro-USD. */
export type MicroUsd = number;

export const MICRO_PER_USD = 1_000_000;

function assertSafe(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} is not a safe integer: ${n}`);
}

/**
 * Parses a USD amount given as a decimal string or number ("12.5", 12.5) into micro-USD exactly, by its
 * decimal digits rather than by multiplying a float. More than 6 decimals is refused, not rounded.
 */
export function usdToMicro(amount: string | number): MicroUsd {
  const text = typeof amount === 'number' ? numberToPlainString(amount) : amount.trim();
  const m = /^(-)?(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new RangeError(`not a USD amount with at most 6 decimals: ${String(amount)}`);
  const micro = Number(m[2]) * MICRO_PER_USD + Number((m[3] ?? '').padEnd(6, '0'));
  assertSafe(micro, 'amount');
  return m[1] ? -micro : micro;
}

function numberToPlainString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  // toFixed(7) then trim keeps e.g. 0.1 as "0.1" rather than 0.1000000000000000055…
  return n.toFixed(7).replace(/0+$/, '').replace(/\.$/, '');
}

/** Exact decimal USD string for display and JSON ("12.500000" → "12.5"). */
export function microToUsdString(micro: MicroUsd): string {
  assertSafe(micro, 'amount');
  const sign = micro < 0 ? '-' : '';
  const abs = Math.abs(micro);
  const whole = Math.floor(abs / MICRO_PER_USD);
  const frac = String(abs % MICRO_PER_USD)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return frac ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** USD as a JSON number for API responses (display only; never fed back into arithmetic). */
export function microToUsd(micro: MicroUsd): number {
  return Number(microToUsdString(micro));
}

/**
 * Cost of `tokens` at a price in micro-USD per million tokens, rounded UP to the next micro-USD so that
 * many tiny requests never round to free.
 */
export function tokenCost(tokens: number, microUsdPerMTok: MicroUsd): MicroUsd {
  assertSafe(tokens, 'tokens');
  assertSafe(microUsdPerMTok, 'price');
  if (tokens <= 0 || microUsdPerMTok <= 0) return 0;
  const product = tokens * microUsdPerMTok;
  assertSafe(product, 'tokens × price');
  return Math.ceil(product / 1_000_000);
}

/** Applies a multiplier given in basis points (10000 = ×1), rounding up. */
export function applyMultiplierBp(micro: MicroUsd, multiplierBp: number): MicroUsd {
  assertSafe(micro, 'amount');
  assertSafe(multiplierBp, 'multiplier');
  const product = micro * multiplierBp;
  assertSafe(product, 'amount × multiplier');
  return Math.ceil(product / 10_000);
}
