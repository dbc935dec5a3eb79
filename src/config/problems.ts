/**
 * Problems of configuration: validators return plain issues (what and which key); the loader places them (which
 * manifest, which conf, which component, which line) so every problem a user sees says where it is.
 */
import type { Problem } from '../util/errors.js';
import type { ComponentName } from './schema.js';

/** What a validator found, before it is placed in a file. */
export interface Issue {
  severity: Problem['severity'];
  code: Problem['code'];
  message: string;
  /** Dotted key inside the conf, e.g. `featureGates.Egress`. */
  key?: string;
  gate?: string;
}

/** A Problem with the location details config knows: the conf, the manifest it came from and the line. */
export interface ConfigProblem extends Problem {
  /** `antrea-agent.conf` or `antrea-controller.conf`. */
  conf?: string;
  /** Path of the manifest the conf was read from. */
  manifest?: string;
  /** 1-based line in the file the user edits (the manifest when there is one). */
  line?: number;
}

export interface Location {
  component?: ComponentName;
  /** `antrea-agent.conf` / `antrea-controller.conf`. */
  conf?: string;
  /** The manifest path, or undefined for a conf file read directly (then `path` is the conf's path). */
  manifest?: string;
  /** Path of a conf file read directly. */
  path?: string;
  /** The line of a key (dotted), when known. */
  lineOf?: (key: string) => number | undefined;
  /** A line for problems with no key. */
  line?: number;
}

/** The `file` a problem shows: `MANIFEST: CONF` for a conf inside a manifest, else the path or conf name. */
export function fileLabel(loc: Location): string | undefined {
  if (loc.manifest && loc.conf) return `${loc.manifest}: ${loc.conf}`;
  return loc.manifest ?? loc.path ?? loc.conf;
}

export function place(issue: Issue, loc: Location): ConfigProblem {
  const p: ConfigProblem = { severity: issue.severity, code: issue.code, message: issue.message };
  const file = fileLabel(loc);
  if (file !== undefined) p.file = file;
  if (loc.component) p.component = loc.component;
  if (issue.key !== undefined) p.key = issue.key;
  if (issue.gate !== undefined) p.gate = issue.gate;
  if (loc.conf !== undefined) p.conf = loc.conf;
  if (loc.manifest !== undefined) p.manifest = loc.manifest;
  const line = (issue.key !== undefined ? lineOfKeyOrParent(issue.key, loc) : undefined) ?? loc.line;
  if (line !== undefined) p.line = line;
  return p;
}

function lineOfKeyOrParent(key: string, loc: Location): number | undefined {
  if (!loc.lineOf) return undefined;
  let k = key;
  for (;;) {
    const line = loc.lineOf(k);
    if (line !== undefined) return line;
    const dot = k.lastIndexOf('.');
    if (dot === -1) return undefined;
    k = k.slice(0, dot);
  }
}

export function error(code: `ERR_${string}`, message: string, extra: { key?: string; gate?: string } = {}): Issue {
  return { severity: 'error', code, message, ...extra };
}

export function warning(code: `WARN_${string}`, message: string, extra: { key?: string; gate?: string } = {}): Issue {
  return { severity: 'warning', code, message, ...extra };
}

/** One line: `error: build/yamls/antrea.yml:42: antrea-agent.conf: featureGates.Egress: message`. */
export function formatConfigProblem(p: ConfigProblem): string {
  const prefix = p.severity === 'warning' ? 'warning: ' : 'error: ';
  const parts: string[] = [];
  const at = (f: string) => (p.line !== undefined ? `${f}:${p.line}` : f);
  if (p.manifest) {
    parts.push(at(p.manifest));
    if (p.conf) parts.push(p.conf);
  } else if (p.file) {
    parts.push(at(p.file));
  }
  if (p.key) parts.push(p.key);
  return `${prefix}${parts.length ? `${parts.join(': ')}: ` : ''}${p.message}`;
}
