/**
 * The patch formats of `PATCH`: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a strategic merge patch
 * good enough for what kubectl sends for built-in types (lists of objects merged by their key, `$patch` and
 * `$setElementOrder` directives). All functions are pure: they never modify their inputs; merge and strategic patches
 * share the parts of the target they do not change with their result.
 */
import { ApiError } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets a key as an own data property, `__proto__` included (a plain assignment would change the prototype). */
function setKey(o: JsonObject | Json[], k: string, v: Json): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else (o as JsonObject)[k] = v;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * RFC 7386: objects merge recursively, `null` deletes a key, everything else (arrays included) replaces. Objects
 * along the patch's paths are copied; parts of `target` the patch does not touch are shared with the result.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: JsonObject = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setKey(out, k, mergePatch(Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined, v) as Json);
  }
  return out;
}

// ---------------------------------------------------------------- RFC 6902

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(p: string, opIndex: number): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw patchInvalid(`op ${opIndex}: path "${p}" must start with "/"`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchInvalid(msg: string): ApiError {
  return ApiError.of('Invalid', `the server rejected our request due to an error in our request: ${msg}`);
}

function deepEqualJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** RFC 6902. A failing operation (missing path, failed `test`) is 422 Invalid; a body that is not a list is 400. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw ApiError.of('BadRequest', 'the body of a json patch must be a JSON array of operations');
  if (ops.length > 10000) throw ApiError.of('BadRequest', 'the json patch has more than 10000 operations');
  let root: unknown = clone(doc);
  ops.forEach((raw: unknown, i) => {
    if (!isObj(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw ApiError.of('BadRequest', `json patch operation ${i} must have "op" and "path"`);
    const op = raw as unknown as JsonPatchOp;
    const path = parsePointer(op.path, i);
    const get = (p: string[]): unknown => {
      let cur: unknown = root;
      for (const t of p) {
        if (Array.isArray(cur)) {
          const idx = Number(t);
          if (!/^\d+$/.test(t) || idx >= cur.length) throw patchInvalid(`op ${i} (${op.op}): path "${op.path}" does not exist`);
          cur = cur[idx];
        } else if (isObj(cur) && Object.prototype.hasOwnProperty.call(cur, t)) cur = cur[t];
        else throw patchInvalid(`op ${i} (${op.op}): path "${op.path}" does not exist`);
      }
      return cur;
    };
    const parentOf = (p: string[]): { parent: unknown; key: string } => ({ parent: get(p.slice(0, -1)), key: p[p.length - 1]! });
    const add = (p: string[], value: unknown) => {
      if (p.length === 0) {
        root = clone(value);
        return;
      }
      const { parent, key } = parentOf(p);
      if (Array.isArray(parent)) {
        const idx = key === '-' ? parent.length : Number(key);
        if (!(key === '-' || /^\d+$/.test(key)) || idx > parent.length) throw patchInvalid(`op ${i} (${op.op}): index "${key}" out of range at "${op.path}"`);
        parent.splice(idx, 0, clone(value));
      } else if (isObj(parent)) setKey(parent, key, clone(value) as Json);
      else throw patchInvalid(`op ${i} (${op.op}): parent of "${op.path}" is not an object or array`);
    };
    const remove = (p: string[]): unknown => {
      if (p.length === 0) throw patchInvalid(`op ${i}: cannot remove the whole document`);
      const value = get(p);
      const { parent, key } = parentOf(p);
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete (parent as JsonObject)[key];
      return value;
    };
    switch (op.op) {
      case 'add':
        if (!('value' in raw)) throw ApiError.of('BadRequest', `json patch operation ${i} (add) has no "value"`);
        add(path, op.value);
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (!('value' in raw)) throw ApiError.of('BadRequest', `json patch operation ${i} (replace) has no "value"`);
        if (path.length === 0) root = clone(op.value);
        else {
          remove(path);
          add(path, op.value);
        }
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw ApiError.of('BadRequest', `json patch operation ${i} (move) has no "from"`);
        const v = remove(parsePointer(op.from, i));
        add(path, v);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw ApiError.of('BadRequest', `json patch operation ${i} (copy) has no "from"`);
        add(path, get(parsePointer(op.from, i)));
        break;
      }
      case 'test':
        if (!deepEqualJson(get(path), op.value)) throw patchInvalid(`op ${i} (test): value at "${op.path}" does not match`);
        break;
      default:
        throw ApiError.of('BadRequest', `json patch operation ${i}: unknown op "${String(raw.op)}"`);
    }
  });
  return root;
}

// ---------------------------------------------------------------- strategic merge (simplified)

/** Keys by which lists of objects merge in built-in types (containers by name, ports by port, ...). */
const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  conditions: 'type',
  addresses: 'type',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  tolerations: '',
};

function portKey(list: unknown[]): string | undefined {
  const first = list.find(isObj);
  if (!first) return undefined;
  if ('containerPort' in first) return 'containerPort';
  if ('port' in first) return 'port';
  return undefined;
}

/**
 * Strategic merge patch for simple bodies: like merge patch, except lists of objects with a known merge key merge
 * element by element (`{"$patch":"delete"}` removes one), `$setElementOrder/x` and `$retainKeys` are accepted
 * and ignored, `$deleteFromPrimitiveList/x` removes values from a list of scalars, `$patch: replace` replaces.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[name];
      if (Array.isArray(cur) && Array.isArray(v)) out[name] = cur.filter((x) => !v.some((y) => deepEqualJson(x, y)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v) && Array.isArray(cur)) {
      const key = (Object.prototype.hasOwnProperty.call(mergeKeys, k) ? mergeKeys[k] : undefined) || portKey(v) || portKey(cur);
      if (key && v.every(isObj) && cur.every(isObj)) {
        setKey(out, k, mergeList(cur as JsonObject[], v as JsonObject[], key) as Json);
        continue;
      }
      if (k === 'finalizers' && v.every((x) => typeof x === 'string')) {
        // finalizers merge as a set of strings in strategic merge.
        setKey(out, k, [...new Set([...(cur as Json[]), ...v])]);
        continue;
      }
    }
    const merged = strategicMergePatch(Object.prototype.hasOwnProperty.call(out, k) ? cur : undefined, v);
    if (merged === undefined) delete out[k];
    else setKey(out, k, merged as Json);
  }
  return out;
}

function mergeList(cur: JsonObject[], patch: JsonObject[], key: string): JsonObject[] {
  const out = [...cur];
  for (const p of patch) {
    const idx = out.findIndex((x) => deepEqualJson(x[key], p[key]));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], p) as JsonObject;
    else out.push(strategicMergePatch({}, p) as JsonObject);
  }
  return out;
}
