/**
 * Finds Antrea's ConfigMap in a multi-document manifest: kind ConfigMap, in kube-system, named `antrea-config` or
 * `antrea-config-<hash>` (older manifests), possibly inside a `kind: List`. Only the documents that mention
 * `antrea-config` are parsed, so a 10,000-line manifest costs one small parse; the rest is parsed only to explain a
 * failure (malformed YAML elsewhere when no ConfigMap is found).
 *
 * For each conf (`antrea-agent.conf`, `antrea-controller.conf`) it reports the string and where its lines are in the
 * manifest, so problems point at manifest lines and edits touch only the lines they change.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Scalar, type YAMLMap } from 'yaml';
import { splitDocuments, type DocumentChunk } from './documents.js';
import { LineIndex } from './lines.js';
import { place, type ConfigProblem, type Location } from './problems.js';
import { CONF_FILE, type ComponentName } from './schema.js';
import { distinctYamlErrors, yamlErrorPos, yamlErrorText } from './yamlerrors.js';

export const CONFIGMAP_NAMESPACE = 'kube-system';
export const CONFIGMAP_NAME = 'antrea-config';
const NAME_PATTERN = /^antrea-config(?:-[a-z0-9]+)?$/;

/** A conf string of the ConfigMap and where it sits in the manifest. */
export interface ConfSource {
  component: ComponentName;
  conf: string;
  value: string;
  /** Offsets, in the whole manifest, of the scalar from its header (`|`) to the end of its content. */
  start: number;
  end: number;
  /** 1-based manifest line of the `antrea-agent.conf:` key. */
  keyLine: number;
  /** The scalar sits inside a flow collection (`data: {...}`), where block scalars are not allowed. */
  inFlow: boolean;
  /** Present for a literal block scalar (`|`) whose lines map one to one onto the conf's lines. */
  literal?: { headerLine: number; contentLine: number; indent: number };
}

export interface AntreaConfigMap {
  name: string;
  namespace: string | undefined;
  /** 1-based manifest line where the ConfigMap's document starts. */
  line: number;
  confs: Partial<Record<ComponentName, ConfSource>>;
}

export interface FindResult {
  configMap?: AntreaConfigMap;
  problems: ConfigProblem[];
}

/** The conf line -> manifest line mapping of a conf source (undefined when its lines do not map one to one). */
export function confLineMapper(src: ConfSource): (line: number) => number | undefined {
  const lit = src.literal;
  if (!lit) return () => src.keyLine;
  return (line) => lit.contentLine + line - 1;
}

export function findAntreaConfigMap(text: string, manifest?: string): FindResult {
  const loc: Location = manifest === undefined ? {} : { manifest };
  const problems: ConfigProblem[] = [];
  const chunks = splitDocuments(text);
  const lines = new LineIndex(text);
  const found: { chunk: DocumentChunk; map: YAMLMap; lc: LineCounter }[] = [];
  const seenNames: string[] = [];
  for (const chunk of chunks) {
    if (!isCandidate(chunk.text)) continue;
    const lc = new LineCounter();
    const doc = parseDocument(chunk.text, { lineCounter: lc, uniqueKeys: true });
    if (doc.errors.length > 0) {
      problems.push(...syntaxProblems(doc, chunk, loc));
      continue;
    }
    for (const map of configMapsOf(doc)) {
      const name = map.get('metadata', true);
      const meta = isMap(name) ? name : undefined;
      const cmName = meta?.get('name');
      if (typeof cmName !== 'string' || !NAME_PATTERN.test(cmName)) continue;
      const ns = meta?.get('namespace');
      if (ns !== undefined && ns !== CONFIGMAP_NAMESPACE) {
        seenNames.push(`${String(ns)}/${cmName}`);
        continue;
      }
      found.push({ chunk, map, lc });
    }
  }
  if (found.length === 0) {
    if (problems.length === 0) problems.push(...otherSyntaxProblems(chunks, loc));
    const elsewhere = seenNames.length > 0 ? `; found ${seenNames.join(', ')} outside ${CONFIGMAP_NAMESPACE}` : '';
    problems.push(
      place(
        {
          severity: 'error',
          code: 'ERR_NO_ANTREA_CONFIGMAP',
          message: `no Antrea ConfigMap found: looked for a ConfigMap in namespace ${CONFIGMAP_NAMESPACE} named ${CONFIGMAP_NAME} or ${CONFIGMAP_NAME}-<hash> (also inside kind: List)${elsewhere}`,
        },
        loc,
      ),
    );
    return { problems };
  }
  const first = found[0] as (typeof found)[number];
  const firstMeta = first.map.get('metadata') as YAMLMap;
  const name = String(firstMeta.get('name'));
  const namespace = firstMeta.get('namespace') as string | undefined;
  const cmLine = first.chunk.startLine + first.lc.linePos(first.map.range?.[0] ?? 0).line - 1;
  if (found.length > 1) {
    const where = found.map((f) => `${String((f.map.get('metadata') as YAMLMap).get('name'))} (line ${f.chunk.startLine + f.lc.linePos(f.map.range?.[0] ?? 0).line - 1})`);
    problems.push(
      place(
        { severity: 'error', code: 'ERR_MULTIPLE_CONFIGMAPS', message: `more than one Antrea ConfigMap: ${where.join(', ')}; using the first` },
        { ...loc, line: cmLine },
      ),
    );
  }
  if (namespace === undefined) {
    problems.push(
      place(
        { severity: 'warning', code: 'WARN_CONFIGMAP_NAMESPACE', message: `ConfigMap ${name} has no namespace; Antrea reads it from ${CONFIGMAP_NAMESPACE}`, key: 'metadata.namespace' },
        { ...loc, line: cmLine },
      ),
    );
  }
  const configMap: AntreaConfigMap = { name, namespace, line: cmLine, confs: {} };
  const data = first.map.get('data', true);
  const lineOf = (offset: number) => first.chunk.startLine + first.lc.linePos(offset).line - 1;
  for (const component of ['agent', 'controller'] as const) {
    const conf = CONF_FILE[component];
    const pair = isMap(data) ? data.items.find((p) => isScalar(p.key) && p.key.value === conf) : undefined;
    if (!pair) {
      problems.push(
        place(
          { severity: 'error', code: 'ERR_CONF_MISSING', message: `ConfigMap ${name} has no ${conf} in its data` },
          { ...loc, component, conf, line: cmLine },
        ),
      );
      continue;
    }
    const keyNode = pair.key as Scalar;
    const keyLine = lineOf(keyNode.range?.[0] ?? 0);
    const value = pair.value;
    if (!isScalar(value) || typeof value.value !== 'string' || !value.range) {
      problems.push(
        place(
          { severity: 'error', code: 'ERR_CONF_NOT_STRING', message: `${conf} in ConfigMap ${name} must be a string holding the conf file (use a | block)` },
          { ...loc, component, conf, line: keyLine },
        ),
      );
      continue;
    }
    const start = first.chunk.start + value.range[0];
    const end = first.chunk.start + value.range[1];
    const inFlow = (isMap(data) && data.flow === true) || first.map.flow === true;
    const src: ConfSource = { component, conf, value: value.value, start, end, keyLine, inFlow };
    if (value.type === 'BLOCK_LITERAL') {
      const literal = literalLayout(text, lines, start, value.value);
      if (literal) src.literal = literal;
    }
    configMap.confs[component] = src;
  }
  return { configMap, problems };
}

