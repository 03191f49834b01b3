import { ClientNats, NatsRecordBuilder } from '@nestjs/microservices';
import {
  DomainError,
  ErrorCodes,
  isRpcErrorPayload,
  namespaced,
  type RpcContracts,
  type RpcSubject,
} from '@torouter/contracts';
import { currentRequestId, REQUEST_ID_HEADER } from '@torouter/observability';
import { headers as natsHeaders } from 'nats';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

export interface RpcClientOptions {
  natsUrl: string;
  namespace: string;
  /** Default per-call timeout; a service that does not answer in time is `service_unavailable`. */
  timeoutMs: number;
  name: string;
}

/**
 * Typed request/reply over Nest's NATS transport. `send(subject, payload)` only compiles when the payload
 * matches the subject's contract, and resolves to the contract's response type. Errors come back as
 * `DomainError`s with the remote code; an absent or silent service becomes `service_unavailable`.
 */
export class RpcClient {
  private readonly client: ClientNats;

  constructor(private readonly options: RpcClientOptions) {
    this.client = new ClientNats({
      servers: options.natsUrl.split(','),
      name: options.name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  }

  connect(): Promise<unknown> {
    return this.client.connect();
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async send<S extends RpcSubject>(
    subject: S,
    payload: RpcContracts[S]['request'],
    opts: { timeoutMs?: number; requestId?: string } = {},
  ): Promise<RpcContracts[S]['response']> {
    const h = natsHeaders();
    const requestId = opts.requestId ?? currentRequestId();
    if (requestId) h.set(REQUEST_ID_HEADER, requestId);
    const record = new NatsRecordBuilder(payload).setHeaders(h).build();
    const ms = opts.timeoutMs ?? this.options.timeoutMs;
    try {
      return await firstValueFrom(
        this.client
          .send<RpcContracts[S]['response']>(namespaced(this.options.namespace, subject), record)
          .pipe(timeout(ms)),
      );
    } catch (e) {
      throw toDomainError(subject, e, ms);
    }
  }
}

function toDomainError(subject: string, e: unknown, ms: number): DomainError {
  if (e instanceof DomainError) return e;
  if (isRpcErrorPayload(e)) return new DomainError(e.code, e.message, e.details);
  const service = subject.split('.')[0];
  if (e instanceof TimeoutError) {
    return new DomainError(ErrorCodes.SERVICE_UNAVAILABLE, `${service} did not answer within ${ms} ms`, {
      subject,
    });
  }
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  // "Empty response. There are no subscribers listening to that message" and connection failures.
  return new DomainError(ErrorCodes.SERVICE_UNAVAILABLE, `${service} is unreachable over NATS: ${message}`, {
    subject,
  });
}
