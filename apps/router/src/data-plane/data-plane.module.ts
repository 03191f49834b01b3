import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AdmissionModule } from '../admission/admission.module';
import { CatalogModule } from '../catalog/catalog.module';
import { DemoProvider } from '../relay';
import { AnthropicHttpController } from './anthropic.http.controller';
import { GeminiHttpController } from './gemini.http.controller';
import { OpenAiHttpController } from './openai.http.controller';
import { RelayService } from './relay.service';

/** What customers call: the OpenAI, Anthropic and Gemini surfaces and the relay behind them. */
@Module({
  imports: [AccessModule, AdmissionModule, CatalogModule],
  controllers: [AnthropicHttpController, GeminiHttpController, OpenAiHttpController],
  providers: [{ provide: DemoProvider, useFactory: () => new DemoProvider() }, RelayService],
})
export class DataPlaneModule {}
