/**
 * Static, offline checks of everything that deploys ToRouter: k8s/ (kustomize base + overlays),
 * docker/compose.yaml and docker/Dockerfile. No cluster, no Docker engine, no network.
 *
 * - k8s: each overlay is built with scripts/deploy/kustomize-lite.ts (and, when the machine has a real
 *   kustomize or kubectl >= 1.21, with that too, and the two must agree), then every object is validated
 *   against the Kubernetes schemas (kubernetes-models), checked for unknown fields, and for the wiring a
 *   schema cannot see (scripts/deploy/manifest-checks.ts).
 * - The env each workload gets is validated with the apps' own config schemas (libs/config), so a renamed or
 *   newly required variable fails here before it fails in a pod.
 * - The last blocks break manifests on purpose and expect the checks to complain, so a check that
 *   silently stopped checking would be noticed.
 */
import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlias, isMap, isScalar, parse, parseDocument } from 'yaml';
import type { ZodObject, ZodRawShape } from 'zod';
import {
  ConfigError,
  authEnvSchema,
  billingEnvSchema,
  keysEnvSchema,
  loadConfig,
  routerEnvSchema,
  usageEnvSchema,
} from '../libs/config/src';
import {
  KustomizeError,
  findRealKustomize,
  kustomizeBuild,
  sortObjects,
  type K8sObject,
} from '../scripts/deploy/kustomize-lite';
import {
  APPS,
  ENTRYPOINT,
  PLACEHOLDER_MARKER,
  REQUIRED_ENV,
  checkCompose,
  checkDockerfile,
  checkManifests,
  composeSchemaValidator,
  type App,
  type EnvValidator,
} from '../scripts/deploy/manifest-checks';

