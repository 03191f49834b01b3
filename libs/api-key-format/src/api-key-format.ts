import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const prefix = 'sk-';
const bodyLength = 33; // 62^33 > 2^192
const checksumLength = 6; // 62^6 > 2^32
export const API_KEY_LENGTH = prefix.length + bodyLength + checksumLength;
const shape = new RegExp(`^sk-[0-9A-Za-z]{${bodyLength + checksumLength}}$`);

function toBase62(value: bigint, width: number): string {
  let out = '';
  let v = value;
  while (v > 0n) {
    out = alphabet[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, '0');
}

function checksumOf(body: string): string {
  return toBase62(BigInt(crc32(body)), checksumLength);
}

/** Mints a new key: 192 bits from the OS CSPRNG. */
export function generateApiKey(): string {
  const body = toBase62(BigInt(`0x${randomBytes(24).toString('hex')}`), bodyLength);
  return `${prefix}${body}${checksumOf(body)}`;
}

/** True when the string has the key's shape and its checksum matches (a typo is caught here). */
export function isWellFormedApiKey(candidate: string): boolean {
  if (!shape.test(candidate)) return false;
  const body = candidate.slice(prefix.length, prefix.length + bodyLength);
  return candidate.slice(prefix.length + bodyLength) === checksumOf(body);
}

/**
 * SHA-256, hex. A fast hash is right for 192-bit random secrets (nothing to brute-force, unlike
 * passwords) and keeps the per-request check cheap; the raw key is never stored or compared.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What listings show: enough to recognise a key, useless to use it. */
export function maskApiKey(key: string): string {
  return `${key.slice(0, 7)}…${key.slice(-4)}`;
}
