import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { resetPasswordPage, verifyEmailPage } from './account-pages';

/** The pages the links in verification and reset emails open (`PUBLIC_BASE_URL/auth/…?token=…`). */
@ApiTags('Accounts')
@Controller('auth')
export class AccountPagesHttpController {
  @Get('verify-email')
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    operationId: 'getVerifyEmailPage',
    summary: 'HTML page of the verification link: a button that POSTs the token to /api/v1/auth/verify-email',
  })
  @ApiQuery({ name: 'token', required: true })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'HTML', schema: { type: 'string' } })
  getVerifyEmailPage(@Res() reply: FastifyReply): void {
    void reply
      .header('Content-Security-Policy', verifyEmailPage.csp)
      .type('text/html; charset=utf-8')
      .send(verifyEmailPage.html);
  }

  @Get('reset-password')
  @Header('Cache-Control', 'no-store')
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({
    operationId: 'getResetPasswordPage',
    summary:
      'HTML page of the reset link: a form that POSTs the token and new password to /api/v1/auth/password/reset',
  })
  @ApiQuery({ name: 'token', required: true })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'HTML', schema: { type: 'string' } })
  getResetPasswordPage(@Res() reply: FastifyReply): void {
    void reply
      .header('Content-Security-Policy', resetPasswordPage.csp)
      .type('text/html; charset=utf-8')
      .send(resetPasswordPage.html);
  }
}
