import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { controlPlaneErrorEnvelope } from '../../docs/api-schemas';

/** Documents a route's error responses (control-plane envelope). */
export function BillingErrors(errors: Record<number, string>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema: controlPlaneErrorEnvelope }),
    ),
  );
}

export const E400 = '`validation_failed`: a field is malformed (the message names it)';
export const E401 = '`unauthorized`: sign in first (Authorization: Bearer <session token>)';
export const ADMIN_401 = '`unauthorized`: send the admin token or an admin session';
export const ADMIN_403 = '`forbidden`: the session is not an administrator';
export const E503 = '`service_unavailable`: billing cannot be reached right now; nothing changed';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id that cannot be an id is simply something that does not exist. */
export function pathId(id: string, what: string): string {
  if (!uuidPattern.test(id)) throw new DomainError(ErrorCodes.NOT_FOUND, `no ${what} ${id.slice(0, 64)}`);
  return id.toLowerCase();
}
