import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { IpAccessStep } from './ip-access.step';
import { ModelWhitelistStep } from './model-whitelist.step';
import { RequestWindows } from './request-windows';

/**
 * The key's own limits on the data plane, as admission steps: IP whitelist/blacklist (10), model
 * whitelist (20). Its request windows and RPM/TPM are checked by the quota step (40), with the spend.
 */
@Module({
  imports: [AccessModule],
  providers: [IpAccessStep, ModelWhitelistStep, RequestWindows],
  exports: [RequestWindows],
})
export class LimitsModule {}
