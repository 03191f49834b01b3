import { Injectable, Logger } from '@nestjs/common';
import { Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';

/** How long the dashboard waits for billing before showing everything else without the balance. */
const BALANCE_TIMEOUT_MS = 2000;

/** The dashboard's balance card, from billing; null when billing does not answer (never fails the page). */
@Injectable()
export class UsageBalanceReader {
  private readonly logger = new Logger(UsageBalanceReader.name);

  constructor(private readonly rpc: RpcClient) {}

  async balanceUsd(accountId: string): Promise<number | null> {
    try {
      const balance = await this.rpc.send(
        Subjects.billingBalanceGet,
        { accountId },
        { timeoutMs: BALANCE_TIMEOUT_MS },
      );
      return typeof balance?.balanceUsd === 'number' ? balance.balanceUsd : null;
    } catch (e) {
      this.logger.warn(`dashboard without balance: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }
}
