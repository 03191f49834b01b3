import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { controlPlaneErrorEnvelope } from '../../docs/api-schemas';

/** Documents control-plane error responses (`{"error":{"type","code","message"}}`), one per status. */
export function ApiErrors(errors: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: controlPlaneErrorEnvelope }),
    ),
  );
}

export const VALIDATION_400 = '`validation_failed`: a field is missing or malformed (the message names it)';
export const RATE_LIMITED_429 = '`rate_limited`: too many attempts; see the Retry-After header';
export const SESSION_401 =
  '`unauthorized`: no valid session (sign in; a password reset revokes older sessions)';
