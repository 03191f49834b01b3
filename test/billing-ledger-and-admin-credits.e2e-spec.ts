import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { callJson, createTestAccount, type TestAccount } from './support/second-router';
import { startTestStack, type TestStack } from './support/test-stack';

/**
 * Every balance change is a ledger entry with a unique idempotency key; the database itself keeps the
 * balance equal to the sum of the ledger. Administrators credit and debit with a required
 * Idempotency-Key: a replay answers the first result and moves no money, another body is a 409.
 */
describe('billing: ledger, balance and admin credits', () => {
  let stack: TestStack;
  let db: Client;

  const credit = (accountId: string, body: unknown, key?: string, token?: string) =>
    callJson(stack.url, 'POST', `/api/v1/admin/accounts/${accountId}/credits`, {
      token: token ?? stack.adminToken,
      body,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  const balance = async (a: TestAccount) =>
    (await callJson(stack.url, 'GET', '/api/v1/billing/balance', { token: a.token })).body;
  const sums = async (accountId: string) => {
    const r = await db.query(
      `SELECT a.balance_micro, (SELECT coalesce(sum(amount_micro), 0) FROM billing.ledger_entries l
         WHERE l.account_id = a.account_id) AS ledger_sum
       FROM billing.accounts a WHERE a.account_id = $1`,
      [accountId],
    );
    return { balance: Number(r.rows[0].balance_micro), ledger: Number(r.rows[0].ledger_sum) };
  };

  beforeAll(async () => {
    stack = await startTestStack({ seedDemo: false, env: { BILLING_SIGNUP_CREDIT_USD: '1.5' } });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.close();
  });

  it('gives a new account its signup credit once, as a ledger entry', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const [b1, b2] = await Promise.all([balance(a), balance(a)]);
    expect(b1).toMatchObject({ accountId: a.id, balanceUsd: 1.5, reservedUsd: 0, subscriptions: [] });
    expect(b2.balanceUsd).toBe(1.5);
    const ledger = (await callJson(stack.url, 'GET', '/api/v1/billing/ledger', { token: a.token })).body;
    expect(ledger.data).toEqual([
      expect.objectContaining({ kind: 'signup_credit', amountUsd: 1.5, balanceAfterUsd: 1.5 }),
    ]);
  });

  it('credits once per Idempotency-Key: a replay answers the first result and moves no money', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const key = `credit-${randomUUID()}`;
    const first = await credit(a.id, { amountUsd: 25.25, note: 'goodwill' }, key);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ balanceUsd: 26.75, replayed: false });
    expect(first.body.entry).toMatchObject({ kind: 'admin_credit', amountUsd: 25.25, note: 'goodwill' });

    const replays = await Promise.all(
      Array.from({ length: 5 }, () => credit(a.id, { amountUsd: 25.25, note: 'goodwill' }, key)),
    );
    for (const r of replays) {
      expect(r.status).toBe(201);
      expect(r.headers.get('idempotent-replayed')).toBe('true');
      expect(r.body).toEqual({ ...first.body, replayed: true });
    }
    expect((await balance(a)).balanceUsd).toBe(26.75);

    const different = await credit(a.id, { amountUsd: 30, note: 'goodwill' }, key);
    expect(different.status).toBe(409);
    expect(different.body.error.code).toBe('conflict');
    const otherAccount = await createTestAccount(stack, { creditUsd: 0 });
    expect((await credit(otherAccount.id, { amountUsd: 25.25, note: 'goodwill' }, key)).status).toBe(409);
    expect((await balance(a)).balanceUsd).toBe(26.75);
  });

  it('races of one new key credit exactly once', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const key = `race-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 10 }, () => credit(a.id, { amountUsd: 3 }, key)));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(results.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect((await balance(a)).balanceUsd).toBe(4.5);
  });

  it('debits with a negative amount, never below zero', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const debit = await credit(a.id, { amountUsd: -1, note: 'correction' }, `d-${randomUUID()}`);
    expect(debit.status).toBe(201);
    expect(debit.body.entry).toMatchObject({ kind: 'admin_debit', amountUsd: -1, balanceAfterUsd: 0.5 });
    const tooMuch = await credit(a.id, { amountUsd: -0.500001 }, `d-${randomUUID()}`);
    expect(tooMuch.status).toBe(402);
    expect(tooMuch.body.error.code).toBe('INSUFFICIENT_BALANCE');
    expect((await balance(a)).balanceUsd).toBe(0.5);
  });

  it('validates the header, the body and the account, naming the field', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    const missing = await credit(a.id, { amountUsd: 5 });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('Idempotency-Key');
    const zero = await credit(a.id, { amountUsd: 0 }, 'k-zero');
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toContain('amountUsd');
    const precise = await credit(a.id, { amountUsd: 0.0000001 }, 'k-precise');
    expect(precise.status).toBe(400);
    expect((await credit(a.id, { amountUsd: 'ten' }, 'k-text')).status).toBe(400);
    expect((await credit(randomUUID(), { amountUsd: 5 }, 'k-nobody')).status).toBe(404);
    expect((await credit('nope', { amountUsd: 5 }, 'k-nope')).status).toBe(404);
    expect((await credit(a.id, { amountUsd: 5 }, 'k-user', a.token)).status).toBe(403);
    expect(
      (
        await callJson(stack.url, 'POST', `/api/v1/admin/accounts/${a.id}/credits`, {
          body: { amountUsd: 5 },
        })
      ).status,
    ).toBe(401);
  });

  it('pages the ledger newest first with a cursor, for the account and for admins', async () => {
    const a = await createTestAccount(stack, { creditUsd: 0 });
    for (let i = 1; i <= 5; i++) await credit(a.id, { amountUsd: i }, `page-${a.id}-${i}`);
    const page1 = (await callJson(stack.url, 'GET', '/api/v1/billing/ledger?limit=4', { token: a.token }))
      .body;
    expect(page1.data.map((e: any) => e.amountUsd)).toEqual([5, 4, 3, 2]);
    expect(page1.data[0].balanceAfterUsd).toBe(16.5);
    const page2 = (
      await callJson(stack.url, 'GET', `/api/v1/billing/ledger?limit=4&cursor=${page1.nextCursor}`, {
        token: a.token,
      })
    ).body;
    expect(page2.data.map((e: any) => e.amountUsd)).toEqual([1, 1.5]);
    expect(page2.nextCursor).toBeNull();
    const admin = await callJson(stack.url, 'GET', `/api/v1/admin/accounts/${a.id}/ledger?limit=2`, {
      token: stack.adminToken,
    });
    expect(admin.body.data.map((e: any) => e.amountUsd)).toEqual([5, 4]);
    const adminBalance = await callJson(stack.url, 'GET', `/api/v1/admin/accounts/${a.id}/billing`, {
      token: stack.adminToken,
    });
    expect(adminBalance.body.balanceUsd).toBe(16.5);
    expect(
      (await callJson(stack.url, 'GET', '/api/v1/billing/ledger?limit=500', { token: a.token })).status,
    ).toBe(400);
  });

  it('keeps balance = sum of ledger in the database: entries are append-only, balances move only by entries', async () => {
    const a = await createTestAccount(stack, { creditUsd: 7 });
    await credit(a.id, { amountUsd: -2 }, `inv-${a.id}`);
    expect(await sums(a.id)).toEqual({ balance: 6_500_000, ledger: 6_500_000 });

    await expect(
      db.query(`UPDATE billing.ledger_entries SET amount_micro = 1 WHERE account_id = $1`, [a.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.query(`DELETE FROM billing.ledger_entries WHERE account_id = $1`, [a.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.query(`UPDATE billing.accounts SET balance_micro = 999 WHERE account_id = $1`, [a.id]),
    ).rejects.toThrow(/only through a ledger entry/);
    await expect(
      db.query(
        `INSERT INTO billing.ledger_entries (account_id, kind, amount_micro, balance_after_micro, idempotency_key)
         VALUES ($1, 'admin_credit', 5, 0, $2)`,
        [a.id, `admin:inv-${a.id}`],
      ),
    ).rejects.toThrow(/ledger_entries_idempotency_key_key/);
    expect(await sums(a.id)).toEqual({ balance: 6_500_000, ledger: 6_500_000 });

    const all = await db.query(
      `SELECT count(*) AS bad FROM billing.accounts a
       WHERE a.balance_micro <> (SELECT coalesce(sum(amount_micro), 0) FROM billing.ledger_entries l WHERE l.account_id = a.account_id)`,
    );
    expect(Number(all.rows[0].bad)).toBe(0);
  });
});
