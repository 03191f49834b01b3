import type { PipeTransform } from '@nestjs/common';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import type { z } from 'zod';

/**
 * Validates a message at the receiving service's boundary: a malformed payload is a `validation_failed`
 * domain error naming the fields, never a crash deeper in. Returns the parsed (defaulted, trimmed) value.
 */
export class ZodPayloadPipe<S extends z.ZodTypeAny> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data as z.infer<S>;
    const fields = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || '(payload)',
      message: i.message,
    }));
    throw new DomainError(
      ErrorCodes.VALIDATION_FAILED,
      fields.map((f) => `${f.field}: ${f.message}`).join('; '),
      { fields },
    );
  }
}
