import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  type AdminCreditRequest,
  type AdminCreditResult,
  type BalanceView,
  type LedgerEntryView,
  type LedgerPage,
} from '@torouter/contracts';
import { microToUsd, microToUsdString, usdToMicro } from '@torouter/money';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BillingAccountsRepository } from '../accounts/billing-accounts.repository';
import { decodeCursor, encodeCursor } from '../database/cursor';
import { transaction } from '../database/sql';
import { accountCounter, SpendStateService } from '../spend-state/spend-state.service';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { LedgerRepository, type LedgerEntry } from './ledger.repository';

export function toLedgerEntryView(e: LedgerEntry): LedgerEntryView {
  return {
    id: String(e.id),
    kind: e.kind,
    amountUsd: microToUsd(e.amountMicro),
    balanceAfterUsd: microToUsd(e.balanceAfterMicro),
    reference: e.reference,
    note: e.note,
    createdAt: e.createdAt.toISOString(),
  };
}

/** Balances, the ledger, and administrators' credits and debits. */
@Injectable()
export class LedgerService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: BillingAccountsRepository,
    private readonly ledger: LedgerRepository,
    private readonly spendState: SpendStateService,
    private readonly subscriptions: SubscriptionsService,
  ) {}

  async getBalance(accountId: string): Promise<BalanceView> {
    const account = await this.accounts.ensure(accountId);
    return {
      accountId,
      balanceUsd: microToUsd(account.balanceMicro),
      reservedUsd: microToUsd(await this.spendState.reservedMicroOrZero(accountId)),
      subscriptions: await this.subscriptions.listSubscriptions(accountId),
    };
  }

  async listLedger(accountId: string, cursor: string | undefined, limit: number): Promise<LedgerPage> {
    const after = decodeCursor(cursor, ['number']);
    const page = await this.ledger.page(accountId, after ? (after[0] as number) : null, limit + 1);
    const more = page.length > limit;
    const data = page.slice(0, limit);
    return {
      data: data.map(toLedgerEntryView),
      nextCursor: more ? encodeCursor([data[data.length - 1].id]) : null,
    };
  }

  /**
   * Credits (positive) or debits (negative) an account. The Idempotency-Key makes a retry safe: the same
   * key with the same body answers the first result and moves no money; with a different body it is a
   * conflict. A debit may not take the balance below zero.
   */
  async createAdminCredit(req: AdminCreditRequest): Promise<AdminCreditResult> {
    const amountMicro = usdToMicro(req.amountUsd);
    const note = req.note ?? '';
    const key = `admin:${req.idempotencyKey}`;
    const requestHash = createHash('sha256')
      .update(JSON.stringify([req.accountId, amountMicro, note]))
      .digest('hex');
    const replay = (entry: LedgerEntry): AdminCreditResult => {
      if (entry.requestHash !== requestHash)
        throw new DomainError(
          ErrorCodes.CONFLICT,
          'this Idempotency-Key was already used for a different request; use a new key',
        );
      return {
        entry: toLedgerEntryView(entry),
        balanceUsd: microToUsd(entry.balanceAfterMicro),
        replayed: true,
      };
    };
    const earlier = await this.ledger.findByKey(key);
    if (earlier) return replay(earlier);

    const { entry, inserted, account } = await transaction(this.dataSource, async (q) => {
      const locked = await this.accounts.lock(q, req.accountId);
      if (amountMicro < 0 && locked.balanceMicro + amountMicro < 0)
        throw new DomainError(
          ErrorCodes.INSUFFICIENT_BALANCE,
          `a debit of ${microToUsdString(-amountMicro)} USD exceeds the balance of ${microToUsdString(locked.balanceMicro)} USD`,
        );
      const appended = await this.ledger.append(q, {
        accountId: req.accountId,
        kind: amountMicro > 0 ? 'admin_credit' : 'admin_debit',
        amountMicro,
        idempotencyKey: key,
        requestHash,
        note: note || null,
      });
      return { ...appended, account: (await this.accounts.find(req.accountId, q))! };
    });
    if (!inserted) return replay(entry);
    await this.spendState.writeSoon([accountCounter(account)]);
    return {
      entry: toLedgerEntryView(entry),
      balanceUsd: microToUsd(entry.balanceAfterMicro),
      replayed: false,
    };
  }
}
