import {
  Body,
  Controller,
  Get,
  HttpCode,
  Patch,
  Post,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ChangePasswordBody,
  EmailOnlyBody,
  LoginBody,
  ResetPasswordBody,
  SignUpBody,
  Subjects,
  TotpDisableBody,
  TotpEnableBody,
  TotpSetupBody,
  UpdateProfileBody,
  VerifyEmailBody,
  type Accepted,
  type AccountProfile,
  type PasswordChanged,
  type SessionIssued,
  type SignedUpAccount,
  type TotpDisabled,
  type TotpEnabled,
  type TotpSetupStarted,
} from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import type { FastifyRequest } from 'fastify';
import { KeyPolicyCache } from '../../access/key-policy.cache';
import { AccountSessionGuard, CurrentAccountId } from '../guards/account-session.guard';
import {
  AcceptedDto,
  ChangePasswordRequestDto,
  EmailRequestDto,
  EmailVerifiedDto,
  LoginRequestDto,
  MyAccountDto,
  PasswordChangedDto,
  ResetPasswordRequestDto,
  SessionDto,
  SignedUpAccountDto,
  SignUpRequestDto,
  TotpDisabledDto,
  TotpDisableRequestDto,
  TotpEnabledDto,
  TotpEnableRequestDto,
  TotpSetupDto,
  TotpSetupRequestDto,
  UpdateMyAccountRequestDto,
  VerifyEmailRequestDto,
} from './auth.dto';
import { ApiErrors, RATE_LIMITED_429, SESSION_401, VALIDATION_400 } from './control-plane-errors';
import { RetryAfterInterceptor } from './retry-after.interceptor';
import { ZodBodyPipe } from './zod-body.pipe';

/**
 * Accounts: /api/v1/auth/*. Validates the body, adds the caller's context (client IP as the router sees
 * it, the signed-in account), and forwards to the auth service over NATS.
 */
@ApiTags('Accounts')
@Controller('api/v1/auth')
@UseInterceptors(RetryAfterInterceptor)
export class AuthHttpController {
  constructor(
    private readonly cache: KeyPolicyCache,
    private readonly rpc: RpcClient,
  ) {}

  @Post('signup')
  @ApiOperation({
    operationId: 'signUp',
    summary: 'Create an account; a single-use verification link (24 h) is emailed',
  })
  @ApiBody({ type: SignUpRequestDto })
  @ApiResponse({ status: 201, type: SignedUpAccountDto })
  @ApiErrors({
    400: `${VALIDATION_400}; a password shorter than the minimum; an email domain outside ALLOWED_EMAIL_DOMAINS (the message lists them)`,
    409: '`email_taken`: an account with this email exists',
    429: RATE_LIMITED_429,
  })
  signUp(
    @Body(new ZodBodyPipe(SignUpBody)) body: SignUpBody,
    @Req() req: FastifyRequest,
  ): Promise<SignedUpAccount> {
    return this.rpc.send(Subjects.authAccountSignUp, { ...body, clientIp: req.ip });
  }

  @Post('verify-email')
  @HttpCode(200)
  @ApiOperation({ operationId: 'verifyEmail', summary: 'Use the link token from the verification email' })
  @ApiBody({ type: VerifyEmailRequestDto })
  @ApiResponse({ status: 200, type: EmailVerifiedDto })
  @ApiErrors({ 400: '`invalid_token`: unknown, already used or expired (request a new link)' })
  async verifyEmail(
    @Body(new ZodBodyPipe(VerifyEmailBody)) body: VerifyEmailBody,
  ): Promise<{ emailVerified: true }> {
    const done = await this.rpc.send(Subjects.authEmailVerificationConfirm, body);
    this.cache.evictAccount(done.accountId);
    return { emailVerified: true };
  }

