import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message as the sink received it, decoded enough for tests to read links and codes. */
export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface EmailMatch {
  to: string;
  subject?: string | RegExp;
}

/**
 * A local SMTP server (smtp-server package) that keeps every message in memory: the auth service sends
 * real email to it over SMTP (SMTP_URL = `sink.url`), and tests read the links and codes from there.
 */
export interface SmtpSink {
  url: string;
  messages: ReceivedEmail[];
  /** The first matching message not taken before (waiting for it to arrive); marks it taken. */
  take(match: EmailMatch, timeoutMs?: number): Promise<ReceivedEmail>;
  /** How many matching messages arrived so far (taken or not). */
  count(match: EmailMatch): number;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedEmail[] = [];
  const taken = new Set<ReceivedEmail>();
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push(
          parseEmail(
            raw,
            session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          ),
        );
        for (const w of [...waiters]) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const matches = (m: ReceivedEmail, match: EmailMatch) =>
    m.to.includes(match.to.toLowerCase()) &&
    (match.subject === undefined ||
      (typeof match.subject === 'string'
        ? m.subject.includes(match.subject)
        : match.subject.test(m.subject)));

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    count: (match) => messages.filter((m) => matches(m, match)).length,
    take: (match, timeoutMs = 10_000) =>
      new Promise<ReceivedEmail>((resolve, reject) => {
        const check = (): boolean => {
          const found = messages.find((m) => !taken.has(m) && matches(m, match));
          if (!found) return false;
          taken.add(found);
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no email to ${match.to}${match.subject ? ` matching ${String(match.subject)}` : ''} within ${timeoutMs} ms; got: ${messages
                .map((m) => `${m.to.join(',')} "${m.subject}"`)
                .join('; ')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The `token` query parameter of the first link in the email. */
export function linkToken(email: ReceivedEmail): string {
  const link = /https?:\/\/[^\s"<>]+[?&]token=([A-Za-z0-9_-]+)/.exec(email.text);
  if (!link) throw new Error(`no link with a token in: ${email.text}`);
  return link[1];
}

/** The first link in the email. */
export function firstLink(email: ReceivedEmail): URL {
  const link = /https?:\/\/[^\s"<>]+/.exec(email.text);
  if (!link) throw new Error(`no link in: ${email.text}`);
  return new URL(link[0]);
}

// ---- a small MIME reader: headers, multipart, quoted-printable/base64, RFC 2047 subjects ---------------

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  let last = '';
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    last = line.slice(0, i).trim().toLowerCase();
    headers.set(last, line.slice(i + 1).trim());
  }
  return { headers, body };
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(header);
  return m?.[1];
}

function decodeTransfer(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const joined = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < joined.length; i++) {
      const c = joined[i];
      if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
        bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(c, 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

function decodeWords(s: string): string {
  return s.replace(
    /=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g,
    (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeTransfer(text.replace(/_/g, ' '), 'quoted-printable'),
  );
}

function collect(headers: Map<string, string>, body: string, out: { text: string; html: string }): void {
  const type = headers.get('content-type') ?? 'text/plain';
  if (/^multipart\//i.test(type)) {
    const boundary = param(type, 'boundary');
    if (!boundary) return;
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const p = splitHeaders(part.replace(/^\r?\n/, ''));
      collect(p.headers, p.body, out);
    }
    return;
  }
  const decoded = decodeTransfer(body, headers.get('content-transfer-encoding'));
  if (/^text\/html/i.test(type)) out.html += decoded;
  else if (/^text\/plain/i.test(type)) out.text += decoded;
}

function parseEmail(raw: string, to: string[]): ReceivedEmail {
  const { headers, body } = splitHeaders(raw);
  const out = { text: '', html: '' };
  collect(headers, body, out);
  return {
    from: decodeWords(headers.get('from') ?? ''),
    to,
    subject: decodeWords(headers.get('subject') ?? ''),
    text: out.text.replace(/\r\n/g, '\n'),
    html: out.html,
    raw,
  };
}
