import { Global, Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AccountSessionGuard, AdminGuard, PrincipalResolver } from './guards/account-session.guard';

/** Guards every control-plane feature module uses: account sessions and admin access. */
@Global()
@Module({
  imports: [AccessModule],
  providers: [AccountSessionGuard, AdminGuard, PrincipalResolver],
  exports: [AccountSessionGuard, AdminGuard, PrincipalResolver],
})
export class ControlPlaneAccessModule {}
