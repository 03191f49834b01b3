/** Injection token for the router's Redis connection (limits and reservations). */
export const REDIS = Symbol('REDIS');
