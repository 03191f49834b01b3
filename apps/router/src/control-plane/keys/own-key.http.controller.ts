import { Controller, Get, Logger, Req, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { DomainError, ErrorCodes, Subjects, type ApiKeyView, type RateLimits } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import type { FastifyRequest } from 'fastify';
import { AccessService } from '../../access/access.service';
import { controlPlaneErrorEnvelope } from '../../docs/api-schemas';
import { assertIpAllowed } from '../../limits/ip-access.step';
import { RequestWindows, windowSpecs, type WindowName } from '../../limits/request-windows';
import { OwnApiKeyDto } from './keys.dto';

export interface WindowUsage {
  limit: number;
  used: number;
  remaining: number;
  resetMs: number;
}

export type OwnApiKey = ApiKeyView & { windows: Record<keyof RateLimits, WindowUsage | null> };

function Errors(errors: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: controlPlaneErrorEnvelope }),
    ),
  );
}

/**
 * `GET /api/v1/key` with the API key itself as credential: a program checks its own limits, spend and
 * window usage. The key must pass the same key, account and IP checks as a proxied request; asking
 * counts in no window.
 */
@ApiTags('API keys')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@ApiSecurity('x-goog-api-key')
@Controller()
export class OwnKeyHttpController {
  private readonly logger = new Logger(OwnKeyHttpController.name);

  constructor(
    private readonly access: AccessService,
    private readonly rpc: RpcClient,
    private readonly windows: RequestWindows,
  ) {}

  @Get('api/v1/key')
  @ApiOperation({
    operationId: 'getOwnApiKey',
    summary: 'The calling API key: its limits, spend, remaining quota and current window usage',
    description:
      'Authenticate with the API key (Authorization: Bearer sk-…, x-api-key or x-goog-api-key), not a session. ' +
      'Errors use the OpenAI envelope, like the data plane.',
  })
  @ApiResponse({ status: 200, type: OwnApiKeyDto })
  @Errors({
    400: '`api_key_in_query_deprecated`',
    401: '`API_KEY_REQUIRED`, `INVALID_API_KEY`, `API_KEY_DISABLED`, `API_KEY_EXPIRED`, `USER_INACTIVE`',
    403: '`ACCESS_DENIED`: the client IP is not allowed for this key',
    503: '`service_unavailable`: keys or the rate-limit store cannot be reached right now',
  })
  async getOwnApiKey(@Req() req: FastifyRequest): Promise<OwnApiKey> {
    const caller = await this.access.authenticate(
      { headers: req.headers, query: req.query as Record<string, unknown> },
      { allowQueryKey: false },
    );
    assertIpAllowed(caller, req.ip);
    const [view, verdict] = await Promise.all([
      this.rpc.send(Subjects.keysApiKeyGet, { accountId: caller.accountId, keyId: caller.keyId }),
      this.windows.peek(caller.limits.limitsId, caller.limits.rateLimits).catch((e: unknown) => {
        this.logger.error(`rate-limit store unavailable: ${e instanceof Error ? e.message : String(e)}`);
        throw new DomainError(
          ErrorCodes.SERVICE_UNAVAILABLE,
          'window usage cannot be read right now; retry shortly',
        );
      }),
    ]);
    const windows = Object.fromEntries(
      (Object.keys(windowSpecs) as WindowName[]).map((name) => [name, null]),
    ) as OwnApiKey['windows'];
    for (const w of verdict.windows) {
      windows[w.name] = { limit: w.limit, used: w.used, remaining: w.remaining, resetMs: w.resetMs };
    }
    return { ...view, windows };
  }
}
