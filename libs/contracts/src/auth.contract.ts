import { z } from 'zod';
import { Subjects } from './subjects';

const uuid = z.string().uuid();

// ---- auth ------------------------------------------------------------------------------------------
export const AccountRole = z.enum(['user', 'admin']);
export type AccountRole = z.infer<typeof AccountRole>;

export const AccountCreateRequest = z.object({
  email: z.string().email().max(320),
  password: z.string().min(1).max(1024),
  username: z.string().min(1).max(64).optional(),
  role: AccountRole.default('user'),
  /** Only trusted callers (seed, admin) may create an already verified account. */
  emailVerified: z.boolean().default(false),
});
export type AccountCreateRequest = z.input<typeof AccountCreateRequest>;

/** An account as operators (and trusted internal callers) see it. Never carries a secret. */
export interface AccountView {
  id: string;
  email: string;
  username: string | null;
  role: AccountRole;
  emailVerified: boolean;
  suspended: boolean;
  totpEnabled: boolean;
  createdAt: string;
}

export const AccountFindByEmailRequest = z.object({ email: z.string().min(1).max(320) });
export type AccountFindByEmailRequest = z.infer<typeof AccountFindByEmailRequest>;

export const AccountStatusRequest = z.object({ accountId: uuid });
export type AccountStatusRequest = z.infer<typeof AccountStatusRequest>;
/** What the data plane needs to know about an account to admit a request. */
export interface AccountStatus {
  accountId: string;
  exists: boolean;
  /** Verified and not suspended: its API keys may call the data plane. */
  active: boolean;
  emailVerified: boolean;
  suspended: boolean;
  role: AccountRole;
  /** Sessions issued under an older epoch are revoked. */
  sessionEpoch: number;
}

export const AccountChangedEvent = z.object({ accountId: uuid });
export type AccountChangedEvent = z.infer<typeof AccountChangedEvent>;

// ---- public account API (bodies the router validates, then forwards with the caller's context) -------
// Length limits here are structural; policy (minimum password length, allowed domains) is auth's config.

const emailField = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .trim()
  .max(320, 'must be at most 320 characters')
  .email('must be a valid email address');
const passwordField = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .min(1, 'is required')
  .max(1024, 'must be at most 1024 characters');
const tokenField = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
  .trim()
  .min(1, 'is required')
  .max(512, 'must be at most 512 characters');
