import type { RouterConfig } from '@torouter/config';
import { DomainError, Subjects } from '@torouter/contracts';
import { RpcClient } from '@torouter/messaging';
import { randomBytes } from 'node:crypto';
import { CatalogRepository } from '../catalog/catalog.repository';
import { DEMO_CHANNEL_NAME, demoModels } from '../catalog/demo-catalog';
import { createRouterDataSource } from '../router.app';

export const DEMO_EMAIL = 'demo@torouter.local';

export interface DemoSeedResult {
  catalogSeeded: boolean;
  account: { id: string; email: string; password?: string; created: boolean };
  apiKey?: { id: string; key: string };
}

/**
 * First-run data for a local stack: the demo channel and a priced catalog (only when the catalog is
 * empty, so an operator's changes are never overwritten), a verified demo account, and — when asked —
 * a fresh API key for it. Needs the stack running (accounts and keys are created over NATS by their
 * owning services).
 */
export async function seedDemo(config: RouterConfig, opts: { createKey: boolean }): Promise<DemoSeedResult> {
  const dataSource = createRouterDataSource(config);
  await dataSource.initialize();
  let catalogSeeded = false;
  try {
    const catalog = new CatalogRepository(dataSource);
    if ((await catalog.listModels()).length === 0) {
      await catalog.upsertModels(demoModels);
      catalogSeeded = true;
    }
    if (!(await catalog.channelExists(DEMO_CHANNEL_NAME))) {
      await catalog.insertChannel({
        name: DEMO_CHANNEL_NAME,
        type: 'demo',
        baseUrl: null,
        models: demoModels.map((m) => m.id),
        priority: 1000, // real channels added later (default priority 0) win over the demo
        weight: 1,
        enabled: true,
      });
    }
  } finally {
    await dataSource.destroy();
  }

  const rpc = new RpcClient({
    natsUrl: config.NATS_URL,
    namespace: config.TOROUTER_NAMESPACE,
    timeoutMs: 15_000,
    name: 'seed',
  });
  await rpc.connect();
  try {
    let account = await rpc.send(Subjects.authAccountFindByEmail, { email: DEMO_EMAIL });
    let password: string | undefined;
    const created = !account;
    if (!account) {
      password = randomBytes(12).toString('base64url');
      try {
        account = await rpc.send(Subjects.authAccountCreate, {
          email: DEMO_EMAIL,
          password,
          username: 'demo',
          emailVerified: true,
        });
      } catch (e) {
        // Another seeding process won the race; use its account.
        if (!(e instanceof DomainError) || e.code !== 'conflict') throw e;
        account = (await rpc.send(Subjects.authAccountFindByEmail, { email: DEMO_EMAIL }))!;
        password = undefined;
      }
    }
    // Pay-as-you-go needs a balance: the demo account gets some credit, once (the key makes reruns no-ops).
    await rpc.send(Subjects.billingCreditCreate, {
      accountId: account.id,
      amountUsd: 5,
      note: 'demo credit',
      idempotencyKey: `demo-seed:${account.id}`,
    });
    const result: DemoSeedResult = {
      catalogSeeded,
      account: { id: account.id, email: account.email, password, created },
    };
    if (opts.createKey) {
      const key = await rpc.send(Subjects.keysApiKeyCreate, { accountId: account.id, name: 'demo' });
      result.apiKey = { id: key.id, key: key.key };
    }
    return result;
  } finally {
    await rpc.close();
  }
}
