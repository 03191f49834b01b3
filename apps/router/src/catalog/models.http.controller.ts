import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ZodPayloadPipe } from '@torouter/messaging';
import { AdminGuard } from '../control-plane/guards/account-session.guard';
import { AdminErrors } from './admin-errors.decorator';
import {
  createModelBody,
  type CreateModelBody,
  createModelSchema,
  modelListSchema,
  modelSchema,
  updateModelBody,
  type UpdateModelBody,
  updateModelSchema,
} from './model.schemas';
import { ModelsService, type ModelView } from './models.service';

/** The model catalog and its prices (admin token or an admin session). Model ids with `/` are URL-encoded. */
@ApiTags('Admin · Models')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/v1/admin/models')
export class ModelsHttpController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @ApiOperation({ operationId: 'createModel', summary: 'Add a model to the catalog with its prices' })
  @ApiBody({ schema: createModelSchema })
  @ApiResponse({ status: 201, schema: modelSchema })
  @AdminErrors(
    [400, '`validation_failed`'],
    [401, '`unauthorized`'],
    [403, '`forbidden`'],
    [409, '`conflict`'],
  )
  createModel(@Body(new ZodPayloadPipe(createModelBody)) body: CreateModelBody): Promise<ModelView> {
    return this.models.create(body);
  }

  @Get()
  @ApiOperation({ operationId: 'listAdminModels', summary: 'The whole catalog' })
  @ApiOkResponse({ schema: modelListSchema })
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'])
  async listAdminModels(): Promise<{ data: ModelView[] }> {
    return { data: await this.models.list() };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAdminModel', summary: 'One catalog model' })
  @ApiOkResponse({ schema: modelSchema })
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'], [404, '`not_found`'])
  getAdminModel(@Param('id') id: string): Promise<ModelView> {
    return this.models.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateModel',
    summary: "Change a model's prices or limits (new requests use them at once)",
  })
  @ApiBody({ schema: updateModelSchema })
  @ApiOkResponse({ schema: modelSchema })
  @AdminErrors(
    [400, '`validation_failed`'],
    [401, '`unauthorized`'],
    [403, '`forbidden`'],
    [404, '`not_found`'],
  )
  updateModel(
    @Param('id') id: string,
    @Body(new ZodPayloadPipe(updateModelBody)) body: UpdateModelBody,
  ): Promise<ModelView> {
    return this.models.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteModel', summary: 'Remove a model from the catalog' })
  @ApiNoContentResponse()
  @AdminErrors([401, '`unauthorized`'], [403, '`forbidden`'], [404, '`not_found`'])
  async deleteModel(@Param('id') id: string): Promise<void> {
    await this.models.delete(id);
  }
}
