import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/**
 * A local stand-in for the parts of the Stripe API the official `stripe` package calls for top-ups:
 * Checkout Sessions (create, retrieve, expire), Refunds (create), Payment Intents (retrieve, with the
 * latest charge's receipt). Requests arrive form-encoded exactly as the package sends them; answers are
 * Stripe-shaped JSON. The test drives the customer's side (`completeSession`, `expireSession`) and gets
 * back the event Stripe would send, signed with `signEvent` like Stripe signs webhooks.
 */

type Json = Record<string, any>;

export interface FakeStripe {
  /** e.g. http://127.0.0.1:43123 — the STRIPE_API_BASE to configure. */
  url: string;
  secretKey: string;
  webhookSecret: string;
  sessions: Map<string, Json>;
  refunds: Map<string, Json>;
  /** Every API call received (method, path, form body), in order. */
  calls: Array<{ method: string; path: string; body: Json; idempotencyKey?: string }>;
  /** The next refunds get this status ('succeeded' by default; 'pending' or 'failed' to test those paths). */
  refundStatus: 'succeeded' | 'pending' | 'failed';
  /** The customer pays: the session becomes complete and paid. Returns `checkout.session.completed`. */
  completeSession(id: string): Json;
  /** The session runs out. Returns `checkout.session.expired`. */
  expireSession(id: string): Json;
  /** `refund.updated` for a refund whose status changed. */
  refundUpdated(id: string, status: 'succeeded' | 'failed'): Json;
  /** The body and Stripe-Signature header of a webhook delivery of `event`. */
  signEvent(
    event: Json,
    opts?: { secret?: string; timestamp?: number },
  ): { payload: string; signature: string };
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Parses Stripe's form encoding (`a[b][0][c]=1`) into nested objects and arrays. */
export function parseStripeForm(body: string): Json {
  const out: Json = {};
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    const path = rawKey.split(/[[\]]+/).filter((p) => p !== '');
    let node: any = out;
    path.forEach((part, i) => {
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(path[i + 1]);
      if (last) node[part] = value;
      else node = node[part] ??= nextIsIndex ? [] : {};
    });
  }
  return out;
}

