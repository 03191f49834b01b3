import type { EventBus } from '@torouter/messaging';
import { CatalogCache } from './catalog.cache';
import type { CatalogRepository } from './catalog.repository';
import type { ChannelEntity } from './channel.entity';

function channel(id: string, fields: Partial<ChannelEntity> = {}): ChannelEntity {
  return {
    id,
    name: id,
    type: 'openai',
    baseUrl: null,
    credentialsEncrypted: null,
    models: ['m'],
    modelMapping: {},
    priority: 0,
    weight: 1,
    plans: [],
    enabled: true,
    timeouts: {},
    createdAt: new Date(),
    updatedAt: new Date(),
    ...fields,
  };
}

async function cacheWith(channels: ChannelEntity[]): Promise<CatalogCache> {
  const repo = {
    listModels: async () => [],
    listChannelsWithCredentials: async () => channels,
  } as unknown as CatalogRepository;
  const cache = new CatalogCache(repo, {} as EventBus);
  await cache.refresh();
  return cache;
}

describe('CatalogCache.candidates', () => {
  it('keeps only enabled channels serving the model, open to the plan, available and not tried', async () => {
    const cache = await cacheWith([
      channel('off', { enabled: false }),
      channel('other-model', { models: ['x'] }),
      channel('plan-b', { plans: ['b'] }),
      channel('plan-a', { plans: ['a'] }),
      channel('cooling'),
      channel('tried'),
      channel('ok'),
    ]);
    const ids = cache
      .candidates('m', { planId: 'a', exclude: new Set(['tried']), available: (id) => id !== 'cooling' })
      .map((c) => c.id)
      .sort();
    expect(ids).toEqual(['ok', 'plan-a']);
    expect(cache.candidates('m', { planId: null }).map((c) => c.id)).not.toContain('plan-a');
  });

  it('orders by priority, then least recently used', async () => {
    const cache = await cacheWith([
      channel('p2', { priority: 2 }),
      channel('p1a', { priority: 1 }),
      channel('p1b', { priority: 1 }),
    ]);
    const first = cache.candidates('m')[0];
    expect(['p1a', 'p1b']).toContain(first.id);
    expect(cache.candidates('m').at(-1)!.id).toBe('p2');
    cache.markPicked(first.id);
    expect(cache.candidates('m')[0].id).toBe(first.id === 'p1a' ? 'p1b' : 'p1a');
  });

  it('splits ties by weight', async () => {
    const cache = await cacheWith([
      channel('heavy', { weight: 9 }),
      channel('light', { weight: 1 }),
      channel('none', { weight: 0 }),
    ]);
    const counts: Record<string, number> = { heavy: 0, light: 0, none: 0 };
    for (let i = 0; i < 2000; i++) counts[cache.candidates('m')[0].id] += 1;
    expect(counts.none).toBe(0);
    expect(counts.heavy).toBeGreaterThan(counts.light * 4);
    expect(counts.light).toBeGreaterThan(0);
  });
});
