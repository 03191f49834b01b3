import type { PipeTransform } from '@nestjs/common';
import { ZodPayloadPipe } from '@torouter/messaging';
import type { z } from 'zod';

/**
 * Validates a request body (or query) with a contract schema: 400 `validation_failed` naming each bad
 * field. A missing body is treated as `{}`, so the message names the missing fields.
 */
export class ZodBodyPipe<S extends z.ZodTypeAny> implements PipeTransform<unknown, z.infer<S>> {
  private readonly inner: ZodPayloadPipe<S>;

  constructor(schema: S) {
    this.inner = new ZodPayloadPipe(schema);
  }

  transform(value: unknown): z.infer<S> {
    return this.inner.transform(value ?? {});
  }
}
