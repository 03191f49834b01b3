/**
 * The spend counters a request is checked against (account balance, plan window caps, key cap), as the
 * quota scripts take them. Billing writes their loaded values (`SpendStateService`).
 */
export type CounterMode = { mode: 'balance' } | { mode: 'cap'; capMicro: number };

export interface SpendCounter {
  /** Unprefixed key (`SpendCounterKeys`); the connection's namespace prefix is added by ioredis. */
  key: string;
  check: CounterMode;
}

/** The Redis keys of counters, three each, in the order `spendLua` expects. */
export function spendKeysOf(counters: SpendCounter[]): string[] {
  return counters.flatMap((c) => [c.key, `${c.key}:z`, `${c.key}:a`]);
}

/** The check modes of counters, two arguments each, in the order `spendLua` expects. */
export function spendCheckArgs(counters: SpendCounter[]): string[] {
  return counters.flatMap((c) => (c.check.mode === 'balance' ? ['b', '0'] : ['c', String(c.check.capMicro)]));
}
