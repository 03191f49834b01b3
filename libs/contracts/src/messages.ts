import type { AuthEventContracts, AuthRpcContracts } from './auth.contract';
import type { BillingEventContracts, BillingRpcContracts } from './billing.contract';
import type { HealthRpcContracts } from './health.contract';
import type { KeysEventContracts, KeysRpcContracts } from './keys.contract';
import type { RouterEventContracts } from './router.contract';
import type { UsageRpcContracts } from './usage.contract';

/**
 * Every request/reply subject mapped to its request payload and response type, and every event subject to
 * its payload, composed from each owner's contract file. `RpcClient.send` and `EventBus.publish` are typed
 * by these, so a wrong payload or subject is a compile error. A service adds its subjects to its own
 * `<service>.contract.ts` and its interface here.
 */
export interface RpcContracts
  extends HealthRpcContracts, AuthRpcContracts, KeysRpcContracts, BillingRpcContracts, UsageRpcContracts {}
export type RpcSubject = keyof RpcContracts;

export interface EventContracts
  extends AuthEventContracts, KeysEventContracts, RouterEventContracts, BillingEventContracts {}
export type EventSubject = keyof EventContracts;
