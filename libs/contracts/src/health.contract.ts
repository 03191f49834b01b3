import { z } from 'zod';
import { Subjects } from './subjects';

// ---- health ----------------------------------------------------------------------------------------
export const HealthCheckRequest = z.object({}).passthrough();
export interface DependencyStatus {
  name: 'postgres' | 'redis' | 'nats';
  up: boolean;
  error?: string;
}
export interface HealthCheckResponse {
  service: string;
  status: 'ok' | 'degraded';
  dependencies: DependencyStatus[];
}

export interface HealthRpcContracts {
  [Subjects.authHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
  [Subjects.keysHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
  [Subjects.billingHealthCheck]: {
    request: z.input<typeof HealthCheckRequest>;
    response: HealthCheckResponse;
  };
  [Subjects.usageHealthCheck]: { request: z.input<typeof HealthCheckRequest>; response: HealthCheckResponse };
}
