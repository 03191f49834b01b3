// multipart/form-data (RFC 7578), binary-safe, for the OpenAI endpoints that take uploads
// (`/v1/images/edits`, `/v1/audio/transcriptions`). The gateway reads the text fields it routes on
// (`model`), swaps the model for the channel's id, and forwards every other part byte for byte.

import { InvalidRequestError } from './relay.errors';

export interface MultipartPart {
  /** The part's header block, exactly as received (CRLF-separated lines, no trailing blank line). */
  headers: string;
  name: string;
  filename?: string;
  data: Buffer;
}

export function multipartBoundary(contentType: string | undefined): string {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2]?.trim();
  if (!contentType?.toLowerCase().startsWith('multipart/form-data') || !boundary) {
    throw new InvalidRequestError('expected a multipart/form-data body with a boundary');
  }
  return boundary;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw new InvalidRequestError('the multipart body has no part');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
    if (body.subarray(pos, pos + 2).toString() === '\r\n') pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd === -1) throw new InvalidRequestError('a multipart part has no header block');
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next === -1) throw new InvalidRequestError('the multipart body is not terminated');
    const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw new InvalidRequestError('a multipart part has no name');
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ headers, name, filename, data: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

export function buildMultipart(parts: MultipartPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers}\r\n\r\n`), part.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** The value of a text field, if present. */
export function multipartField(parts: MultipartPart[], name: string): string | undefined {
  const part = parts.find((p) => p.name === name && p.filename === undefined);
  return part?.data.toString('utf8');
}

/** A copy of the parts with one text field's value replaced. */
export function withMultipartField(parts: MultipartPart[], name: string, value: string): MultipartPart[] {
  return parts.map((p) =>
    p.name === name && p.filename === undefined ? { ...p, data: Buffer.from(value, 'utf8') } : p,
  );
}
