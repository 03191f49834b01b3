import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { controlPlaneErrorEnvelope } from '../docs/api-schemas';

/** The error responses of an admin route, in the control-plane envelope. */
export const AdminErrors = (...list: Array<[number, string]>) =>
  applyDecorators(
    ...list.map(([status, description]) =>
      ApiResponse({ status, description, schema: controlPlaneErrorEnvelope }),
    ),
  );
