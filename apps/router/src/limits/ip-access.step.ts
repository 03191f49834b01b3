import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { Caller } from '../access/access.service';
import { displayIp, ipAllowed } from '../access/ip-rules';
import { KeyLastUsedRecorder } from '../access/key-last-used.recorder';
import { AdmissionStepProvider } from '../admission/admission-step.decorator';
import type { AdmissionContext, AdmissionStep } from '../admission/admission.types';

/** Refuses a client IP outside the key's whitelist or inside its blacklist (403 ACCESS_DENIED). */
export function assertIpAllowed(caller: Caller, clientIp: string): void {
  if (!ipAllowed(caller.limits.ipRules, clientIp)) {
    throw new DomainError(
      ErrorCodes.ACCESS_DENIED,
      `this API key does not accept requests from ${displayIp(clientIp)} (its IP whitelist/blacklist)`,
    );
  }
}

/**
 * Order 10, the first check after the key and account states. Also notes the key's last use (time and
 * IP, batched): the IP a refused request came from is exactly what its owner needs to see to fix a list.
 */
@AdmissionStepProvider()
@Injectable()
export class IpAccessStep implements AdmissionStep {
  readonly name = 'ip-access';
  readonly order = 10;

  constructor(private readonly lastUsed: KeyLastUsedRecorder) {}

  admit(ctx: AdmissionContext): void {
    this.lastUsed.record(ctx.caller.keyId, ctx.clientIp);
    assertIpAllowed(ctx.caller, ctx.clientIp);
  }
}
