import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AdmissionModule } from '../admission/admission.module';
import { CatalogModule } from '../catalog/catalog.module';
import { ChannelsModule } from '../channels/channels.module';
import { DemoProvider } from '../relay';
import { SpendModule } from '../spend/spend.module';
import { UsageEventsModule } from '../usage-events/usage-events.module';
import { AnthropicHttpController } from './anthropic.http.controller';
import { GeminiHttpController } from './gemini.http.controller';
import { OpenAiHttpController } from './openai.http.controller';
import { ChatRelay } from './chat-relay';
import { CountTokens } from './count-tokens';
import { ModelListing } from './model-listing';
import { OpenAiEndpoints } from './openai-endpoints';
import { RelayService } from './relay.service';
import { ReplicateChat } from './replicate-chat';
import { StreamRelay } from './stream-relay';
import { UpstreamAttempts } from './upstream-attempts';

/** What customers call: the OpenAI, Anthropic and Gemini surfaces and the relay behind them. */
@Module({
  imports: [AccessModule, AdmissionModule, CatalogModule, ChannelsModule, SpendModule, UsageEventsModule],
  controllers: [AnthropicHttpController, GeminiHttpController, OpenAiHttpController],
  providers: [
    { provide: DemoProvider, useFactory: () => new DemoProvider() },
    ChatRelay,
    CountTokens,
    ModelListing,
    OpenAiEndpoints,
    RelayService,
    ReplicateChat,
    StreamRelay,
    UpstreamAttempts,
  ],
})
export class DataPlaneModule {}
