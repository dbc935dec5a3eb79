/**
 * Sets feature gates inside one conf's text, as line edits that keep every comment and the layout of every other
 * line. The edits are line splices, so the caller can apply them to the conf text or, shifted and indented, to the
 * block scalar inside a manifest (touching only the lines that change).
 *
 * Where a gate goes:
 * - `featureGates:` is a block mapping: an existing entry has its value replaced in place; otherwise a commented
 *   entry for the gate (`#  Egress: false`) is uncommented; otherwise a new entry follows the last one.
 * - `featureGates:` has no value (Antrea's shipped confs: the header, then one commented line per gate): the gate's
 *   commented line is uncommented with the new value, at the indentation of the commented lines; a gate with no
 *   commented line is added after the last commented gate line (or right after the header).
 * - `featureGates:` itself is commented out (`#featureGates:`): the header is uncommented, then as above.
 * - no `featureGates` at all: a `featureGates:` block is appended at the end.
 * - a flow mapping (`featureGates: {Egress: true}`) is rewritten on its line(s).
 * Every result is parsed again and compared with what was asked; when that fails, the conf is re-serialised with
 * yaml's Document API (comments kept, layout possibly not), and when that fails too, it is an error.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { isDeepStrictEqual } from 'node:util';
import { splitConfLines } from './manifest.js';

/** Remove `deleteCount` lines at `start` (0-based) and put `insert` there. */
export interface LineSplice {
  start: number;
  deleteCount: number;
  insert: string[];
}

export type ConfEdit =
  | { kind: 'splices'; splices: LineSplice[]; text: string }
  /** The conf had to be re-serialised: the whole text is new. */
  | { kind: 'rewrite'; text: string }
  | { kind: 'error'; message: string };

const GATE = 'featureGates';
const COMMENTED_TOP_KEY = /^#[A-Za-z_][\w.-]*\s*:/;
const COMMENTED_ENTRY = /^#(\s+)[A-Za-z][\w-]*\s*:\s*[^\s#]*(\s+#.*)?\s*$/;
const COMMENTED_HEADER = /^#\s*featureGates\s*:\s*(#.*)?$/;

export function applySplices(lines: readonly string[], splices: readonly LineSplice[]): string[] {
  const out = [...lines];
  for (const s of [...splices].sort((a, b) => b.start - a.start)) out.splice(s.start, s.deleteCount, ...s.insert);
  return out;
}

