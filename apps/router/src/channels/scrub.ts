import type { RuntimeChannel } from './channel-runtimes';

const KEY_LIKE =
  /\b(sk|rk|pk|key|AKIA|ASIA)[-_A-Za-z0-9]{12,}\b|\bAIza[0-9A-Za-z_-]{20,}\b|\br8_[A-Za-z0-9]{20,}\b/g;

/**
 * Removes what must never reach a client from an upstream's error message: the channel's credentials
 * (whole, or as the masked fragments providers echo back), anything shaped like a key, and the
 * channel's base URL.
 */
export function scrubUpstreamMessage(message: string, channel: RuntimeChannel): string {
  let out = message;
  for (const secret of Object.values(channel.credentials)) {
    if (typeof secret === 'string' && secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  if (channel.baseUrl) {
    const origin = new URL(channel.baseUrl).origin;
    out = out.split(channel.baseUrl).join('[upstream]').split(origin).join('[upstream]');
    out = out.split(new URL(channel.baseUrl).host).join('[upstream]');
  }
  return out.replace(KEY_LIKE, '[redacted]');
}
