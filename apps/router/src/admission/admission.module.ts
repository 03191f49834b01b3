import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AdmissionPipeline } from './admission.pipeline';

@Module({
  imports: [DiscoveryModule],
  providers: [AdmissionPipeline],
  exports: [AdmissionPipeline],
})
export class AdmissionModule {}
