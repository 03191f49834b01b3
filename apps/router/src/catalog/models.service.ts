import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { microToUsd, usdToMicro } from '@torouter/money';
import { QueryFailedError } from 'typeorm';
import { CatalogCache } from './catalog.cache';
import { CatalogRepository } from './catalog.repository';
import type { ModelEntity } from './model.entity';
import type { CreateModelBody, UpdateModelBody } from './model.schemas';

export interface ModelView {
  id: string;
  vendor: string;
  modality: string;
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  cacheReadUsdPerMTok: number | null;
  cacheWrite5mUsdPerMTok: number | null;
  cacheWrite1hUsdPerMTok: number | null;
  perRequestUsd: number | null;
  contextWindow: number | null;
  maxOutputTokens: number | null;
  supportsThinking: boolean;
  createdAt: string;
  updatedAt: string;
}

const usdOrNull = (micro: number | null) => (micro === null ? null : microToUsd(micro));

export function toModelView(m: ModelEntity): ModelView {
  return {
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
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/** Prices arrive as USD and are stored as exact integer micro-USD (never through float arithmetic). */
function micro(value: number | string, field: string): number {
  try {
    return usdToMicro(value);
  } catch {
    throw new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: a USD amount with at most 6 decimals`);
  }
}

const microOrNull = (value: number | string | null | undefined, field: string) =>
  value === null || value === undefined ? null : micro(value, field);

/** Admin management of the model catalog and its prices; every change reloads every replica. */
@Injectable()
export class ModelsService {
  constructor(
    private readonly repo: CatalogRepository,
    private readonly catalog: CatalogCache,
  ) {}

  async list(): Promise<ModelView[]> {
    return (await this.repo.listModels()).map(toModelView);
  }

  async get(id: string): Promise<ModelView> {
    const model = await this.repo.findModel(id);
    if (!model) throw notFound(id);
    return toModelView(model);
  }

  async create(body: CreateModelBody): Promise<ModelView> {
    if (await this.repo.findModel(body.id)) {
      throw new DomainError(ErrorCodes.CONFLICT, `model ${body.id} already exists`);
    }
    try {
      await this.repo.insertModel({
        id: body.id,
        vendor: body.vendor,
        modality: body.modality,
        inputMicroUsdPerMTok: micro(body.inputUsdPerMTok, 'inputUsdPerMTok'),
        outputMicroUsdPerMTok: micro(body.outputUsdPerMTok, 'outputUsdPerMTok'),
        cacheReadMicroUsdPerMTok: microOrNull(body.cacheReadUsdPerMTok, 'cacheReadUsdPerMTok'),
        cacheWrite5mMicroUsdPerMTok: microOrNull(body.cacheWrite5mUsdPerMTok, 'cacheWrite5mUsdPerMTok'),
        cacheWrite1hMicroUsdPerMTok: microOrNull(body.cacheWrite1hUsdPerMTok, 'cacheWrite1hUsdPerMTok'),
        perRequestMicroUsd: microOrNull(body.perRequestUsd, 'perRequestUsd'),
        contextWindow: body.contextWindow ?? null,
        maxOutputTokens: body.maxOutputTokens ?? null,
        supportsThinking: body.supportsThinking,
      });
    } catch (e) {
      if (e instanceof QueryFailedError && (e as QueryFailedError & { code?: string }).code === '23505') {
        throw new DomainError(ErrorCodes.CONFLICT, `model ${body.id} already exists`);
      }
      throw e;
    }
    await this.catalog.changed(`model ${body.id} created`);
    return this.get(body.id);
  }

  async update(id: string, body: UpdateModelBody): Promise<ModelView> {
    if (!(await this.repo.findModel(id))) throw notFound(id);
    const fields: Partial<ModelEntity> = {};
    if (body.vendor !== undefined) fields.vendor = body.vendor;
    if (body.modality !== undefined) fields.modality = body.modality;
    if (body.inputUsdPerMTok !== undefined)
      fields.inputMicroUsdPerMTok = micro(body.inputUsdPerMTok, 'inputUsdPerMTok');
    if (body.outputUsdPerMTok !== undefined) {
      fields.outputMicroUsdPerMTok = micro(body.outputUsdPerMTok, 'outputUsdPerMTok');
    }
    if (body.cacheReadUsdPerMTok !== undefined) {
      fields.cacheReadMicroUsdPerMTok = microOrNull(body.cacheReadUsdPerMTok, 'cacheReadUsdPerMTok');
    }
    if (body.cacheWrite5mUsdPerMTok !== undefined) {
      fields.cacheWrite5mMicroUsdPerMTok = microOrNull(body.cacheWrite5mUsdPerMTok, 'cacheWrite5mUsdPerMTok');
    }
    if (body.cacheWrite1hUsdPerMTok !== undefined) {
      fields.cacheWrite1hMicroUsdPerMTok = microOrNull(body.cacheWrite1hUsdPerMTok, 'cacheWrite1hUsdPerMTok');
    }
    if (body.perRequestUsd !== undefined)
      fields.perRequestMicroUsd = microOrNull(body.perRequestUsd, 'perRequestUsd');
    if (body.contextWindow !== undefined) fields.contextWindow = body.contextWindow;
    if (body.maxOutputTokens !== undefined) fields.maxOutputTokens = body.maxOutputTokens;
    if (body.supportsThinking !== undefined) fields.supportsThinking = body.supportsThinking;
    if (Object.keys(fields).length > 0) {
      await this.repo.updateModel(id, fields);
      await this.catalog.changed(`model ${id} updated`);
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.deleteModel(id))) throw notFound(id);
    await this.catalog.changed(`model ${id} deleted`);
  }
}

function notFound(id: string): DomainError {
  return new DomainError(ErrorCodes.NOT_FOUND, `model ${id} is not in the catalog`);
}
