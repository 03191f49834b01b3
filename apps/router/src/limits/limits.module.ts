import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AccessModule } from '../access/access.module';
import { ErrorHeadersInterceptor } from './error-headers.interceptor';
import { IpAccessStep } from './ip-access.step';
import { ModelWhitelistStep } from './model-whitelist.step';
import { RequestWindows } from './request-windows';
import { RequestWindowsStep } from './request-windows.step';

/**
 * The key's own limits on the data plane, as admission steps: IP whitelist/blacklist (10), model
 * whitelist (20), request windows and RPM/TPM in Redis (40).
 */
@Module({
  imports: [AccessModule],
  providers: [
    { provide: APP_INTERCEPTOR, useClass: ErrorHeadersInterceptor },
    IpAccessStep,
    ModelWhitelistStep,
    RequestWindows,
    RequestWindowsStep,
  ],
  exports: [RequestWindows],
})
export class LimitsModule {}
