import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ChannelCredentials } from './channel-types';

/**
 * AWS Signature Version 4 for Bedrock Runtime (service `bedrock`): returns the headers to add
 * (`authorization`, `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` with a session token).
 * The path must already be URI-encoded the way the AWS SDK sends it (`:` in model ids as %3A).
 */
export async function signBedrockRequest(
  credentials: ChannelCredentials,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string,
): Promise<Record<string, string>> {
  if (!('accessKeyId' in credentials)) throw new Error('bedrock channel without AWS credentials');
  const target = new URL(url);
  const signer = new SignatureV4({
    service: 'bedrock',
    region: credentials.region,
    sha256: Sha256,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
  });
  const signed = await signer.sign({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { ...headers, host: target.host },
    body,
  });
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host') continue; // undici sets it from the URL
    out[lower] = String(value);
  }
  return out;
}