const ROOT = join(__dirname, '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

const SCHEMAS: Record<App, ZodObject<ZodRawShape>> = {
  router: routerEnvSchema,
  auth: authEnvSchema,
  keys: keysEnvSchema,
  billing: billingEnvSchema,
  usage: usageEnvSchema,
};

const validateEnv: EnvValidator = (app, env) => {
  try {
    loadConfig(SCHEMAS[app], env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

const build = (dir: string): K8sObject[] => kustomizeBuild(join(ROOT, dir));
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not in the build`);
  return o;
};
/** Loosely typed access into a manifest, for reading and for breaking it on purpose. */
const loose = (o: unknown): any => o;
const container = (d: K8sObject) => loose(d).spec.template.spec.containers[0];

/** Secrets the base documents but the overlay leaves to the cluster (prod): their placeholder keys. */
function externalSecrets(objects: K8sObject[]): Map<string, Record<string, string>> {
  const ext = new Map<string, Record<string, string>>();
  for (const s of build('k8s/base').filter((o) => o.kind === 'Secret')) {
    if (!objects.some((o) => o.kind === 'Secret' && o.metadata.name === s.metadata.name)) {
      ext.set(s.metadata.name, loose(s).stringData as Record<string, string>);
    }
  }
  return ext;
}

const check = (objects: K8sObject[]) =>
  checkManifests(objects, { externalSecrets: externalSecrets(objects), validateEnv });

const realKustomize = findRealKustomize();

// -----------------------------------------------------------------------------------------------------------

describe('env contract: scripts/deploy REQUIRED_ENV vs libs/config', () => {
  it.each(APPS)('%s: sets only variables the app reads, and every one it requires', (app) => {
    const shape = SCHEMAS[app].shape;
    const unknown = REQUIRED_ENV[app].filter((v) => !(v in shape));
    const requiredBySchema = Object.keys(shape).filter((k) => !shape[k].isOptional());
    const missing = requiredBySchema.filter((v) => !REQUIRED_ENV[app].includes(v));
    expect({ unknown, missing }).toEqual({ unknown: [], missing: [] });
  });
});

describe('k8s/base', () => {
  it('is namespace-free and builds', () => {
    const objects = build('k8s/base');
    expect(objects.filter((o) => o.metadata.namespace !== undefined)).toEqual([]);
    expect(parse(read('k8s/base/kustomization.yaml'))).not.toHaveProperty('namespace');
  });

  it('keeps Secrets as clearly marked placeholders', () => {
    const secrets = build('k8s/base').filter((o) => o.kind === 'Secret');
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual(['torouter-secrets', 'torouter-stripe']);
    for (const s of secrets) {
      for (const v of Object.values(loose(s).stringData as Record<string, string>)) {
        expect(v === '' || v.includes(PLACEHOLDER_MARKER)).toBe(true);
      }
    }
  });
});

describe.each(['dev', 'prod'])('k8s/overlays/%s', (overlay) => {
  const dir = `k8s/overlays/${overlay}`;
  let objects: K8sObject[];
  beforeAll(() => {
    objects = build(dir);
  });

  // kustomize-lite is only trusted because it is compared with the real thing wherever that exists.
  (realKustomize ? it : it.skip)(
    `builds the same objects as real kustomize (${realKustomize?.description ?? 'none on this machine'})`,
    () => {
      expect(sortObjects(objects)).toEqual(sortObjects(realKustomize!.build(join(ROOT, dir))));
    },
  );

  it('passes schema, strict-field, wiring, env and hardening checks', () => {
    expect(check(objects)).toEqual([]);
  });

  it('has a Deployment and a Service per app, the Ingress, the HPA and the migrations Job', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    for (const app of APPS) {
      expect(kinds).toContain(`Deployment/torouter-${app}`);
      expect(kinds).toContain(`Service/torouter-${app}`);
      expect(kinds).toContain(`PodDisruptionBudget/torouter-${app}`);
    }
    expect(kinds).toEqual(
      expect.arrayContaining([
        'ConfigMap/torouter-config',
        'Ingress/torouter',
        'HorizontalPodAutoscaler/torouter-router',
        'Job/torouter-migrate',
      ]),
    );
    expect(kinds.filter((k) => /^(StatefulSet|PersistentVolumeClaim)\//.test(k))).toEqual([]);
  });

  if (overlay === 'dev') {
    it('dev: own namespace, dev image, one replica, placeholder Secrets applied', () => {
      expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['torouter-dev']));
      expect(container(find(objects, 'Deployment', 'torouter-auth')).image).toBe('torouter:dev');
      expect(loose(find(objects, 'Deployment', 'torouter-usage')).spec.replicas).toBe(1);
      expect(loose(find(objects, 'HorizontalPodAutoscaler', 'torouter-router')).spec.minReplicas).toBe(1);
      expect(objects.filter((o) => o.kind === 'Secret')).toHaveLength(2);
      expect(loose(find(objects, 'Ingress', 'torouter')).spec.rules[0].host).toBe('torouter.dev.example.com');
    });
  } else {
    it('prod: pinned registry image, HA replicas, TLS, and no placeholder Secret that could overwrite real ones', () => {
      expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['torouter']));
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
      const image = String(container(find(objects, 'Deployment', 'torouter-router')).image);
      expect(image).toMatch(/^[a-z0-9.-]+\.[a-z]+\/.+:(?!latest$|dev$)[\w.-]+$|@sha256:[a-f0-9]{64}$/);
      for (const app of APPS.filter((a) => a !== 'router')) {
        expect(loose(find(objects, 'Deployment', `torouter-${app}`)).spec.replicas).toBeGreaterThanOrEqual(2);
      }
      expect(
        loose(find(objects, 'HorizontalPodAutoscaler', 'torouter-router')).spec.minReplicas,
      ).toBeGreaterThanOrEqual(2);
      const ingress = loose(find(objects, 'Ingress', 'torouter')).spec;
      const tlsHosts = (ingress.tls as { hosts: string[] }[]).flatMap((t) => t.hosts);
      for (const rule of ingress.rules as { host: string }[]) expect(tlsHosts).toContain(rule.host);
      expect(loose(find(objects, 'ConfigMap', 'torouter-config')).data.PUBLIC_BASE_URL).toBe(
        `https://${ingress.rules[0].host}`,
      );
    });
  }
});

// -----------------------------------------------------------------------------------------------------------
// The checks must be able to fail: break one thing at a time and expect the matching complaint.