const codeField = z
  .string({ invalid_type_error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters');
/** The caller's IP as the router sees it (after TRUSTED_PROXIES), for per-IP throttling. */
const clientIp = z.string().max(64).default('unknown');

export const SignUpBody = z.object({ email: emailField, password: passwordField });
export type SignUpBody = z.infer<typeof SignUpBody>;
export const SignUpRequest = SignUpBody.extend({ clientIp });
export type SignUpRequest = z.input<typeof SignUpRequest>;
export interface SignedUpAccount {
  id: string;
  email: string;
  emailVerified: false;
  createdAt: string;
}

export const VerifyEmailBody = z.object({ token: tokenField });
export type VerifyEmailBody = z.infer<typeof VerifyEmailBody>;
export interface EmailVerified {
  accountId: string;
  emailVerified: true;
}

export const EmailOnlyBody = z.object({ email: emailField });
export type EmailOnlyBody = z.infer<typeof EmailOnlyBody>;
export const EmailActionRequest = EmailOnlyBody.extend({ clientIp });
export type EmailActionRequest = z.input<typeof EmailActionRequest>;
/** The same answer whether or not the address has an account (anti-enumeration). */
export interface Accepted {
  accepted: true;
}

export const LoginBody = z.object({
  email: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a string' })
    .trim()
    .min(1, 'is required')
    .max(320, 'must be at most 320 characters'),
  password: passwordField,
  totpCode: codeField.optional(),
  recoveryCode: codeField.optional(),
});
export type LoginBody = z.infer<typeof LoginBody>;
export const SessionCreateRequest = LoginBody.extend({ clientIp });
export type SessionCreateRequest = z.input<typeof SessionCreateRequest>;
export interface SessionIssued {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export const ResetPasswordBody = z.object({ token: tokenField, password: passwordField });
export type ResetPasswordBody = z.infer<typeof ResetPasswordBody>;
export interface PasswordResetDone {
  accountId: string;
  passwordChanged: true;
}

export const ChangePasswordBody = z.object({ currentPassword: passwordField, newPassword: passwordField });
export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;
export const PasswordChangeRequest = ChangePasswordBody.extend({ accountId: uuid, clientIp });
export type PasswordChangeRequest = z.input<typeof PasswordChangeRequest>;
export interface PasswordChanged {
  passwordChanged: true;
}

export const ProfileGetRequest = z.object({ accountId: uuid });
export type ProfileGetRequest = z.infer<typeof ProfileGetRequest>;
/** What a signed-in account sees of itself. */
export interface AccountProfile {
  id: string;
  email: string;
  username: string | null;
  emailVerified: boolean;
  role: AccountRole;
  totpEnabled: boolean;
  suspended: boolean;
  createdAt: string;
}

export const UpdateProfileBody = z
  .object({
    username: z
      .string({ required_error: 'is required', invalid_type_error: 'must be a string or null' })
      .trim()
      .min(1, 'must not be empty (send null to clear it)')
      .max(64, 'must be at most 64 characters')
      .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters')
      .nullable(),
  })
  .passthrough()
  .superRefine((body, ctx) => {
    for (const k of Object.keys(body)) {
      if (k === 'username') continue;
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [k],
        message:
          k === 'email'
            ? 'cannot be changed: the email is the account identity; ask the operator'
            : 'is not a profile field (only username can be changed)',
      });
    }
  })
  .transform(({ username }) => ({ username }));
export type UpdateProfileBody = z.output<typeof UpdateProfileBody>;
export const ProfileUpdateRequest = z.object({
  accountId: uuid,
  username: z.string().trim().min(1).max(64).nullable(),
});
export type ProfileUpdateRequest = z.infer<typeof ProfileUpdateRequest>;

export const TotpEmailCodeRequest = z.object({ accountId: uuid, clientIp });
export type TotpEmailCodeRequest = z.input<typeof TotpEmailCodeRequest>;

export const TotpSetupBody = z.object({
  password: passwordField,
  emailCode: z
    .string({ required_error: 'is required (POST /api/v1/auth/totp/email-code sends it)' })
    .trim()
    .regex(/^\d{6}$/, 'must be the 6-digit code from the email'),
});
export type TotpSetupBody = z.infer<typeof TotpSetupBody>;
export const TotpSetupRequest = TotpSetupBody.extend({ accountId: uuid, clientIp });
export type TotpSetupRequest = z.input<typeof TotpSetupRequest>;
export interface TotpSetupStarted {
  /** Base32 secret for manual entry. */
  secret: string;
  /** otpauth://totp/… URI for a QR code. */
  otpauthUrl: string;
}

export const TotpEnableBody = z.object({
  code: z.string({ required_error: 'is required' }).trim().min(1, 'is required').max(16),
});
export type TotpEnableBody = z.infer<typeof TotpEnableBody>;
export const TotpEnableRequest = TotpEnableBody.extend({ accountId: uuid, clientIp });
export type TotpEnableRequest = z.input<typeof TotpEnableRequest>;
export interface TotpEnabled {
  totpEnabled: true;
  /** Ten single-use codes, shown once. */
  recoveryCodes: string[];
}

export const TotpDisableBody = z
  .object({ password: passwordField, code: codeField.optional(), recoveryCode: codeField.optional() })
  .superRefine((b, ctx) => {
    if ((b.code === undefined) === (b.recoveryCode === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['code'],
        message: 'send either code (from the authenticator) or recoveryCode',
      });
    }
  });
