import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * OpenAPI shapes of the account routes. Validation is done by the zod schemas in
 * `@torouter/contracts` (auth.contract.ts); these classes only document the same fields.
 */

// ---- requests ---------------------------------------------------------------------------------------

export class SignUpRequestDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 320, description: 'Stored trimmed and lower-cased' })
  email!: string;

  @ApiProperty({
    example: 'correct horse battery',
    minLength: 6,
    description: 'At least PASSWORD_MIN_LENGTH (6)',
  })
  password!: string;
}

export class VerifyEmailRequestDto {
  @ApiProperty({ description: 'The `token` of the link in the verification email' })
  token!: string;
}

export class EmailRequestDto {
  @ApiProperty({ example: 'ada@example.com' })
  email!: string;
}

export class LoginRequestDto {
  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ example: 'correct horse battery' })
  password!: string;

  @ApiPropertyOptional({ example: '123456', description: 'Required when two-factor is on (6 digits)' })
  totpCode?: string;

  @ApiPropertyOptional({ example: 'abcde-fgh23', description: 'Instead of totpCode; each works once' })
  recoveryCode?: string;
}

export class ResetPasswordRequestDto {
  @ApiProperty({ description: 'The `token` of the link in the reset email' })
  token!: string;

  @ApiProperty({ minLength: 6 })
  password!: string;
}

export class ChangePasswordRequestDto {
  @ApiProperty()
  currentPassword!: string;

  @ApiProperty({ minLength: 6 })
  newPassword!: string;
}

export class UpdateMyAccountRequestDto {
  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 64,
    example: 'Ada',
    description: 'Display name only (does not affect sign-in); null clears it. The email cannot be changed.',
  })
  username!: string | null;
}

export class TotpSetupRequestDto {
  @ApiProperty({ description: 'The current password' })
  password!: string;

  @ApiProperty({
    example: '482913',
    description: 'The 6-digit code sent by POST /api/v1/auth/totp/email-code',
  })
  emailCode!: string;
}

export class TotpEnableRequestDto {
  @ApiProperty({ example: '123456', description: 'A current code from the authenticator' })
  code!: string;
}

export class TotpDisableRequestDto {
  @ApiProperty({ description: 'The current password' })
  password!: string;

  @ApiPropertyOptional({ example: '123456', description: 'A current TOTP code (or send recoveryCode)' })
  code?: string;

  @ApiPropertyOptional({ example: 'abcde-fgh23' })
  recoveryCode?: string;
}

export class UpdateAccountRequestDto {
  @ApiPropertyOptional({ enum: ['user', 'admin'] })
  role?: 'user' | 'admin';

  @ApiPropertyOptional({
    description:
      'Suspended accounts can sign in, but cannot create keys and their keys get 401 USER_INACTIVE',
  })
  suspended?: boolean;
}

// ---- responses --------------------------------------------------------------------------------------

export class SignedUpAccountDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ enum: [false] })
  emailVerified!: false;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class EmailVerifiedDto {
  @ApiProperty({ enum: [true] })
  emailVerified!: true;
}

export class AcceptedDto {
  @ApiProperty({ enum: [true], description: 'The same answer whether or not the address has an account' })
  accepted!: true;
}

export class SessionDto {
  @ApiProperty({ description: 'Send as `Authorization: Bearer <accessToken>` on /api/v1 routes' })
  accessToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires; then sign in again' })
  expiresIn!: number;
}

export class PasswordChangedDto {
  @ApiProperty({ enum: [true] })
  passwordChanged!: true;
}

export class MyAccountDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ type: String, nullable: true })
  username!: string | null;

  @ApiProperty()
  emailVerified!: boolean;

  @ApiProperty({ enum: ['user', 'admin'] })
  role!: 'user' | 'admin';

  @ApiProperty()
  totpEnabled!: boolean;

  @ApiProperty()
  suspended!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class TotpSetupDto {
  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'Base32 secret for manual entry' })
  secret!: string;

  @ApiProperty({
    example:
      'otpauth://totp/ToRouter:ada%40example.com?secret=…&period=30&digits=6&algorithm=SHA1&issuer=ToRouter',
  })
  otpauthUrl!: string;
}

export class TotpEnabledDto {
  @ApiProperty({ enum: [true] })
  totpEnabled!: true;

  @ApiProperty({
    type: [String],
    minItems: 10,
    maxItems: 10,
    description: 'Shown once; each works once instead of a TOTP code',
  })
  recoveryCodes!: string[];
}

export class TotpDisabledDto {
  @ApiProperty({ enum: [false] })
  totpEnabled!: false;
}

export class AccountDto extends MyAccountDto {}

export class AccountPageDto {
  @ApiProperty({ type: [AccountDto] })
  data!: AccountDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
