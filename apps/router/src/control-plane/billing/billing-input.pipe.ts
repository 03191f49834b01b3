import type { PipeTransform } from '@nestjs/common';
import { ZodPayloadPipe } from '@torouter/messaging';
import type { z } from 'zod';

/** Validates a body or query with a contract schema (400 `validation_failed` naming each bad field); none = `{}`. */
export class BillingInputPipe<S extends z.ZodTypeAny> implements PipeTransform<unknown, z.output<S>> {
  private readonly inner: ZodPayloadPipe<S>;

  constructor(schema: S) {
    this.inner = new ZodPayloadPipe(schema);
  }

  transform(value: unknown): z.output<S> {
    return this.inner.transform(value ?? {});
  }
}
