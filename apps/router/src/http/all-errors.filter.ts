import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError } from '@torouter/contracts';
import { admissionMetrics } from '@torouter/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { isDataPlaneUrl, surfaceForUrl } from '../data-plane/surfaces';
import { sendError } from './error-responder';

/**
 * Routes every exception thrown by a handler through `sendError`, and counts data-plane refusals
 * (`torouter_refusals_total{code,surface}`): the 4xx answers given before anything went upstream.
 */
@Catch()
export class AllErrorsFilter implements ExceptionFilter {
  private readonly refusals;

  constructor(registry: Registry) {
    this.refusals = admissionMetrics(registry).refusals;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (exception instanceof DomainError && exception.status < 500 && isDataPlaneUrl(request.url)) {
      this.refusals.inc({ code: exception.code, surface: surfaceForUrl(request.url) });
    }
    sendError(request, http.getResponse<FastifyReply>(), exception);
  }
}
