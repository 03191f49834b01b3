import { Controller, Get } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { microToUsd } from '@torouter/money';
import { CatalogCache } from './catalog.cache';

const catalogSchema: SchemaObject = {
  type: 'object',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', example: 'claude-opus-4-7' },
          vendor: { type: 'string' },
          modality: {
            type: 'string',
            enum: ['text', 'multimodal', 'image', 'video', 'audio', 'embedding', 'rerank'],
          },
          inputUsdPerMTok: { type: 'number' },
          outputUsdPerMTok: { type: 'number' },
          cacheReadUsdPerMTok: { type: 'number', nullable: true },
          cacheWrite5mUsdPerMTok: { type: 'number', nullable: true },
          cacheWrite1hUsdPerMTok: { type: 'number', nullable: true },
          perRequestUsd: { type: 'number', nullable: true },
          contextWindow: { type: 'integer', nullable: true },
          maxOutputTokens: { type: 'integer', nullable: true },
          supportsThinking: { type: 'boolean' },
        },
      },
    },
  },
};

const usdOrNull = (micro: number | null) => (micro === null ? null : microToUsd(micro));

@ApiTags('Catalog')
@Controller('api/v1/catalog')
export class CatalogHttpController {
  constructor(private readonly catalog: CatalogCache) {}

  @Get('models')
  @ApiOperation({
    operationId: 'listCatalogModels',
    summary: 'The public model catalog with prices (USD per million tokens) and modalities',
  })
  @ApiOkResponse({ schema: catalogSchema })
  listCatalogModels(): unknown {
    return {
      data: this.catalog.listModels().map((m) => ({
        id: m.id,
        vendor: m.vendor,
        modality: m.modality,
        inputUsdPerMTok: microToUsd(m.inputMicroUsdPerMTok),
        outputUsdPerMTok: microToUsd(m.outputMicroUsdPerMTok),
        cacheReadUsdPerMTok: usdOrNull(m.cacheReadMicroUsdPerMTok),
        cacheWrite5mUsdPerMTok: usdOrNull(m.cacheWrite5mMicroUsdPerMTok),
        cacheWrite1hUsdPerMTok: usdOrNull(m.cacheWrite1hMicroUsdPerMTok),
        perRequestUsd: usdOrNull(m.perRequestMicroUsd),
        contextWindow: m.contextWindow,
        maxOutputTokens: m.maxOutputTokens,
        supportsThinking: m.supportsThinking,
      })),
    };
  }
}
