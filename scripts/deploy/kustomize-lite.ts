/**
 * A small, offline `kustomize build` for the features k8s/ uses, and nothing more.
 *
 * Why it exists: the deploy checks (test/deploy-manifests.e2e-spec.ts) must run in CI with no network and
 * no guaranteed kustomize binary. Debian only packages kubectl 1.20 (kustomize v2.0.3, which predates the
 * `patches:` field), and newer kustomize/kubectl releases are downloads, not packages. So the checks build
 * the overlays with this module and, whenever a real kustomize is on the machine (`kustomize`, or
 * `kubectl` >= 1.21 whose `kubectl kustomize` embeds it), also build them with it and require the same
 * objects — so this implementation is checked against the real one instead of being trusted.
 *
 * Supported kustomization fields (anything else is an error, never silently ignored):
 *   resources   files (multi-document YAML) and directories (built recursively)
 *   patches     inline `patch:` or `path:`; a YAML list is a JSON 6902 patch and needs `target`;
 *               a YAML map is a strategic-merge patch (with or without `target`); `$patch: delete` removes
 *               the resource. Lists merge by key (containers/env/volumes by name, ports by port) as in
 *               Kubernetes' strategic merge; other lists are replaced.
 *   namespace   set on every (namespaced) resource
 *   images      name -> newName / newTag / digest on containers and initContainers
 * Applied in kustomize's order: resources, patches, namespace, images.
 *
 * Deliberately stricter than kustomize: a patch whose target matches nothing is an error (a typo in an
 * overlay should fail the build, not be ignored).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** A Kubernetes object as kustomize emits it (only the identifying fields are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export class KustomizeError extends Error {
  override name = 'KustomizeError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);
const SUPPORTED_TARGET_FIELDS = new Set(['group', 'version', 'kind', 'name', 'namespace']);
/** Kinds the namespace transformer must not touch; we refuse them rather than half-support them. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);
/** Kinds whose namespace kustomize also rewrites inside the object (subjects); not needed, so refused. */
const NAMESPACE_REFERENCING = new Set(['RoleBinding', 'ServiceAccount']);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Display form of a YAML value: strings as they are, anything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function describe(o: K8sObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

function idOf(o: K8sObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

function readKustomization(dir: string): { file: string; k: JsonObject } {
  const file = KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!file) throw new KustomizeError(`no kustomization.yaml in ${dir}`);
  // YAML 1.1 like kustomize's own decoder (sigs.k8s.io/yaml): `namespace: n` or `newTag: on` are booleans
  // there, and must fail here too rather than build something kustomize would refuse.
  const k = parse(readFileSync(file, 'utf8'), { version: '1.1' }) as unknown;
  if (!isObject(k)) throw new KustomizeError(`${file}: not a YAML map`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') {
    throw new KustomizeError(
      `${file}: expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization`,
    );
  }
  const unsupported = Object.keys(k).filter((f) => !SUPPORTED_FIELDS.has(f));
  if (unsupported.length) {
    throw new KustomizeError(
      `${file}: field(s) ${unsupported.join(', ')} not supported by kustomize-lite (scripts/deploy/kustomize-lite.ts); ` +
        'implement them there (and keep the cross-check with real kustomize green) or avoid them',
    );
  }
  return { file, k };
}

function loadResourceFile(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length)
      throw new KustomizeError(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // empty document (e.g. a trailing `---`)
    if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      throw new KustomizeError(
        `${file}: every document must be a Kubernetes object with apiVersion and kind`,
      );
    }
    const metadata = value.metadata;
    if (!isObject(metadata) || typeof metadata.name !== 'string' || !metadata.name) {
      throw new KustomizeError(`${file}: ${value.kind} without metadata.name`);
    }
    out.push(value as unknown as K8sObject);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Target selection

function anchored(pattern: string): RegExp {
  // kustomize treats target name/namespace as anchored regular expressions.
  return new RegExp(`^(?:${pattern})$`);
}

function matchesTarget(o: K8sObject, t: PatchTarget): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (t.group !== undefined && t.group !== group) return false;
  if (t.version !== undefined && t.version !== version) return false;
  if (t.kind !== undefined && t.kind !== o.kind) return false;
  if (t.name !== undefined && !anchored(t.name).test(o.metadata.name)) return false;
  if (t.namespace !== undefined && !anchored(t.namespace).test(o.metadata.namespace ?? '')) return false;
  return true;
}

function parseTarget(raw: unknown, where: string): PatchTarget | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) throw new KustomizeError(`${where}: target must be a map`);
  const bad = Object.keys(raw).filter((k) => !SUPPORTED_TARGET_FIELDS.has(k));
  if (bad.length) throw new KustomizeError(`${where}: target field(s) ${bad.join(', ')} not supported`);
  const t: PatchTarget = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new KustomizeError(`${where}: target.${k} must be a string`);
    t[k as keyof PatchTarget] = v;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// JSON 6902