describe('k8s checks catch broken manifests', () => {
  const fresh = (overlay = 'prod') => build(`k8s/overlays/${overlay}`);
  const expectProblem = (objects: K8sObject[], pattern: RegExp) => {
    const problems = check(objects);
    expect(problems.some((p) => pattern.test(p)) ? 'caught' : problems).toBe('caught');
  };

  it('a readiness probe on the wrong port', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-keys')).readinessProbe.httpGet.port = 9090;
    expectProblem(o, /torouter-keys: readinessProbe port 9090 resolves to 9090, app listens on 8080/);
  });

  it('a container port that no longer matches HTTP_PORT', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-auth')).ports[0].containerPort = 3000;
    expectProblem(o, /torouter-auth: no containerPort 8080/);
  });

  it('a liveness probe on the wrong path', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-router')).livenessProbe.httpGet.path = '/health';
    expectProblem(o, /livenessProbe path is \/health, expected \/health\/live/);
  });

  it('a Service whose selector misses the pods', () => {
    const o = fresh();
    loose(find(o, 'Service', 'torouter-billing')).spec.selector = { 'app.kubernetes.io/name': 'billing' };
    expectProblem(o, /Service\/torouter-billing: selects no Deployment's pods/);
  });

  it('a Deployment selector that does not match its pod labels', () => {
    const o = fresh();
    loose(find(o, 'Deployment', 'torouter-usage')).spec.selector.matchLabels = { app: 'usage' };
    expectProblem(o, /torouter-usage: selector.matchLabels does not match/);
  });

  it('a missing secret key', () => {
    const o = fresh('dev');
    delete loose(find(o, 'Secret', 'torouter-secrets')).stringData.TOROUTER_SECRET;
    expectProblem(o, /torouter-auth\/auth: TOROUTER_SECRET is not provided/);
  });

  it('a secret in the ConfigMap or written into a manifest', () => {
    const o = fresh();
    loose(find(o, 'ConfigMap', 'torouter-config')).data.TOROUTER_ADMIN_TOKEN = 'x'.repeat(40);
    container(find(o, 'Deployment', 'torouter-usage')).env.push({
      name: 'DATABASE_URL',
      value: 'postgres://u:p@db/t',
    });
    expectProblem(o, /ConfigMap\/torouter-config: TOROUTER_ADMIN_TOKEN is a secret and belongs in a Secret/);
    expectProblem(o, /torouter-usage\/usage: DATABASE_URL must come from a Secret, not literal/);
  });

  it('Stripe credentials handed to the router', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-router')).envFrom.push({
      secretRef: { name: 'torouter-stripe' },
    });
    expectProblem(o, /torouter-router\/router: must not receive STRIPE_SECRET_KEY/);
  });

  it('a value the app would reject at start (libs/config)', () => {
    const o = fresh();
    loose(find(o, 'ConfigMap', 'torouter-config')).data.LOG_LEVEL = 'verbose';
    expectProblem(o, /config for router: LOG_LEVEL/);
  });

  it('a misspelt field (strict mode)', () => {
    const o = fresh();
    const c = container(find(o, 'Deployment', 'torouter-router'));
    c.readinesProbe = c.readinessProbe;
    expectProblem(o, /spec.template.spec.containers\[0\].readinesProbe: unknown field/);
  });

  it('a value of the wrong type or format (schema)', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-router')).resources.limits.memory = '1GB';
    expectProblem(o, /Deployment\/torouter-router: schema: .*memory must match format "quantity"/);
  });

  it('a removed API version', () => {
    const o = fresh();
    find(o, 'HorizontalPodAutoscaler', 'torouter-router').apiVersion = 'autoscaling/v2beta2';
    expectProblem(o, /apiVersion autoscaling\/v2beta2 kind HorizontalPodAutoscaler is not one of/);
  });

  it('two different images', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-usage')).image = 'registry.example.com/torouter/torouter:0.0.9';
    expectProblem(o, /expected one image for every container/);
  });

  it('a container allowed to run as root or write its filesystem', () => {
    const o = fresh();
    delete loose(find(o, 'Deployment', 'torouter-keys')).spec.template.spec.securityContext.runAsNonRoot;
    container(find(o, 'Job', 'torouter-migrate')).securityContext.readOnlyRootFilesystem = false;
    expectProblem(o, /torouter-keys: pod securityContext.runAsNonRoot must be true/);
    expectProblem(o, /torouter-migrate\/migrate: readOnlyRootFilesystem must be true/);
  });

  it('a router replica count that would fight the HPA', () => {
    const o = fresh();
    loose(find(o, 'Deployment', 'torouter-router')).spec.replicas = 2;
    expectProblem(o, /must not set spec.replicas/);
  });

  it('an app started with the wrong entry point', () => {
    const o = fresh();
    container(find(o, 'Deployment', 'torouter-billing')).args = ENTRYPOINT.usage;
    expectProblem(o, /app billing: expected 1 Deployment/);
  });

  it('an Ingress pointing at a port the Service does not have', () => {
    const o = fresh();
    loose(find(o, 'Ingress', 'torouter')).spec.rules[0].http.paths[0].backend.service.port = { number: 8080 };
    expectProblem(o, /backend port \{"number":8080\} is not a port of Service\/torouter-router/);
  });
});

