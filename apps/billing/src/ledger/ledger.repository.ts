import { Injectable } from '@nestjs/common';
import type { LedgerEntryKind } from '@torouter/contracts';
import { DataSource } from 'typeorm';
import { int, one, rows, type Sql } from '../database/sql';

export interface LedgerEntry {
  id: number;
  accountId: string;
  kind: LedgerEntryKind;
  amountMicro: number;
  balanceAfterMicro: number;
  idempotencyKey: string;
  requestHash: string | null;
  reference: string | null;
  note: string | null;
  createdAt: Date;
}

export interface NewLedgerEntry {
  accountId: string;
  kind: LedgerEntryKind;
  /** Signed micro-USD; never 0. */
  amountMicro: number;
  /** Unique forever: a second entry with the same key is impossible (the first is returned instead). */
  idempotencyKey: string;
  requestHash?: string | null;
  reference?: string | null;
  note?: string | null;
}

interface EntryRow {
  id: string;
  account_id: string;
  kind: LedgerEntryKind;
  amount_micro: string;
  balance_after_micro: string;
  idempotency_key: string;
  request_hash: string | null;
  reference: string | null;
  note: string | null;
  created_at: Date;
}

const toEntry = (r: EntryRow): LedgerEntry => ({
  id: int(r.id),
  accountId: r.account_id,
  kind: r.kind,
  amountMicro: int(r.amount_micro),
  balanceAfterMicro: int(r.balance_after_micro),
  idempotencyKey: r.idempotency_key,
  requestHash: r.request_hash,
  reference: r.reference,
  note: r.note,
  createdAt: r.created_at,
});

const columns = `"id", "account_id", "kind", "amount_micro", "balance_after_micro", "idempotency_key", "request_hash",
  "reference", "note", "created_at"`;

/**
 * The only place that queries `billing.ledger_entries`. Inserting an entry is the only way a balance
 * moves (database triggers apply it under the account's row lock); entries are never updated or deleted.
 */
@Injectable()
export class LedgerRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Appends an entry unless its idempotency key was used before. `inserted: false` returns the earlier
   * entry and moves no money. The billing account row must exist.
   */
  async append(q: Sql, e: NewLedgerEntry): Promise<{ entry: LedgerEntry; inserted: boolean }> {
    const inserted = await one<EntryRow>(
      q,
      `INSERT INTO "billing"."ledger_entries"
         ("account_id", "kind", "amount_micro", "balance_after_micro", "idempotency_key", "request_hash", "reference", "note")
       VALUES ($1, $2, $3, 0, $4, $5, $6, $7)
       ON CONFLICT ("idempotency_key") DO NOTHING
       RETURNING ${columns}`,
      [
        e.accountId,
        e.kind,
        e.amountMicro,
        e.idempotencyKey,
        e.requestHash ?? null,
        e.reference ?? null,
        e.note ?? null,
      ],
    );
    if (inserted) return { entry: toEntry(inserted), inserted: true };
    const existing = await this.findByKey(e.idempotencyKey, q);
    if (!existing) throw new Error(`ledger entry ${e.idempotencyKey} vanished`);
    return { entry: existing, inserted: false };
  }

  /**
   * Appends many entries in one statement (`billing.append_ledger_entries`: each account locked once, in id
   * order, every entry's balance_after a running sum in the order given, each balance moved once). An
   * entry whose idempotency key was used before (or repeats within `entries`) is skipped and moves no
   * money. Returns the keys of the entries really inserted. Every account must have its billing row.
   */
  async appendMany(q: Sql, entries: NewLedgerEntry[]): Promise<Set<string>> {
    if (!entries.length) return new Set();
    const inserted = await rows<{ key: string }>(
      q,
      `SELECT "billing"."append_ledger_entries"($1::uuid[], $2::varchar[], $3::bigint[], $4::varchar[], $5::varchar[],
         $6::varchar[], $7::varchar[]) AS "key"`,
      [
        entries.map((e) => e.accountId),
        entries.map((e) => e.kind),
        entries.map((e) => e.amountMicro),
        entries.map((e) => e.idempotencyKey),
        entries.map((e) => e.requestHash ?? null),
        entries.map((e) => e.reference ?? null),
        entries.map((e) => e.note ?? null),
      ],
    );
    return new Set(inserted.map((r) => r.key));
  }

  async findByKey(idempotencyKey: string, q: Sql = this.dataSource): Promise<LedgerEntry | null> {
    const r = await one<EntryRow>(
      q,
      `SELECT ${columns} FROM "billing"."ledger_entries" WHERE "idempotency_key" = $1`,
      [idempotencyKey],
    );
    return r ? toEntry(r) : null;
  }

  /** Newest first; `beforeId` continues after the last entry of the previous page. */
  async page(accountId: string, beforeId: number | null, limit: number): Promise<LedgerEntry[]> {
    const list = await rows<EntryRow>(
      this.dataSource,
      `SELECT ${columns} FROM "billing"."ledger_entries"
       WHERE "account_id" = $1 AND ($2::bigint IS NULL OR "id" < $2::bigint)
       ORDER BY "id" DESC LIMIT $3`,
      [accountId, beforeId, limit],
    );
    return list.map(toEntry);
  }

  /**
   * Credits other than top-ups booked after entry `afterId` (admin and signup credits; refund attribution,
   * FIFO). Top-ups are counted by their orders, net of refunds; a reversed refund is no new money.
   */
  async otherCreditsAfter(q: Sql, accountId: string, afterId: number): Promise<number> {
    const r = await one<{ total: string | null }>(
      q,
      `SELECT sum("amount_micro") AS "total" FROM "billing"."ledger_entries"
       WHERE "account_id" = $1 AND "id" > $2 AND "amount_micro" > 0 AND "kind" NOT IN ('topup', 'refund_reversal')`,
      [accountId, afterId],
    );
    return int(r?.total ?? 0);
  }
}
