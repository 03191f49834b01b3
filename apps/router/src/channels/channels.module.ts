import { Module } from '@nestjs/common';
import type { RouterConfig } from '@torouter/config';
import { APP_CONFIG } from '@torouter/service-runtime';
import { CatalogModule } from '../catalog/catalog.module';
import { ChannelHealth } from './channel-health';
import { ChannelRuntimes } from './channel-runtimes';
import { ChannelsHttpController } from './channels.http.controller';
import { ChannelsService } from './channels.service';
import { CredentialsCipher } from './credentials.cipher';
import { UpstreamHttp } from './upstream-http';

/** Upstream channels: admin API, encrypted credentials, health and cool-down, the pooled HTTP client. */
@Module({
  imports: [CatalogModule],
  controllers: [ChannelsHttpController],
  providers: [
    {
      provide: CredentialsCipher,
      inject: [APP_CONFIG],
      useFactory: (config: RouterConfig) => new CredentialsCipher(config.TOROUTER_SECRET),
    },
    ChannelHealth,
    ChannelRuntimes,
    ChannelsService,
    UpstreamHttp,
  ],
  exports: [ChannelHealth, ChannelRuntimes, CredentialsCipher, UpstreamHttp],
})
export class ChannelsModule {}