describe('kustomize-lite refuses what it does not implement', () => {
  const overlay = (kustomization: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-lite-'));
    const k = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
    mkdirSync(join(dir, 'base'));
    mkdirSync(join(dir, 'overlay'));
    writeFileSync(
      join(dir, 'base', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  A: "1"\n',
    );
    writeFileSync(join(dir, 'base', 'kustomization.yaml'), `${k}resources: [cm.yaml]\n`);
    writeFileSync(join(dir, 'overlay', 'kustomization.yaml'), `${k}resources: [../base]\n${kustomization}`);
    return join(dir, 'overlay');
  };

  it('unsupported fields', () => {
    expect(() => kustomizeBuild(overlay('commonLabels: {a: b}\n'))).toThrow(KustomizeError);
  });

  it('a patch whose target matches nothing', () => {
    const k =
      'patches:\n  - target: {kind: ConfigMap, name: typo}\n    patch: \'[{"op": "remove", "path": "/data/A"}]\'\n';
    expect(() => kustomizeBuild(overlay(k))).toThrow(/matches nothing/);
  });

  it('applies strategic merge and JSON patches like kustomize', () => {
    const k = [
      'namespace: ns1',
      'patches:',
      '  - target: {kind: ConfigMap, name: "c|d"}',
      '    patch: |-',
      '      - {op: add, path: /data/B, value: "2"}',
      '  - patch: "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {A: null, C: \'3\'}}"',
      '',
    ].join('\n');
    const dir = overlay(k);
    const [cm] = kustomizeBuild(dir);
    expect(cm).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'ns1' },
      data: { B: '2', C: '3' },
    });
    if (realKustomize) expect(realKustomize.build(dir)).toEqual([cm]);
  });
});

// -----------------------------------------------------------------------------------------------------------

