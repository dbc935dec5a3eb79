/**
 * `setFeatureGates`: sets gates in the confs of a manifest's Antrea ConfigMap, keeping every comment and the layout
 * of the rest of the file. Only the lines of the conf block scalars that change are touched: the conf is edited as
 * lines (edit-conf.ts) and the same splices are applied, indented, to the manifest. A conf that is not a literal
 * block (`|`) is rewritten as one, in place of the old scalar.
 *
 * Unknown, locked and not-implemented gates, and values that are not booleans, are refused: the original text comes
 * back unchanged with the errors. A gate set for a component it does not belong to is written with a warning, and
 * so is a both-component gate that ends up different in the two confs.
 */
import { featuresAt, IMPLEMENTED_RELEASE, newFeatureGate } from '../features/index.js';
import { editConfGates, type LineSplice } from './edit-conf.js';
import { loadManifest } from './load.js';
import { findAntreaConfigMap, splitConfLines, type ConfSource } from './manifest.js';
import { place, type ConfigProblem, type Location } from './problems.js';
import { CONF_FILE, type ComponentName } from './schema.js';

export interface GateChanges {
  agent?: Record<string, boolean>;
  controller?: Record<string, boolean>;
}

export interface SetOptions {
  release?: string;
  /** The manifest's path, for problems. */
  path?: string;
}

export interface SetResult {
  /** The new manifest text (the original when nothing was written). */
  text: string;
  changed: boolean;
  problems: ConfigProblem[];
}

/**
 * Splits `Name=bool` values between the components by the catalog: a gate goes to every component it belongs to,
 * or only to `component` when given. Unknown names go to the agent (where they will be refused).
 */
export function gatesByComponent(values: Readonly<Record<string, boolean>>, opts: { component?: ComponentName; release?: string } = {}): GateChanges {
  const byName = new Map(featuresAt(opts.release ?? IMPLEMENTED_RELEASE).map((f) => [f.name, f]));
  const out: Required<GateChanges> = { agent: {}, controller: {} };
  for (const [name, v] of Object.entries(values)) {
    const components = opts.component ? [opts.component] : (byName.get(name)?.components ?? ['agent']);
    for (const c of components) out[c][name] = v;
  }
  const result: GateChanges = {};
  if (Object.keys(out.agent).length > 0) result.agent = out.agent;
  if (Object.keys(out.controller).length > 0) result.controller = out.controller;
  return result;
}

