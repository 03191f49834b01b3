import { Module } from '@nestjs/common';
import { SpendModule } from '../spend/spend.module';
import { QuotaStep } from './quota.step';
import { QuotaStore } from './quota.store';

/** The request windows and the spend reservation, taken and settled together in Redis (order 40). */
@Module({
  imports: [SpendModule],
  providers: [QuotaStore, QuotaStep],
})
export class QuotaModule {}