describe('docker/compose.yaml', () => {
  const source = read('docker/compose.yaml');
  const load = () => parse(source, { merge: true }) as unknown;
  const schema = composeSchemaValidator();

  it('runs postgres, redis, nats, migrate and the five apps, correctly wired', () => {
    expect(checkCompose(load(), validateEnv, schema)).toEqual([]);
  });

  it('gives every app and the migrations the environment of one shared anchor', () => {
    const doc = parseDocument(source, { merge: true });
    const anchors = new Set<string>();
    for (const svc of ['migrate', ...APPS]) {
      const env = doc.getIn(['services', svc, 'environment'], true);
      if (isAlias(env)) anchors.add(env.source);
      else if (isMap(env)) {
        // With `merge: true` the parser marks merge keys with a Symbol('<<').
        const merge = env.items.find((p) => {
          const key: unknown = isScalar(p.key) ? p.key.value : undefined;
          return (typeof key === 'symbol' ? key.description : key) === '<<';
        });
        if (merge && isAlias(merge.value)) anchors.add(merge.value.source);
        else anchors.add(`${svc}: no shared anchor`);
      } else anchors.add(`${svc}: no environment`);
    }
    expect([...anchors]).toEqual(['torouter-env']);
  });

  const broken = (mutate: (doc: ReturnType<typeof loose>) => void, pattern: RegExp) => {
    const doc = loose(load());
    mutate(doc);
    const problems = checkCompose(doc, validateEnv, schema);
    expect(problems.some((p) => pattern.test(p)) ? 'caught' : problems).toBe('caught');
  };

  it('catches a healthcheck that would probe the wrong port', () => {
    broken(
      (d) => (d.services.router.environment.HTTP_PORT = '9999'),
      /router: healthcheck would probe port 9999/,
    );
  });
  it('catches an app that does not wait for the migrations', () => {
    broken((d) => delete d.services.keys.depends_on.migrate, /keys: must wait for migrate/);
  });
  it('catches NATS without JetStream', () => {
    broken((d) => (d.services.nats.command = ['-m', '8222']), /JetStream/);
  });
  it('catches a missing variable and an invalid one', () => {
    broken(
      (d) => delete d.services.billing.environment.STRIPE_API_BASE,
      /billing: STRIPE_API_BASE is not provided/,
    );
    broken(
      (d) => (d.services.auth.environment.TOROUTER_SECRET = 'short'),
      /auth: config for auth: TOROUTER_SECRET/,
    );
  });
  it('catches a field Compose does not know (schema)', () => {
    broken(
      (d) => (d.services.usage.depends_on.nats.condition = 'service_ready'),
      /compose schema: \/services\/usage\/depends_on/,
    );
  });
  it('catches a published internal service', () => {
    broken((d) => (d.services.auth.ports = ['8081:8081']), /auth: internal services are not published/);
  });
});

describe('scripts/deploy/healthcheck.js (compose healthcheck)', () => {
  let server: Server;
  let port = 0;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/health/ready' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const run = (env: Record<string, string>): Promise<number | null> => {
    // Asynchronously: the server that answers it lives in this process.
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'scripts/deploy/healthcheck.js'), '/health/ready'], {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      child.on('exit', (code) => resolve(code));
    });
  };

  it('is healthy on 2xx from HTTP_PORT (internal) or PORT (router), unhealthy otherwise', async () => {
    status = 200;
    expect(await run({ HTTP_PORT: String(port) })).toBe(0);
    expect(await run({ PORT: String(port) })).toBe(0);
    status = 503;
    expect(await run({ HTTP_PORT: String(port) })).toBe(1);
    status = 200;
    expect(await run({ HTTP_PORT: '1' })).toBe(1); // nothing listens there
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = read('docker/Dockerfile');
  const ignore = read('docker/Dockerfile.dockerignore');
  const exists = (p: string) => existsSync(join(ROOT, p));
  // The compose healthcheck and the migrations Job run these from inside the image.
  const mustShip = ['scripts/deploy/healthcheck.js', 'scripts/migrate-all.js'];

  it('is a multi-stage, non-root, HEALTHCHECK-free build of one image', () => {
    expect(checkDockerfile(dockerfile, ignore, exists, mustShip)).toEqual([]);
  });

  it('catches a root user, a HEALTHCHECK, dev dependencies at runtime and an over-eager ignore file', () => {
    const bad = dockerfile
      .replace(/^USER .*$/m, 'USER node')
      .replace(/^EXPOSE 8080$/m, 'EXPOSE 8080\nHEALTHCHECK CMD true')
      .replace('COPY --from=prod-deps /app/node_modules', 'COPY --from=deps /app/node_modules');
    const problems = checkDockerfile(bad, `${ignore}\nscripts\n`, exists, mustShip).join('\n');
    expect(problems).toMatch(/USER must be a numeric non-root uid/);
    expect(problems).toMatch(/no HEALTHCHECK/);
    expect(problems).toMatch(/node_modules must come from a stage that runs `npm ci --omit=dev`/);
    expect(problems).toMatch(/COPY scripts: excluded by the docker ignore file/);
  });

  it('CMD defaults to the router; every other app is picked by the command', () => {
    expect(dockerfile).toContain(`CMD ${JSON.stringify(ENTRYPOINT.router).replace(/,/g, ', ')}`);
  });
});
