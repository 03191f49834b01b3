import type { DependencyStatus } from '@torouter/contracts';
import type { Gauge } from 'prom-client';

/** A dependency the service cannot work without, and how to prove it answers right now. */
export interface DependencyProbe {
  name: DependencyStatus['name'];
  check(): Promise<void>;
}

const probeTimeoutMs = 1500;

function withTimeout(p: Promise<void>, name: string): Promise<void> {
  return Promise.race([
    p,
    new Promise<void>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${name} did not answer within ${probeTimeoutMs} ms`)),
        probeTimeoutMs,
      ).unref(),
    ),
  ]);
}

/** Runs every probe in parallel; never throws. */
export async function runProbes(
  probes: DependencyProbe[],
  gauge?: Gauge<'dependency'>,
): Promise<DependencyStatus[]> {
  return Promise.all(
    probes.map(async (probe) => {
      try {
        await withTimeout(probe.check(), probe.name);
        gauge?.set({ dependency: probe.name }, 1);
        return { name: probe.name, up: true };
      } catch (e) {
        gauge?.set({ dependency: probe.name }, 0);
        return { name: probe.name, up: false, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}