function decodePointer(pointer: string, where: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new KustomizeError(`${where}: JSON pointer "${pointer}" must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyJson6902(doc: K8sObject, ops: unknown[], where: string): void {
  for (const rawOp of ops) {
    if (!isObject(rawOp) || typeof rawOp.op !== 'string' || typeof rawOp.path !== 'string') {
      throw new KustomizeError(`${where}: each JSON patch operation needs op and path`);
    }
    const { op, path } = rawOp;
    const segments = decodePointer(path, where);
    if (segments.length === 0)
      throw new KustomizeError(`${where}: patching the document root is not supported`);
    const last = segments[segments.length - 1];
    let parent: unknown = doc;
    for (const seg of segments.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(seg)] : isObject(parent) ? parent[seg] : undefined;
      if (parent === undefined) throw new KustomizeError(`${where}: ${op} ${path}: path does not exist`);
    }
    const here = `${where}: ${op} ${path}`;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new KustomizeError(`${here}: bad index`);
      if (op === 'add') parent.splice(index, 0, clone(rawOp.value));
      else if (index >= parent.length) throw new KustomizeError(`${here}: index out of range`);
      else if (op === 'replace') parent[index] = clone(rawOp.value);
      else if (op === 'remove') parent.splice(index, 1);
      else if (op === 'test') testEqual(parent[index], rawOp.value, here);
      else throw new KustomizeError(`${here}: operation not supported`);
    } else if (isObject(parent)) {
      const exists = Object.prototype.hasOwnProperty.call(parent, last);
      if (op === 'add') parent[last] = clone(rawOp.value);
      else if (!exists) throw new KustomizeError(`${here}: path does not exist`);
      else if (op === 'replace') parent[last] = clone(rawOp.value);
      else if (op === 'remove') delete parent[last];
      else if (op === 'test') testEqual(parent[last], rawOp.value, here);
      else throw new KustomizeError(`${here}: operation not supported`);
    } else {
      throw new KustomizeError(`${here}: parent is not an object or array`);
    }
  }
}

function testEqual(actual: unknown, expected: unknown, where: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new KustomizeError(`${where}: test failed`);
}

// ---------------------------------------------------------------------------------------------------------
// Strategic merge

/** Patch merge keys of the Kubernetes list fields we may patch; lists not named here are replaced. */
function mergeKeyFor(field: string, path: string[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      // Container ports merge on containerPort, Service ports on port.
      return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
    default:
      return undefined;
  }
}

function strategicMerge(target: Json, patch: Json, path: string[]): Json {
  if (isObject(patch)) {
    const base: JsonObject = isObject(target) ? target : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) {
        throw new KustomizeError(`strategic-merge directive ${key} at /${path.join('/')} not supported`);
      }
      if (value === null) delete base[key];
      else base[key] = strategicMerge(base[key] ?? null, value, [...path, key]);
    }
    return base;
  }
  if (Array.isArray(patch)) {
    const key = mergeKeyFor(path[path.length - 1] ?? '', path);
    if (!key || !Array.isArray(target)) return clone(patch);
    const merged = target;
    for (const item of patch) {
      if (!isObject(item) || item[key] === undefined) {
        throw new KustomizeError(`strategic merge: items of /${path.join('/')} need "${key}"`);
      }
      const existing = merged.find((t) => isObject(t) && t[key] === item[key]);
      if (existing !== undefined) strategicMerge(existing, item, [...path, text(item[key])]);
      else merged.push(clone(item));
    }
    return merged;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------------------------
// Patches, namespace, images

function applyPatches(objects: K8sObject[], patches: unknown, dir: string, file: string): K8sObject[] {
  if (patches === undefined) return objects;
  if (!Array.isArray(patches)) throw new KustomizeError(`${file}: patches must be a list`);
  let result = objects;
  patches.forEach((entry, i) => {
    const where = `${file}: patches[${i}]`;
    if (!isObject(entry)) throw new KustomizeError(`${where}: must be a map`);
    const bad = Object.keys(entry).filter((k) => !['patch', 'path', 'target'].includes(k));
    if (bad.length) throw new KustomizeError(`${where}: field(s) ${bad.join(', ')} not supported`);
    let patchText: string;
    if (typeof entry.patch === 'string' && entry.path === undefined) patchText = entry.patch;
    else if (typeof entry.path === 'string' && entry.patch === undefined) {
      patchText = readFileSync(resolve(dir, entry.path), 'utf8');
    } else throw new KustomizeError(`${where}: exactly one of patch or path`);
    const target = parseTarget(entry.target, where);
    // As kustomize: text starting with "[" must be a JSON patch in strict JSON; anything else is YAML.
    let body: unknown;
    try {
      body = patchText.startsWith('[') ? (JSON.parse(patchText) as unknown) : (parse(patchText) as unknown);
    } catch (e) {
      throw new KustomizeError(
        `${where}: unable to parse patch: ${e instanceof Error ? e.message : String(e)}`,
      );
    }

    if (Array.isArray(body)) {
      if (!target) throw new KustomizeError(`${where}: a JSON 6902 patch needs a target`);
      const hits = result.filter((o) => matchesTarget(o, target));
      if (!hits.length)
        throw new KustomizeError(`${where}: target ${JSON.stringify(target)} matches nothing`);
      for (const o of hits) applyJson6902(o, body, `${where} on ${describe(o)}`);
      return;
    }
    if (!isObject(body)) throw new KustomizeError(`${where}: patch must be a YAML list (JSON 6902) or map`);

    // Strategic merge: without a target it applies to the object with the patch's apiVersion, kind and name.
    const { $patch: directive, ...smp } = body;
    const meta = isObject(smp.metadata) ? smp.metadata : {};
    const selector: PatchTarget = target ?? {
      kind: text(smp.kind),
      name: text(meta.name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    };
    const hits = result.filter(
      (o) => matchesTarget(o, selector) && (target !== undefined || o.apiVersion === smp.apiVersion),
    );
    if (!hits.length) throw new KustomizeError(`${where}: patch matches no resource`);
    if (directive === 'delete') {
      result = result.filter((o) => !hits.includes(o));
      return;
    }
    if (directive !== undefined)
      throw new KustomizeError(`${where}: $patch: ${text(directive)} not supported`);
    // Identity fields select the object; they are not merged into it.
    const { apiVersion: _a, kind: _k, metadata, ...rest } = smp;
    const { name: _n, namespace: _ns, ...metaRest } = isObject(metadata) ? metadata : {};
    for (const o of hits) {
      strategicMerge(
        o as unknown as Json,
        { ...rest, ...(Object.keys(metaRest).length ? { metadata: metaRest } : {}) },
        [],
      );
    }
  });
  return result;
}

function applyNamespace(objects: K8sObject[], namespace: unknown, file: string): void {
  if (namespace === undefined) return;
  if (typeof namespace !== 'string' || !namespace)
    throw new KustomizeError(`${file}: namespace must be a string`);
  for (const o of objects) {
    if (CLUSTER_SCOPED.has(o.kind) || NAMESPACE_REFERENCING.has(o.kind)) {
      throw new KustomizeError(
        `${file}: namespace transformer on ${describe(o)} not supported by kustomize-lite`,
      );
    }
    o.metadata.namespace = namespace;
  }
}

/** Splits "repo/name:tag@digest" into name and the tag/digest suffix. */
function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@') as [string, string | undefined];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash)
    return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  return { name: withoutDigest, digest };
}

/** The container lists kustomize's image transformer visits. */
function podSpecsOf(o: K8sObject): JsonObject[] {
  const spec = o.spec as Json;
  const candidates: Json[] = [];
  if (isObject(spec)) {
    candidates.push(spec);
    const tmpl = spec.template;
    if (isObject(tmpl)) candidates.push(tmpl.spec);
    const jobTmpl = spec.jobTemplate;
    if (isObject(jobTmpl) && isObject(jobTmpl.spec) && isObject(jobTmpl.spec.template)) {
      candidates.push(jobTmpl.spec.template.spec);
    }
  }
  return candidates.filter(isObject);
}

function applyImages(objects: K8sObject[], images: unknown, file: string): void {
  if (images === undefined) return;
  if (!Array.isArray(images)) throw new KustomizeError(`${file}: images must be a list`);
  for (const img of images) {
    if (!isObject(img) || typeof img.name !== 'string')
      throw new KustomizeError(`${file}: images[].name required`);
    const bad = Object.keys(img).filter((k) => !['name', 'newName', 'newTag', 'digest'].includes(k));
    if (bad.length) throw new KustomizeError(`${file}: images field(s) ${bad.join(', ')} not supported`);
    if (img.newTag !== undefined && img.digest !== undefined) {
      throw new KustomizeError(`${file}: image ${img.name}: newTag and digest are exclusive`);
    }
    for (const o of objects) {
      for (const podSpec of podSpecsOf(o)) {
        for (const field of ['containers', 'initContainers']) {
          const list = podSpec[field];
          if (!Array.isArray(list)) continue;
          for (const c of list) {
            if (!isObject(c) || typeof c.image !== 'string') continue;
            const cur = splitImage(c.image);
            if (cur.name !== img.name) continue;
            const name = typeof img.newName === 'string' ? img.newName : cur.name;
            let suffix = cur.digest ? `@${cur.digest}` : cur.tag ? `:${cur.tag}` : '';
            if (img.newTag !== undefined) suffix = `:${text(img.newTag)}`;
            if (img.digest !== undefined) suffix = `@${text(img.digest)}`;
            c.image = name + suffix;
          }
        }
      }
    }
  }
}

/** Builds the kustomization in `dir` (like `kustomize build dir`) into a list of objects. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const root = resolve(dir);
  const { file, k } = readKustomization(root);

  const resources = k.resources ?? [];
  if (!Array.isArray(resources)) throw new KustomizeError(`${file}: resources must be a list`);
  let objects: K8sObject[] = [];
  const seen = new Map<string, string>();
  for (const r of resources) {
    if (typeof r !== 'string') throw new KustomizeError(`${file}: resources entries must be paths`);
    const p = resolve(root, r);
    if (!existsSync(p)) throw new KustomizeError(`${file}: resource ${r} does not exist`);
    const isDir = statSync(p).isDirectory();
    // Like kustomize: a base may not contain the kustomization that uses it (it would load itself).
    if (isDir && (root + sep).startsWith(p + sep))
      throw new KustomizeError(`${file}: base ${r} contains this kustomization`);
    const loaded = isDir ? kustomizeBuild(p) : loadResourceFile(p);
    for (const o of loaded) {
      const id = idOf(o);
      if (seen.has(id))
        throw new KustomizeError(`${file}: ${describe(o)} defined twice (${seen.get(id)} and ${r})`);
      seen.set(id, r);
    }
    objects = objects.concat(loaded);
  }

  objects = applyPatches(objects, k.patches, root, file);
  applyNamespace(objects, k.namespace, file);
  applyImages(objects, k.images, file);
  return objects;
}

// ---------------------------------------------------------------------------------------------------------
// The real thing, when the machine has it

export interface RealKustomize {
  /** e.g. "kubectl v1.32.4 (kustomize v5.5.0)" */
  description: string;
  build(dir: string): K8sObject[];
}

function run(cmd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

function parseBuildOutput(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new KustomizeError(`${source}: ${d.errors[0].message}`);
      return d.toJS() as unknown;
    })
    .filter((v): v is K8sObject => isObject(v));
}

/**
 * Finds a kustomize that supports what k8s/ uses (the `patches:` field needs kustomize >= 3.x, i.e.
 * kubectl >= 1.21). TOROUTER_KUSTOMIZE=builtin disables the lookup; TOROUTER_KUSTOMIZE=/path/to/kustomize
 * forces a binary.
 */
export function findRealKustomize(): RealKustomize | undefined {
  const forced = process.env.TOROUTER_KUSTOMIZE;
  if (forced === 'builtin') return undefined;

  const standalone = forced ?? 'kustomize';
  const v = run(standalone, ['version']);
  if (v.ok) {
    return {
      description: `${standalone} ${v.stdout.trim()}`,
      build: (dir) => {
        const r = run(standalone, ['build', dir]);
        if (!r.ok) throw new KustomizeError(`kustomize build ${dir} failed: ${r.stderr}`);
        return parseBuildOutput(r.stdout, `kustomize build ${dir}`);
      },
    };
  }
  if (forced) throw new KustomizeError(`TOROUTER_KUSTOMIZE=${forced} does not run: ${v.stderr}`);

  const kv = run('kubectl', ['version', '--client', '-o', 'json']);
  if (!kv.ok) return undefined;
  let info: {
    clientVersion?: { major?: string; minor?: string; gitVersion?: string };
    kustomizeVersion?: string;
  };
  try {
    info = JSON.parse(kv.stdout) as typeof info;
  } catch {
    return undefined;
  }
  const minor = parseInt(info.clientVersion?.minor ?? '0', 10);
  if (info.clientVersion?.major !== '1' || !(minor >= 21)) return undefined;
  return {
    description: `kubectl ${info.clientVersion.gitVersion ?? `1.${minor}`} (kustomize ${info.kustomizeVersion ?? '?'})`,
    build: (dir) => {
      const r = run('kubectl', ['kustomize', dir]);
      if (!r.ok) throw new KustomizeError(`kubectl kustomize ${dir} failed: ${r.stderr}`);
      return parseBuildOutput(r.stdout, `kubectl kustomize ${dir}`);
    },
  };
}

/** Stable order for comparing builds (kustomize sorts by kind; we keep input order). */
export function sortObjects(objects: K8sObject[]): K8sObject[] {
  return [...objects].sort((a, b) => idOf(a).localeCompare(idOf(b)));
}