export type TotpDisableBody = z.infer<typeof TotpDisableBody>;
export const TotpDisableRequest = z.object({
  accountId: uuid,
  clientIp,
  password: passwordField,
  code: codeField.optional(),
  recoveryCode: codeField.optional(),
});
export type TotpDisableRequest = z.input<typeof TotpDisableRequest>;
export interface TotpDisabled {
  totpEnabled: false;
}

// ---- admin -----------------------------------------------------------------------------------------

export const AccountListQuery = z.object({
  /** Case-insensitive substring of the email. */
  email: z.string().trim().max(320, 'must be at most 320 characters').optional(),
  cursor: z
    .string()
    .max(512, 'must be at most 512 characters')
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a nextCursor from a previous page')
    .optional(),
  limit: z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50),
});
export type AccountListQuery = z.input<typeof AccountListQuery>;
export interface AccountPage {
  data: AccountView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const AccountGetRequest = z.object({ accountId: uuid });
export type AccountGetRequest = z.infer<typeof AccountGetRequest>;

export const AdminAccountUpdateBody = z
  .object({
    role: AccountRole.optional(),
    suspended: z.boolean({ invalid_type_error: 'must be true or false' }).optional(),
  })
  .strict()
  .refine((b) => b.role !== undefined || b.suspended !== undefined, {
    message: 'send role and/or suspended',
    path: ['role'],
  });
export type AdminAccountUpdateBody = z.infer<typeof AdminAccountUpdateBody>;
export const AccountUpdateRequest = z.object({
  accountId: uuid,
  role: AccountRole.optional(),
  suspended: z.boolean().optional(),
});
export type AccountUpdateRequest = z.infer<typeof AccountUpdateRequest>;

export interface AuthRpcContracts {
  [Subjects.authAccountCreate]: { request: AccountCreateRequest; response: AccountView };
  [Subjects.authAccountFindByEmail]: { request: AccountFindByEmailRequest; response: AccountView | null };
  [Subjects.authAccountStatusGet]: { request: AccountStatusRequest; response: AccountStatus };
  [Subjects.authAccountSignUp]: { request: SignUpRequest; response: SignedUpAccount };
  [Subjects.authEmailVerificationConfirm]: { request: VerifyEmailBody; response: EmailVerified };
  [Subjects.authEmailVerificationResend]: { request: EmailActionRequest; response: Accepted };
  [Subjects.authSessionCreate]: { request: SessionCreateRequest; response: SessionIssued };
  [Subjects.authPasswordResetRequest]: { request: EmailActionRequest; response: Accepted };
  [Subjects.authPasswordResetConfirm]: { request: ResetPasswordBody; response: PasswordResetDone };
  [Subjects.authPasswordChange]: { request: PasswordChangeRequest; response: PasswordChanged };
  [Subjects.authProfileGet]: { request: ProfileGetRequest; response: AccountProfile };
  [Subjects.authProfileUpdate]: { request: ProfileUpdateRequest; response: AccountProfile };
  [Subjects.authTotpEmailCodeSend]: { request: TotpEmailCodeRequest; response: Accepted };
  [Subjects.authTotpSetup]: { request: TotpSetupRequest; response: TotpSetupStarted };
  [Subjects.authTotpEnable]: { request: TotpEnableRequest; response: TotpEnabled };
  [Subjects.authTotpDisable]: { request: TotpDisableRequest; response: TotpDisabled };
  [Subjects.authAccountList]: { request: AccountListQuery; response: AccountPage };
  [Subjects.authAccountGet]: { request: AccountGetRequest; response: AccountView };
  [Subjects.authAccountUpdate]: { request: AccountUpdateRequest; response: AccountView };
}

export interface AuthEventContracts {
  [Subjects.authAccountChanged]: AccountChangedEvent;
}