  @Post('verify-email/resend')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'resendVerificationEmail',
    summary:
      'Email a new verification link (same answer for every address; at most one per minute per address)',
  })
  @ApiBody({ type: EmailRequestDto })
  @ApiResponse({ status: 202, type: AcceptedDto })
  @ApiErrors({
    400: VALIDATION_400,
    429: '`rate_limited`: too many email requests from this IP; see Retry-After',
  })
  resendVerificationEmail(
    @Body(new ZodBodyPipe(EmailOnlyBody)) body: EmailOnlyBody,
    @Req() req: FastifyRequest,
  ): Promise<Accepted> {
    return this.rpc.send(Subjects.authEmailVerificationResend, { ...body, clientIp: req.ip });
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'login',
    summary: 'Sign in: a short-lived access token (JWT) for the control plane',
    description:
      'Unverified and suspended accounts can sign in (they cannot create keys). With two-factor on, send `totpCode` or `recoveryCode`. Failed attempts are throttled per account and per IP.',
  })
  @ApiBody({ type: LoginRequestDto })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiErrors({
    400: VALIDATION_400,
    401: '`invalid_credentials` (wrong email or password — the same answer for both), `totp_required` (two-factor is on: send totpCode or recoveryCode), `invalid_totp`',
    429: RATE_LIMITED_429,
  })
  login(
    @Body(new ZodBodyPipe(LoginBody)) body: LoginBody,
    @Req() req: FastifyRequest,
  ): Promise<SessionIssued> {
    return this.rpc.send(Subjects.authSessionCreate, { ...body, clientIp: req.ip });
  }

  @Post('password/forgot')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'forgotPassword',
    summary:
      'Email a single-use password reset link (1 h); the same answer whether or not the address exists',
  })
  @ApiBody({ type: EmailRequestDto })
  @ApiResponse({ status: 202, type: AcceptedDto })
  @ApiErrors({
    400: VALIDATION_400,
    429: '`rate_limited`: too many email requests from this IP; see Retry-After',
  })
  forgotPassword(
    @Body(new ZodBodyPipe(EmailOnlyBody)) body: EmailOnlyBody,
    @Req() req: FastifyRequest,
  ): Promise<Accepted> {
    return this.rpc.send(Subjects.authPasswordResetRequest, { ...body, clientIp: req.ip });
  }

  @Post('password/reset')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'resetPassword',
    summary: 'Set a new password with the reset link token',
    description:
      'The old password stops working and every session issued before is revoked. API keys keep working; two-factor stays on.',
  })
  @ApiBody({ type: ResetPasswordRequestDto })
  @ApiResponse({ status: 200, type: PasswordChangedDto })
  @ApiErrors({
    400: `\`invalid_token\`: unknown, already used or expired; ${VALIDATION_400} (e.g. password too short)`,
  })
  async resetPassword(
    @Body(new ZodBodyPipe(ResetPasswordBody)) body: ResetPasswordBody,
  ): Promise<PasswordChanged> {
    const done = await this.rpc.send(Subjects.authPasswordResetConfirm, body);
    // The auth.account.changed.v1 event does this on every replica; this replica need not wait for it.
    this.cache.evictAccount(done.accountId);
    return { passwordChanged: true };
  }

  @Get('me')
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'getMyAccount', summary: 'The signed-in account' })
  @ApiResponse({ status: 200, type: MyAccountDto })
  @ApiErrors({ 401: SESSION_401 })
  getMyAccount(@CurrentAccountId() accountId: string): Promise<AccountProfile> {
    return this.rpc.send(Subjects.authProfileGet, { accountId });
  }

  @Patch('me')
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'updateMyAccount',
    summary: 'Change the username (display name). The email cannot be changed by the user.',
  })
  @ApiBody({ type: UpdateMyAccountRequestDto })
  @ApiResponse({ status: 200, type: MyAccountDto })
  @ApiErrors({ 400: `${VALIDATION_400}; sending \`email\` is refused`, 401: SESSION_401 })
  updateMyAccount(
    @CurrentAccountId() accountId: string,
    @Body(new ZodBodyPipe(UpdateProfileBody)) body: UpdateProfileBody,
  ): Promise<AccountProfile> {
    return this.rpc.send(Subjects.authProfileUpdate, { accountId, username: body.username });
  }

  @Post('password')
  @HttpCode(200)
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'changePassword',
    summary: 'Change the password (needs the current one); this session stays valid, API keys keep working',
  })
  @ApiBody({ type: ChangePasswordRequestDto })
  @ApiResponse({ status: 200, type: PasswordChangedDto })
  @ApiErrors({
    400: `${VALIDATION_400} (e.g. newPassword too short)`,
    401: `\`invalid_credentials\`: currentPassword is wrong; ${SESSION_401}`,
    429: RATE_LIMITED_429,
  })
  changePassword(
    @CurrentAccountId() accountId: string,
    @Body(new ZodBodyPipe(ChangePasswordBody)) body: ChangePasswordBody,
    @Req() req: FastifyRequest,
  ): Promise<PasswordChanged> {
    return this.rpc.send(Subjects.authPasswordChange, { ...body, accountId, clientIp: req.ip });
  }

  @Post('totp/email-code')
  @HttpCode(202)
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'sendTotpEmailCode',
    summary: 'Two-factor, step 1: email a 6-digit code (valid 10 min) to the account address',
  })
  @ApiResponse({ status: 202, type: AcceptedDto })
  @ApiErrors({
    401: SESSION_401,
    409: '`conflict`: two-factor is already on',
    429: '`rate_limited`: a code was sent moments ago; see Retry-After',
  })
  sendTotpEmailCode(@CurrentAccountId() accountId: string, @Req() req: FastifyRequest): Promise<Accepted> {
    return this.rpc.send(Subjects.authTotpEmailCodeSend, { accountId, clientIp: req.ip });
  }

  @Post('totp/setup')
  @HttpCode(200)
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'setupTotp',
    summary: 'Two-factor, step 2: password + emailed code → a new TOTP secret (RFC 6238, 6 digits, 30 s)',
  })
  @ApiBody({ type: TotpSetupRequestDto })
  @ApiResponse({ status: 200, type: TotpSetupDto })
  @ApiErrors({
    400: `\`invalid_token\`: emailCode wrong or expired; ${VALIDATION_400}`,
    401: `\`invalid_credentials\`: password is wrong; ${SESSION_401}`,
    409: '`conflict`: two-factor is already on',
    429: RATE_LIMITED_429,
  })
  setupTotp(
    @CurrentAccountId() accountId: string,
    @Body(new ZodBodyPipe(TotpSetupBody)) body: TotpSetupBody,
    @Req() req: FastifyRequest,
  ): Promise<TotpSetupStarted> {
    return this.rpc.send(Subjects.authTotpSetup, { ...body, accountId, clientIp: req.ip });
  }

  @Post('totp/enable')
  @HttpCode(200)
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'enableTotp',
    summary:
      'Two-factor, step 3: a current code → two-factor on, and 10 single-use recovery codes (shown once)',
  })
  @ApiBody({ type: TotpEnableRequestDto })
  @ApiResponse({ status: 200, type: TotpEnabledDto })
  @ApiErrors({
    400: VALIDATION_400,
    401: `\`invalid_totp\`: the code does not match; ${SESSION_401}`,
    409: '`conflict`: already on, or setup not started',
    429: RATE_LIMITED_429,
  })
  enableTotp(
    @CurrentAccountId() accountId: string,
    @Body(new ZodBodyPipe(TotpEnableBody)) body: TotpEnableBody,
    @Req() req: FastifyRequest,
  ): Promise<TotpEnabled> {
    return this.rpc.send(Subjects.authTotpEnable, { ...body, accountId, clientIp: req.ip });
  }

  @Post('totp/disable')
  @HttpCode(200)
  @UseGuards(AccountSessionGuard)
  @ApiBearerAuth()
  @ApiOperation({
    operationId: 'disableTotp',
    summary: 'Turn two-factor off: the password and a current TOTP code or a recovery code',
  })
  @ApiBody({ type: TotpDisableRequestDto })
  @ApiResponse({ status: 200, type: TotpDisabledDto })
  @ApiErrors({
    400: `${VALIDATION_400}; send exactly one of code and recoveryCode`,
    401: `\`invalid_credentials\` (password), \`invalid_totp\` (code or recovery code); ${SESSION_401}`,
    409: '`conflict`: two-factor is not on',
    429: RATE_LIMITED_429,
  })
  disableTotp(
    @CurrentAccountId() accountId: string,
    @Body(new ZodBodyPipe(TotpDisableBody)) body: TotpDisableBody,
    @Req() req: FastifyRequest,
  ): Promise<TotpDisabled> {
    return this.rpc.send(Subjects.authTotpDisable, { ...body, accountId, clientIp: req.ip });
  }
}