/** Cheap test: the document names the ConfigMap and is a ConfigMap or a List (not a workload mounting it). */
function isCandidate(text: string): boolean {
  return text.includes(CONFIGMAP_NAME) && /^[ \t]*(?:-[ \t]+)?kind:[ \t]*["']?(?:ConfigMap|List)\b/m.test(text);
}

function configMapsOf(doc: Document.Parsed): YAMLMap[] {
  const root = doc.contents;
  if (!isMap(root)) return [];
  const kind: unknown = root.get('kind');
  if (kind === 'ConfigMap') return [root];
  if (kind === 'List') {
    const items = root.get('items', true);
    if (!isSeq(items)) return [];
    return items.items.filter((i): i is YAMLMap => isMap(i) && (i.get('kind') as unknown) === 'ConfigMap');
  }
  return [];
}

/**
 * Where the lines of a literal block scalar are: the header line, the first content line and the indentation. Returns
 * undefined unless every line of the value is exactly the manifest line minus the indentation (so line numbers map
 * one to one and a line can be replaced in place).
 */
function literalLayout(text: string, lines: LineIndex, start: number, value: string): ConfSource['literal'] {
  const headerLine = lines.lineOf(start);
  const contentLine = headerLine + 1;
  const inner = splitConfLines(value);
  const outerLine = (n: number) => {
    const s = lines.startOf(n);
    const e = n < lines.starts.length ? lines.startOf(n + 1) - 1 : text.length;
    return text.slice(s, e).replace(/\r$/, '');
  };
  let indent = -1;
  for (let i = 0; i < inner.length; i++) {
    if ((inner[i] as string).trim() === '') continue;
    const outer = outerLine(contentLine + i);
    indent = outer.length - outer.trimStart().length;
    break;
  }
  if (indent <= 0) return undefined;
  const pad = ' '.repeat(indent);
  for (let i = 0; i < inner.length; i++) {
    const want = inner[i] as string;
    const got = outerLine(contentLine + i);
    if (want === '' ? got.trim() !== '' : got !== pad + want) return undefined;
  }
  return { headerLine, contentLine, indent };
}

/** The lines of a conf string (a final newline does not make an extra empty line). */
export function splitConfLines(value: string): string[] {
  const parts = value.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function syntaxProblems(doc: Document.Parsed, chunk: DocumentChunk, loc: Location): ConfigProblem[] {
  return distinctYamlErrors(doc.errors).slice(0, 3).map((err) => {
    const pos = yamlErrorPos(err);
    const line = pos ? chunk.startLine + pos.line - 1 : chunk.startLine;
    return place(
      { severity: 'error', code: 'ERR_MALFORMED_YAML', message: `malformed YAML at line ${line}${pos ? `, column ${pos.col}` : ''}: ${yamlErrorText(err)}` },
      { ...loc, line },
    );
  });
}

/** Slow path, taken only when no ConfigMap was found: a syntax error elsewhere is the likelier explanation. */
function otherSyntaxProblems(chunks: DocumentChunk[], loc: Location): ConfigProblem[] {
  for (const chunk of chunks) {
    if (isCandidate(chunk.text)) continue;
    const doc = parseDocument(chunk.text, { uniqueKeys: true });
    if (doc.errors.length > 0) return syntaxProblems(doc, chunk, loc);
  }
  return [];
}

