/**
 * Parses the text of one conf file (`antrea-agent.conf` / `antrea-controller.conf`) into plain data, keeping the
 * line of every key so problems can point at it. Problems: malformed YAML (with its line), a document that is not a
 * mapping. An empty document (or one with only comments) is an empty mapping: every key takes its default.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { place, type ConfigProblem, type Location } from './problems.js';
import { distinctYamlErrors, yamlErrorPos, yamlErrorText } from './yamlerrors.js';

export interface ParsedConf {
  text: string;
  doc: Document.Parsed;
  /** The mapping as plain data; undefined when the text does not parse or is not a mapping. */
  raw?: Record<string, unknown>;
  /** Line of each dotted key, in the file the user edits (the manifest's line when `mapLine` is given). */
  keyLines: Map<string, number>;
  problems: ConfigProblem[];
}

export interface ParseConfOptions {
  loc: Location;
  /** Maps a 1-based line of the conf text to the line in the file the user edits; identity by default. */
  mapLine?: (line: number) => number | undefined;
}

export function parseConf(text: string, opts: ParseConfOptions): ParsedConf {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const mapLine = opts.mapLine ?? ((l: number) => l);
  const keyLines = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  for (const err of distinctYamlErrors(doc.errors)) {
    const pos = yamlErrorPos(err);
    const line = pos ? mapLine(pos.line) : undefined;
    const where = pos ? `line ${pos.line}, column ${pos.col} of ${opts.loc.conf ?? 'the conf'}` : (opts.loc.conf ?? 'the conf');
    problems.push(
      place(
        { severity: 'error', code: 'ERR_MALFORMED_YAML', message: `malformed YAML at ${where}: ${yamlErrorText(err)}` },
        { ...opts.loc, ...(line !== undefined ? { line } : {}) },
      ),
    );
  }
  if (problems.length > 0) return { text, doc, keyLines, problems };
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return { text, doc, raw: {}, keyLines, problems };
  }
  if (!isMap(contents)) {
    const what = isScalar(contents) ? `a scalar (${JSON.stringify(String(contents.value)).slice(0, 40)})` : 'a list';
    problems.push(
      place(
        { severity: 'error', code: 'ERR_CONF_NOT_MAPPING', message: `${opts.loc.conf ?? 'the conf'} must be a YAML mapping of keys to values, not ${what}` },
        { ...opts.loc, ...lineOfNode(contents, lineCounter, mapLine) },
      ),
    );
    return { text, doc, keyLines, problems };
  }
  collectKeyLines(contents, '', lineCounter, mapLine, keyLines);
  const raw = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  return { text, doc, raw, keyLines, problems };
}

function lineOfNode(node: Node, lc: LineCounter, mapLine: (l: number) => number | undefined): { line?: number } {
  if (!node.range) return {};
  const line = mapLine(lc.linePos(node.range[0]).line);
  return line === undefined ? {} : { line };
}

function collectKeyLines(map: YAMLMap, prefix: string, lc: LineCounter, mapLine: (l: number) => number | undefined, out: Map<string, number>): void {
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key) || !key.range) continue;
    const path = prefix + String(key.value);
    const line = mapLine(lc.linePos(key.range[0]).line);
    if (line !== undefined) out.set(path, line);
    if (isMap(pair.value)) collectKeyLines(pair.value, `${path}.`, lc, mapLine, out);
  }
}