export function setFeatureGates(text: string, changes: GateChanges, opts: SetOptions = {}): SetResult {
  const release = opts.release ?? IMPLEMENTED_RELEASE;
  const base: Location = opts.path !== undefined ? { manifest: opts.path } : {};
  const problems: ConfigProblem[] = [];
  const refuse = () => ({ text, changed: false, problems });
  const byName = new Map(featuresAt(release).map((f) => [f.name, f]));

  const wanted: [ComponentName, Record<string, boolean>][] = [];
  for (const component of ['agent', 'controller'] as const) {
    const values = changes[component];
    if (!values || Object.keys(values).length === 0) continue;
    const loc: Location = { ...base, component, conf: CONF_FILE[component] };
    for (const p of newFeatureGate({ release }).setFromMap(values)) {
      problems.push(place({ severity: p.severity, code: p.code, message: p.message, key: `featureGates.${p.gate ?? ''}`, ...(p.gate ? { gate: p.gate } : {}) }, loc));
    }
    for (const name of Object.keys(values)) {
      const f = byName.get(name);
      if (f && !f.components.includes(component)) {
        problems.push(
          place(
            {
              severity: 'warning',
              code: 'WARN_GATE_NO_EFFECT',
              message: `${name} is not a feature of the ${component}; setting it in ${CONF_FILE[component]} has no effect`,
              key: `featureGates.${name}`,
              gate: name,
            },
            loc,
          ),
        );
      }
    }
    wanted.push([component, values]);
  }
  if (problems.some((p) => p.severity === 'error')) return refuse();
  if (wanted.length === 0) return { text, changed: false, problems };

  const found = findAntreaConfigMap(text, opts.path);
  const fatal = found.problems.filter((p) => p.severity === 'error');
  if (!found.configMap || fatal.length > 0) {
    problems.push(...(fatal.length > 0 ? fatal : found.problems));
    return refuse();
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // Edits as replacements of [start, end) offsets of the whole text, applied from the end.
  const replacements: { start: number; end: number; text: string }[] = [];
  for (const [component, values] of wanted) {
    const src = found.configMap.confs[component];
    const loc: Location = { ...base, component, conf: CONF_FILE[component] };
    if (!src) {
      problems.push(
        place({ severity: 'error', code: 'ERR_CONF_MISSING', message: `ConfigMap ${found.configMap.name} has no ${CONF_FILE[component]} to set gates in` }, loc),
      );
      return refuse();
    }
    const edit = editConfGates(src.value, values);
    if (edit.kind === 'error') {
      problems.push(place({ severity: 'error', code: 'ERR_EDIT_FAILED', message: `cannot set gates in ${src.conf}: ${edit.message}` }, { ...loc, line: src.keyLine }));
      return refuse();
    }
    if (edit.kind === 'splices' && src.literal) replacements.push(...splicesToReplacements(text, src, edit.splices, eol));
    else if (src.inFlow) replacements.push({ start: src.start, end: src.end, text: JSON.stringify(edit.text) });
    else replacements.push({ start: src.start, end: src.end, text: literalBlock(text, src, edit.text, eol) });
  }
  let out = text;
  for (const r of replacements.sort((a, b) => b.start - a.start)) out = out.slice(0, r.start) + r.text + out.slice(r.end);

  // The result must still hold the ConfigMap, with the gates as asked.
  const after = loadManifest(out, { release, ...(opts.path !== undefined ? { path: opts.path } : {}) });
  for (const [component, values] of wanted) {
    const r = after[component];
    const ok = r !== undefined && Object.entries(values).every(([n, v]) => r.explicitGates[n] === v);
    if (!ok) {
      problems.push(place({ severity: 'error', code: 'ERR_EDIT_FAILED', message: `internal error: the edited manifest does not read back as set; nothing written` }, base));
      return refuse();
    }
  }
  const changed = new Set(wanted.flatMap(([, v]) => Object.keys(v)));
  for (const p of after.problems) {
    if (p.code === 'ERR_GATE_INCONSISTENT' && p.gate !== undefined && changed.has(p.gate)) {
      problems.push({ ...p, severity: 'warning', code: 'WARN_GATE_INCONSISTENT' });
    }
  }
  return { text: out, changed: out !== text, problems };
}

/** The conf splices as replacements of whole manifest lines (each inserted line indented like the block). */
function splicesToReplacements(text: string, src: ConfSource, splices: readonly LineSplice[], eol: string): { start: number; end: number; text: string }[] {
  const lit = src.literal as NonNullable<ConfSource['literal']>;
  const pad = ' '.repeat(lit.indent);
  const starts = lineStarts(text);
  const offsetOfLine = (line: number) => (line - 1 < starts.length ? (starts[line - 1] as number) : text.length);
  return splices.map((s) => {
    const firstLine = lit.contentLine + s.start;
    const start = offsetOfLine(firstLine);
    let end = offsetOfLine(firstLine + s.deleteCount);
    let body = s.insert.map((l) => (l === '' ? '' : pad + l) + eol).join('');
    // Inserting at the very end of a text without a final newline.
    if (start === text.length && text.length > 0 && !text.endsWith('\n')) body = eol + body.slice(0, -eol.length);
    if (end > text.length) end = text.length;
    return { start, end, text: body };
  });
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** A literal block scalar holding `value`, indented two spaces more than its key, to replace the old scalar. */
function literalBlock(text: string, src: ConfSource, value: string, eol: string): string {
  const lineStart = text.lastIndexOf('\n', src.start - 1) + 1;
  const keyLineText = text.slice(lineStart, src.start);
  const indent = ' '.repeat(keyLineText.length - keyLineText.trimStart().length + 2);
  const header = value.endsWith('\n') ? '|' : '|-';
  const body = splitConfLines(value).map((l) => (l === '' ? '' : indent + l));
  // The old scalar ends where its content ends; the text after it (its line break) stays.
  const trailing = text.slice(src.end).startsWith('\n') || text.slice(src.end).startsWith('\r\n') || src.end >= text.length ? '' : eol;
  return `${header}${eol}${body.join(eol)}${trailing}`;
}