function joinConf(lines: readonly string[], original: string): string {
  return lines.join('\n') + (original.endsWith('\n') || original === '' ? '\n' : '');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function editConfGates(value: string, gates: Readonly<Record<string, boolean>>): ConfEdit {
  const lc = new LineCounter();
  const doc = parseDocument(value, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length > 0) return { kind: 'error', message: 'the conf is not valid YAML; fix it before setting gates' };
  const root = doc.contents;
  const lines = splitConfLines(value);
  const lineIdx = (offset: number) => lc.linePos(offset).line - 1;
  const colOf = (offset: number) => offset - (lc.lineStarts[lineIdx(offset)] ?? 0);
  const isEmptyRoot = root === null || (isScalar(root) && root.value === null);
  if (!isEmptyRoot && !isMap(root)) return { kind: 'error', message: 'the conf is not a YAML mapping' };
  if (isMap(root) && root.flow) return finish(value, gates, undefined);

  const splices: LineSplice[] = [];
  const rootMap = isMap(root) ? root : undefined;
  const pairIndex = rootMap ? rootMap.items.findIndex((p) => isScalar(p.key) && p.key.value === GATE) : -1;
  const nextKeyLine = (after: number) => {
    const next = rootMap?.items.slice(after + 1).find((p) => isScalar(p.key) && p.key.range);
    return next && isScalar(next.key) && next.key.range ? lineIdx(next.key.range[0]) : lines.length;
  };
  /** Lines after a header that may hold commented gates: up to the next key, real or commented out. */
  const regionEnd = (header: number, hardEnd: number) => {
    for (let i = header + 1; i < hardEnd; i++) if (COMMENTED_TOP_KEY.test(lines[i] as string)) return i;
    return hardEnd;
  };
  /** Uncomment the gates' commented lines in [from, to); the rest are pending for insertion. */
  const uncommentIn = (from: number, to: number, indent: string, wanted: [string, boolean][]) => {
    const rest: [string, boolean][] = [];
    for (const [name, v] of wanted) {
      const re = new RegExp(`^#\\s*${escapeRe(name)}\\s*:\\s*[^\\s#]*(\\s+#.*)?\\s*$`);
      let found = -1;
      let trailing = '';
      for (let i = from; i < to; i++) {
        const m = re.exec(lines[i] as string);
        if (m) {
          found = i;
          trailing = (m[1] ?? '').trimEnd();
        }
      }
      if (found === -1) rest.push([name, v]);
      else splices.push({ start: found, deleteCount: 1, insert: [`${indent}${name}: ${v}${trailing}`] });
    }
    return rest;
  };
  const lastCommentedEntry = (from: number, to: number) => {
    let last = -1;
    for (let i = from; i < to; i++) if (COMMENTED_ENTRY.test(lines[i] as string)) last = i;
    return last;
  };
  const commentedIndent = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const m = COMMENTED_ENTRY.exec(lines[i] as string);
      if (m) return m[1] as string;
    }
    return '  ';
  };

  if (pairIndex >= 0 && rootMap) {
    const pair = rootMap.items[pairIndex] as Pair;
    const key = pair.key as { range?: [number, number, number] };
    if (!key.range) return finish(value, gates, undefined);
    const header = lineIdx(key.range[0]);
    const hardEnd = nextKeyLine(pairIndex);
    const v = pair.value;
    if (isMap(v) && !v.flow && v.items.length > 0) {
      const items = v.items;
      const firstKey = items[0]?.key;
      const firstLine = isScalar(firstKey) && firstKey.range ? (lines[lineIdx(firstKey.range[0])] as string) : '  ';
      const indent = ' '.repeat(firstLine.length - firstLine.trimStart().length);
      const missing: [string, boolean][] = [];
      for (const [name, val] of Object.entries(gates)) {
        const item = items.find((p) => isScalar(p.key) && p.key.value === name);
        if (!item) {
          missing.push([name, val]);
          continue;
        }
        const splice = replaceValue(item, val, lines, lineIdx, colOf);
        if (!splice) return finish(value, gates, undefined);
        splices.push(splice);
      }
      const rest = uncommentIn(header + 1, regionEnd(header, hardEnd), indent, missing);
      if (rest.length > 0) {
        const lastEnd = lastLineOf(v, lineIdx);
        splices.push({ start: lastEnd + 1, deleteCount: 0, insert: rest.map(([n, b]) => `${indent}${n}: ${b}`) });
      }
      return finish(value, gates, splices);
    }
    if (isMap(v) && v.flow) {
      if (!v.range) return finish(value, gates, undefined);
      const entries = new Map<string, string>();
      for (const item of v.items) {
        if (!isScalar(item.key)) return finish(value, gates, undefined);
        entries.set(String(item.key.value), isScalar(item.value) ? String(item.value.source ?? item.value.value) : 'null');
      }
      for (const [name, val] of Object.entries(gates)) entries.set(name, String(val));
      const flow = `{${[...entries].map(([k, b]) => `${k}: ${b}`).join(', ')}}`;
      const startLine = lineIdx(v.range[0]);
      const endLine = lineIdx(Math.max(v.range[0], v.range[1] - 1));
      const before = (lines[startLine] as string).slice(0, colOf(v.range[0]));
      const after = (lines[endLine] as string).slice(colOf(v.range[1] - 1) + 1);
      splices.push({ start: startLine, deleteCount: endLine - startLine + 1, insert: [before + flow + after] });
      return finish(value, gates, splices);
    }
    const empty = v === null || (isScalar(v) && v.value === null) || (isMap(v) && v.items.length === 0);
    if (!empty) return { kind: 'error', message: 'featureGates is not a mapping; fix it before setting gates' };
    // `featureGates:` with no value, `featureGates: null` or `featureGates: {}`-like: keep just the header.
    const headerText = lines[header] as string;
    const colon = headerText.indexOf(':', colOf(key.range[1]));
    const cleanHeader = headerText.slice(0, colon + 1);
    if (cleanHeader !== headerText.replace(/\s+$/, '') && !/^\s*#/.test(headerText.slice(colon + 1))) {
      splices.push({ start: header, deleteCount: 1, insert: [cleanHeader] });
    }
    addUnderHeader(header, regionEnd(header, hardEnd));
    return finish(value, gates, splices);
  }

  // No featureGates key: uncomment a commented-out header, or append a new block.
  const commented = lines.findIndex((l) => COMMENTED_HEADER.test(l));
  if (commented >= 0) {
    splices.push({ start: commented, deleteCount: 1, insert: [`${GATE}:`] });
    let hardEnd = lines.length;
    for (let i = commented + 1; i < lines.length; i++) {
      const l = lines[i] as string;
      if (l !== '' && !/^[\s#]/.test(l)) {
        hardEnd = i;
        break;
      }
    }
    addUnderHeader(commented, regionEnd(commented, hardEnd));
    return finish(value, gates, splices);
  }
  const block = [`${GATE}:`, ...Object.entries(gates).map(([n, b]) => `  ${n}: ${b}`)];
  const needsGap = lines.length > 0 && (lines[lines.length - 1] as string).trim() !== '';
  splices.push({ start: lines.length, deleteCount: 0, insert: needsGap ? ['', ...block] : block });
  return finish(value, gates, splices);

  function addUnderHeader(header: number, end: number): void {
    const indent = commentedIndent(header + 1, end);
    const rest = uncommentIn(header + 1, end, indent, Object.entries(gates));
    if (rest.length === 0) return;
    const last = lastCommentedEntry(header + 1, end);
    splices.push({ start: (last === -1 ? header : last) + 1, deleteCount: 0, insert: rest.map(([n, b]) => `${indent}${n}: ${b}`) });
  }

  function finish(original: string, wanted: Readonly<Record<string, boolean>>, done: LineSplice[] | undefined): ConfEdit {
    if (done) {
      const text = joinConf(applySplices(lines, done), original);
      if (verify(original, text, wanted)) return { kind: 'splices', splices: done, text };
    }
    const fallback = parseDocument(original, { uniqueKeys: true });
    if (!isMap(fallback.contents)) return { kind: 'error', message: 'could not set the gates in this conf' };
    const fg = fallback.get(GATE, true);
    if (!isMap(fg)) fallback.set(GATE, fallback.createNode({}));
    for (const [name, val] of Object.entries(wanted)) fallback.setIn([GATE, name], val);
    const text = fallback.toString({ lineWidth: 0 });
    if (verify(original, text, wanted)) return { kind: 'rewrite', text };
    return { kind: 'error', message: 'could not set the gates without changing other settings' };
  }
}

