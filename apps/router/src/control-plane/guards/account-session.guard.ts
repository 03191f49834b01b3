import {
  createParamDecorator,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { DomainError, ErrorCodes, type AccountRole } from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';
import { verifySessionToken } from '@torouter/session-token';
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual, createHash } from 'node:crypto';
import { KeyPolicyCache } from '../../access/key-policy.cache';

/** Who is calling the control plane. `admin-token` callers are internal services, not accounts. */
export type Principal =
  { kind: 'account'; accountId: string; role: AccountRole; token: string } | { kind: 'admin-token' };

type RequestWithPrincipal = FastifyRequest & { principal?: Principal };

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

/** Compares digests, so inputs of any length compare in constant time and never throw. */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/**
 * Resolves the caller of a control-plane route from `Authorization: Bearer …`: the admin token, or an
 * account session token (verified locally; its epoch and the account's existence checked against the
 * cached account status, which `auth.account.changed.v1` events keep current).
 */
@Injectable()
export class PrincipalResolver {
  constructor(
    @Inject(APP_CONFIG) private readonly config: RouterConfig,
    private readonly cache: KeyPolicyCache,
  ) {}

  async resolve(request: FastifyRequest): Promise<Principal | null> {
    const token = bearer(request);
    if (!token) return null;
    if (sameSecret(token, this.config.TOROUTER_ADMIN_TOKEN)) return { kind: 'admin-token' };
    const session = await verifySessionToken(token, this.config.TOROUTER_SECRET);
    if (!session) return null;
    const account = await this.cache.account(session.sub);
    if (!account.exists || account.sessionEpoch !== session.epoch) return null;
    return { kind: 'account', accountId: session.sub, role: account.role, token };
  }
}

/** Requires a signed-in account (401 `unauthorized` otherwise). */
@Injectable()
export class AccountSessionGuard implements CanActivate {
  constructor(private readonly principals: PrincipalResolver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const principal = await this.principals.resolve(request);
    if (!principal || principal.kind !== 'account') {
      throw new DomainError(
        ErrorCodes.UNAUTHORIZED,
        'sign in first: send Authorization: Bearer <accessToken>',
      );
    }
    request.principal = principal;
    return true;
  }
}

/** Requires the admin token or an account with role `admin` (401 without credentials, 403 `forbidden` otherwise). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly principals: PrincipalResolver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const principal = await this.principals.resolve(request);
    if (!principal)
      throw new DomainError(
        ErrorCodes.UNAUTHORIZED,
        'send Authorization: Bearer <admin token or admin session>',
      );
    if (principal.kind === 'account' && principal.role !== 'admin') {
      throw new DomainError(ErrorCodes.FORBIDDEN, 'this route is for administrators');
    }
    request.principal = principal;
    return true;
  }
}

/** The principal a guard resolved; use after `AccountSessionGuard` or `AdminGuard`. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without a principal guard');
  return principal;
});

/** The signed-in account's id; use after `AccountSessionGuard`. */
export const CurrentAccountId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (principal?.kind !== 'account')
    throw new Error('CurrentAccountId used on a route without AccountSessionGuard');
  return principal.accountId;
});
