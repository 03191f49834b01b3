/** Injection tokens shared by every service's runtime wiring. */
export const SERVICE_NAME = Symbol('SERVICE_NAME');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const DEPENDENCY_PROBES = Symbol('DEPENDENCY_PROBES');
export const APP_CONFIG = Symbol('APP_CONFIG');
