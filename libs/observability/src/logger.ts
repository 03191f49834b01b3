import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { currentRequestId } from './request-context';

/**
 * One redaction list for every service: any field with one of these names is replaced in log output,
 * wherever it sits in the logged object (two levels deep and in request headers).
 */
const secretFields = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'key',
  'apiKey',
  'secret',
  'credentials',
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'cookie',
  'totpCode',
  'recoveryCode',
];
const redactPaths = [
  ...secretFields.map((f) => (f.includes('-') ? `["${f}"]` : f)),
  ...secretFields.map((f) => (f.includes('-') ? `*["${f}"]` : `*.${f}`)),
  ...secretFields.map((f) => `headers["${f.toLowerCase()}"]`),
  ...secretFields.map((f) => `req.headers["${f.toLowerCase()}"]`),
];

export function createLogger(service: string, level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Every line logged while handling a request carries its id without threading it by hand.
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Nest's start-up chatter (one line per module and route): useful when debugging, noise otherwise. */
const bootstrapContexts = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Lets Nest's own messages (bootstrap, exceptions) go through the same JSON logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write(context && bootstrapContexts.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }

  private write(level: 'info' | 'warn' | 'debug' | 'trace', message: unknown, context?: string): void {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}
