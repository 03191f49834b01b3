import type { DataSource } from 'typeorm';

/** Anything that runs SQL: the DataSource, or the EntityManager of a transaction. */
export interface Sql {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Rows of a query. TypeORM's Postgres driver answers UPDATE/DELETE … RETURNING with `[rows, count]` and
 * everything else with `rows`; this hides the difference.
 */
export async function rows<T>(q: Sql, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await q.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  )
    return result[0] as T[];
  return result as T[];
}

export async function one<T>(q: Sql, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await rows<T>(q, sql, params))[0];
}

/** A bigint column (pg returns strings) as a number; money and versions stay far below 2^53. */
export function int(value: string | number | null | undefined): number {
  const n = Number(value ?? 0);
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${String(value)}`);
  return n;
}

export function transaction<T>(dataSource: DataSource, fn: (q: Sql) => Promise<T>): Promise<T> {
  return dataSource.transaction((manager) => fn(manager));
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string | null | undefined): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

/** Postgres unique_violation on the named constraint/index. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = e as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = err.code ?? err.driverError?.code;
  const name = err.constraint ?? err.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}
