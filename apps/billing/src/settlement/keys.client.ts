import { Inject, Injectable } from '@nestjs/common';
import type { BillingConfig } from '@torouter/config';
import { DomainError, ErrorCodes, Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { usdToMicro } from '@torouter/money';
import { APP_CONFIG } from '@torouter/service-runtime';

/** billing → keys over NATS: the running spend shown on each key (`spentUsd`), and reading it back. */
@Injectable()
export class KeysClient {
  private readonly rpc: RpcClient;
  private connected?: Promise<unknown>;

  constructor(@Inject(APP_CONFIG) config: BillingConfig) {
    this.rpc = new RpcClient({
      natsUrl: config.NATS_URL,
      namespace: config.TOROUTER_NAMESPACE,
      timeoutMs: config.NATS_REQUEST_TIMEOUT_MS,
      name: `${config.TOROUTER_NAMESPACE}-billing-rpc`,
    });
  }

  /** Idempotent by requestId on the keys side. A key that no longer exists has nothing to show it on. */
  async addSpend(keyId: string, requestId: string, amountMicroUsd: number): Promise<void> {
    this.connected ??= this.rpc.connect();
    await this.connected;
    try {
      await this.rpc.send(Subjects.keysApiKeySpendAdd, { keyId, requestId, amountMicroUsd });
    } catch (e) {
      if (!(e instanceof DomainError && e.code === ErrorCodes.NOT_FOUND)) throw e;
    }
  }

  /** The key's running spend as keys has it (a rotated key starts with its predecessor's); 0 if unknown. */
  async spentMicro(accountId: string, keyId: string): Promise<number> {
    this.connected ??= this.rpc.connect();
    await this.connected;
    try {
      const key = await this.rpc.send(Subjects.keysApiKeyGet, { accountId, keyId });
      return usdToMicro(key.spentUsd);
    } catch (e) {
      if (e instanceof DomainError && e.code === ErrorCodes.NOT_FOUND) return 0;
      throw e;
    }
  }

  /** Closed by the settlement queue once its worker has stopped (the last user at shutdown). */
  async close(): Promise<void> {
    if (this.connected) await this.rpc.close();
  }
}
