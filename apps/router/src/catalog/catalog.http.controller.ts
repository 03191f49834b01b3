import { Controller, Get } from '@nestjs/common';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogCache } from './catalog.cache';
import { toModelView } from './models.service';

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
    // The admin view minus bookkeeping timestamps: one mapping from the stored micro-USD prices.
    return {
      data: this.catalog.listModels().map((m) => {
        const { createdAt: _created, updatedAt: _updated, ...view } = toModelView(m);
        return view;
      }),
    };
  }
}