function event(type: string, object: Json): Json {
  return {
    id: id('evt'),
    object: 'event',
    api_version: Stripe.API_VERSION,
    created: now(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object: structuredClone(object) },
  };
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  const sessions = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const intents = new Map<string, Json>();
  const idempotent = new Map<string, { status: number; body: Json }>();
  const calls: FakeStripe['calls'] = [];
  const signer = new Stripe(secretKey);
  let base = '';

  const error = (status: number, message: string, type = 'invalid_request_error') => ({
    status,
    body: { error: { type, message } },
  });

  function handle(method: string, path: string, body: Json): { status: number; body: Json } {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const item = body.line_items?.[0];
      const amount = Number(item?.price_data?.unit_amount) * Number(item?.quantity ?? 1);
      if (!Number.isInteger(amount) || amount <= 0) return error(400, 'line_items: invalid amount');
      const s: Json = {
        id: id('cs_test'),
        object: 'checkout.session',
        mode: body.mode,
        status: 'open',
        payment_status: 'unpaid',
        amount_total: amount,
        currency: item.price_data.currency,
        client_reference_id: body.client_reference_id ?? null,
        metadata: body.metadata ?? {},
        success_url: body.success_url,
        cancel_url: body.cancel_url,
        expires_at: body.expires_at ? Number(body.expires_at) : now() + 24 * 3600,
        payment_intent: null,
        livemode: false,
      };
      s.url = `${base}/pay/${s.id}`;
      sessions.set(s.id, s);
      return { status: 200, body: s };
    }
    if ((m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path)) && method === 'GET') {
      const s = sessions.get(m[1]);
      return s ? { status: 200, body: s } : error(404, `No such checkout.session: '${m[1]}'`);
    }
    if ((m = /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/.exec(path)) && method === 'POST') {
      const s = sessions.get(m[1]);
      if (!s) return error(404, `No such checkout.session: '${m[1]}'`);
      if (s.status !== 'open')
        return error(
          400,
          `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${s.status}".`,
        );
      s.status = 'expired';
      return { status: 200, body: s };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const pi = intents.get(body.payment_intent);
      if (!pi) return error(400, `No such payment_intent: '${body.payment_intent}'`);
      const amount = body.amount === undefined ? pi.amount - pi.amount_refunded : Number(body.amount);
      if (!Number.isInteger(amount) || amount <= 0 || amount > pi.amount - pi.amount_refunded)
        return error(400, `Refund amount (${amount}) is greater than unrefunded amount on charge`);
      const r: Json = {
        id: id('re'),
        object: 'refund',
        amount,
        currency: pi.currency,
        payment_intent: pi.id,
        reason: body.reason ?? null,
        metadata: body.metadata ?? {},
        status: fake.refundStatus,
        created: now(),
      };
      if (r.status !== 'failed') pi.amount_refunded += amount;
      refunds.set(r.id, r);
      return { status: 200, body: r };
    }
    if ((m = /^\/v1\/payment_intents\/([^/?]+)$/.exec(path)) && method === 'GET') {
      const pi = intents.get(m[1]);
      return pi ? { status: 200, body: pi } : error(404, `No such payment_intent: '${m[1]}'`);
    }
    return error(404, `Unrecognized request URL (${method}: ${path})`);
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? 'GET';
      const body = parseStripeForm(Buffer.concat(chunks).toString('utf8'));
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
      calls.push({ method, path: url.pathname, body, idempotencyKey });
      let result: { status: number; body: Json };
      if (req.headers.authorization !== `Bearer ${secretKey}`) {
        result = error(401, 'Invalid API Key provided', 'invalid_request_error');
      } else if (idempotencyKey && method === 'POST' && idempotent.has(`${url.pathname} ${idempotencyKey}`)) {
        result = idempotent.get(`${url.pathname} ${idempotencyKey}`)!;
      } else {
        result = handle(method, url.pathname, body);
        if (idempotencyKey && method === 'POST') idempotent.set(`${url.pathname} ${idempotencyKey}`, result);
      }
      res.writeHead(result.status, { 'content-type': 'application/json', 'request-id': id('req') });
      res.end(JSON.stringify(result.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeStripe = {
    url: base,
    secretKey,
    webhookSecret,
    sessions,
    refunds,
    calls,
    refundStatus: 'succeeded',
    completeSession(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`fake Stripe has no session ${sessionId}`);
      if (s.status === 'open') {
        const pi: Json = {
          id: id('pi'),
          object: 'payment_intent',
          amount: s.amount_total,
          amount_refunded: 0,
          currency: s.currency,
          status: 'succeeded',
          metadata: s.metadata,
        };
        pi.latest_charge = {
          id: id('ch'),
          object: 'charge',
          amount: s.amount_total,
          receipt_url: `https://pay.stripe.example/receipts/${pi.id}`,
        };
        intents.set(pi.id, pi);
        s.status = 'complete';
        s.payment_status = 'paid';
        s.payment_intent = pi.id;
      }
      return event('checkout.session.completed', s);
    },
    expireSession(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`fake Stripe has no session ${sessionId}`);
      if (s.status === 'open') s.status = 'expired';
      return event('checkout.session.expired', s);
    },
    refundUpdated(refundId, status) {
      const r = refunds.get(refundId);
      if (!r) throw new Error(`fake Stripe has no refund ${refundId}`);
      r.status = status;
      return event(status === 'failed' ? 'refund.failed' : 'refund.updated', r);
    },
    signEvent(ev, opts = {}) {
      const payload = JSON.stringify(ev, null, 2);
      const signature = signer.webhooks.generateTestHeaderString({
        payload,
        secret: opts.secret ?? webhookSecret,
        timestamp: opts.timestamp,
      });
      return { payload, signature };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}
