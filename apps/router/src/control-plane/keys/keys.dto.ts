import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * OpenAPI shapes of the key routes. Validation is done by the zod schemas in `@torouter/contracts`
 * (keys.contract.ts: ApiKeyCreateBody, ApiKeyUpdateBody); these classes only document the same fields.
 */

const listOf = (what: string, example: string) => ({
  oneOf: [
    { type: 'string', example, description: `${what}, comma- or newline-separated` },
    { type: 'array', items: { type: 'string' }, example: example.split(',').map((s) => s.trim()) },
  ],
});

const ipListDoc = (what: string) => ({
  ...listOf(
    `${what}: CIDRs or bare addresses (= /32 or /128), IPv4 dotted-decimal or IPv6`,
    '203.0.113.0/24, 2001:db8::/32',
  ),
  description:
    `${what}. Text (comma- or newline-separated, trimmed) or a JSON array. Each entry is a CIDR or a bare ` +
    'address, IPv4 (strict dotted-decimal: `127.1` and octal are refused) or IPv6; stored in canonical ' +
    'network form. An invalid entry → 400 naming it. Empty clears the list.',
});

export class RateLimitsDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 500,
    description: 'Requests per sliding 5 hours; 0 = off',
  })
  per5h!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 2000,
    description: 'Requests per sliding 24 hours; 0 = off',
  })
  per1d!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 10000,
    description: 'Requests per sliding 7 days; 0 = off',
  })
  per7d!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 60,
    description: 'Requests per sliding minute; 0 = off',
  })
  rpm!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 100000,
    description:
      'Tokens per sliding minute; 0 = off. A request reserves its input estimate + max_tokens (capped at the ' +
      'limit) and is corrected to the tokens actually used when it ends.',
  })
  tpm!: number;
}

export class RateLimitsInputDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 500 })
  per5h?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 2000 })
  per1d?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 10000 })
  per7d?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 60 })
  rpm?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 100000 })
  tpm?: number;
}

class KeySettingsInputDto {
  @ApiPropertyOptional({
    example: 'payg',
    description:
      "billing's plan id; absent = the account's default plan. The key inherits its default key limits.",
  })
  planId?: string;

  @ApiPropertyOptional({
    minimum: 0,
    example: 25,
    description: 'Spend cap in USD (at most 6 decimals); 0 = no key-specific cap; absent = the plan default',
  })
  quotaUsd?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    example: 90,
    description: 'The key stops working this many days from now; 0 = never; absent = the plan default',
  })
  expiresInDays?: number;

  @ApiPropertyOptional({
    type: RateLimitsInputDto,
    description: 'Each absent window takes the plan default; 0 = off',
  })
  rateLimits?: RateLimitsInputDto;

  @ApiPropertyOptional(ipListDoc('IP whitelist: when set, only these addresses may use the key'))
  ipWhitelist?: string | string[];

  @ApiPropertyOptional(
    ipListDoc('IP blacklist: these addresses may never use the key (wins over the whitelist)'),
  )
  ipBlacklist?: string | string[];

  @ApiPropertyOptional({
    ...listOf('Model ids', 'gpt-5, gpt-5-mini, anthropic/claude-opus-4-7'),
    description:
      'Model whitelist: literal, case-sensitive ids (vendor prefixes are distinct entries); `x` also covers ' +
      '`x-thinking`. Text (comma- or newline-separated) or a JSON array; empty = every model of the plan.',
  })
  modelWhitelist?: string | string[];
}

export class CreateApiKeyRequestDto extends KeySettingsInputDto {
  @ApiProperty({ example: 'prod-backend', minLength: 1, maxLength: 100 })
  name!: string;
}

export class UpdateApiKeyRequestDto extends KeySettingsInputDto {
  @ApiPropertyOptional({ example: 'prod-backend-v2', minLength: 1, maxLength: 100 })
  name?: string;

