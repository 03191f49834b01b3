import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '@torouter/config';
import { DomainError, ErrorCodes } from '@torouter/contracts';
import { APP_CONFIG } from '@torouter/service-runtime';

/** A 400 `validation_failed` naming the field, like the payload pipe's. */
export function fieldError(field: string, message: string): DomainError {
  return new DomainError(ErrorCodes.VALIDATION_FAILED, `${field}: ${message}`, {
    fields: [{ field, message }],
  });
}

/** What a new password must satisfy (length only: PASSWORD_MIN_LENGTH, at least 6). */
@Injectable()
export class PasswordPolicy {
  constructor(@Inject(APP_CONFIG) private readonly config: AuthConfig) {}

  assertAcceptable(field: string, password: string): void {
    // Length in characters as the user typed them, not UTF-16 units.
    if ([...password].length < this.config.PASSWORD_MIN_LENGTH) {
      throw fieldError(field, `must be at least ${this.config.PASSWORD_MIN_LENGTH} characters`);
    }
  }
}