/** The splice that replaces one entry's value on its line. */
function replaceValue(
  item: Pair,
  val: boolean,
  lines: readonly string[],
  lineIdx: (o: number) => number,
  colOf: (o: number) => number,
): LineSplice | undefined {
  const key = item.key;
  if (!isScalar(key) || !key.range) return undefined;
  const line = lineIdx(key.range[0]);
  const text = lines[line] as string;
  const v = item.value;
  if (isScalar(v) && v.range && v.range[1] > v.range[0] && lineIdx(v.range[0]) === line && lineIdx(v.range[1] - 1) === line) {
    const s = colOf(v.range[0]);
    const e = colOf(v.range[1] - 1) + 1;
    return { start: line, deleteCount: 1, insert: [text.slice(0, s) + String(val) + text.slice(e)] };
  }
  if (v === null || (isScalar(v) && (v.source === '' || v.source === undefined) && v.value === null)) {
    const colon = text.indexOf(':', colOf(key.range[1]));
    if (colon === -1) return undefined;
    return { start: line, deleteCount: 1, insert: [`${text.slice(0, colon + 1)} ${val}${text.slice(colon + 1)}`] };
  }
  return undefined;
}

function lastLineOf(map: YAMLMap, lineIdx: (o: number) => number): number {
  let last = 0;
  for (const item of map.items) {
    for (const node of [item.key, item.value]) {
      const r = (node as { range?: [number, number, number] } | null)?.range;
      if (r) last = Math.max(last, lineIdx(Math.max(r[0], r[1] - 1)));
    }
  }
  return last;
}

/** The new text parses, holds the wanted gates, and every other setting (other gates too) is unchanged. */
function verify(original: string, text: string, wanted: Readonly<Record<string, boolean>>): boolean {
  const before = parseDocument(original, { uniqueKeys: true });
  const after = parseDocument(text, { uniqueKeys: true });
  if (after.errors.length > 0) return false;
  const a = (after.toJS() ?? {}) as Record<string, unknown>;
  const b = (before.toJS() ?? {}) as Record<string, unknown>;
  if (typeof a !== 'object' || Array.isArray(a)) return false;
  const gatesAfter = a[GATE];
  if (typeof gatesAfter !== 'object' || gatesAfter === null) return false;
  const expected = { ...((b[GATE] as Record<string, unknown> | null) ?? {}), ...wanted };
  if (!isDeepStrictEqual(gatesAfter, expected)) return false;
  const rest = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== GATE));
  return isDeepStrictEqual(rest(a), rest(b));
}