  @ApiPropertyOptional({ enum: ['active', 'disabled'], description: 'disabled → 401 API_KEY_DISABLED' })
  status?: 'active' | 'disabled';

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-01-31T00:00:00Z',
    description:
      'Exact expiry (ISO 8601 with offset) instead of expiresInDays; null = never; a past time expires the key now',
  })
  expiresAt?: string | null;
}

export class RotateApiKeyRequestDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604800,
    default: 0,
    description: 'How long the old key keeps working (seconds); 0 = it stops at once',
  })
  graceSeconds?: number;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'prod-backend' })
  name!: string;

  @ApiProperty({ example: 'sk-AbCd…wxyz', description: 'First and last characters only' })
  maskedKey!: string;

  @ApiProperty({ enum: ['active', 'disabled'] })
  status!: 'active' | 'disabled';

  @ApiProperty({ description: 'Past expiresAt: requests get 401 API_KEY_EXPIRED' })
  expired!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "billing's plan id; null = the account's default plan",
  })
  planId!: string | null;

  @ApiProperty({ example: 25, description: 'Spend cap in USD; 0 = none' })
  quotaUsd!: number;

  @ApiProperty({ example: 3.2, description: 'Settled spend of this key in USD' })
  spentUsd!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 21.8,
    description: 'quotaUsd − spentUsd; null without a cap',
  })
  remainingQuotaUsd!: number | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Set on a rotated key in its grace period: it stops working at this time',
  })
  deleteAt!: string | null;

  @ApiProperty({ type: RateLimitsDto })
  rateLimits!: RateLimitsDto;

  @ApiProperty({ type: [String], example: ['203.0.113.0/24'] })
  ipWhitelist!: string[];

  @ApiProperty({ type: [String], example: [] })
  ipBlacklist!: string[];

  @ApiProperty({ type: [String], example: ['gpt-5', 'claude-opus-4-7'] })
  modelWhitelist!: string[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Recorded in batches: may lag a few seconds behind the last request',
  })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  lastUsedIp!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: 'sk-0123456789abcdefghijABCDEFGHIJ0123456789',
    description: 'The full secret. Shown only in this response: store it now.',
  })
  key!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto], description: 'Live keys, newest first' })
  data!: ApiKeyDto[];
}

export class RotatedApiKeyDto {
  @ApiProperty({ type: CreatedApiKeyDto, description: 'The new key (new id and secret, same settings)' })
  key!: CreatedApiKeyDto;

  @ApiProperty({ type: ApiKeyDto, description: 'The old key; deleteAt says when it stops working' })
  previous!: ApiKeyDto;
}

export class WindowUsageDto {
  @ApiProperty({ type: 'integer', example: 60 })
  limit!: number;

  @ApiProperty({
    type: 'integer',
    example: 12,
    description: 'Requests (tokens for tpm) counted in the sliding window',
  })
  used!: number;

  @ApiProperty({ type: 'integer', example: 48 })
  remaining!: number;

  @ApiProperty({
    type: 'integer',
    example: 41000,
    description: 'Milliseconds until the window is empty again',
  })
  resetMs!: number;
}

export class WindowsUsageDto {
  @ApiProperty({
    type: WindowUsageDto,
    nullable: true,
    description: 'null when the window is off',
  })
  per5h!: WindowUsageDto | null;

  @ApiProperty({ type: WindowUsageDto, nullable: true })
  per1d!: WindowUsageDto | null;

  @ApiProperty({ type: WindowUsageDto, nullable: true })
  per7d!: WindowUsageDto | null;

  @ApiProperty({ type: WindowUsageDto, nullable: true })
  rpm!: WindowUsageDto | null;

  @ApiProperty({ type: WindowUsageDto, nullable: true })
  tpm!: WindowUsageDto | null;
}

export class OwnApiKeyDto extends ApiKeyDto {
  @ApiProperty({ type: WindowsUsageDto, description: 'Current usage of each enabled window' })
  windows!: WindowsUsageDto;
}
