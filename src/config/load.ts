/**
 * Loading: a manifest (text or file) holding Antrea's ConfigMap, or a single conf file. Everything found is returned
 * as problems (never thrown): unreadable files, malformed YAML, a missing ConfigMap or conf, and every validation
 * problem of the confs, each placed in its file.
 */
import { readFileSync } from 'node:fs';
import { IMPLEMENTED_RELEASE, type IpFamily } from '../features/index.js';
import { parseConf } from './conf.js';
import { consistencyProblems, noEffectProblems } from './consistency.js';
import { confLineMapper, findAntreaConfigMap, type AntreaConfigMap } from './manifest.js';
import { parseCidr } from './net.js';
import type { ConfigProblem, Location } from './problems.js';
import { requirementProblems, resolveConf, type CheckOptions, type ResolvedAgent, type ResolvedController } from './resolve.js';
import { CONF_FILE, type ComponentName } from './schema.js';

export interface LoadOptions extends CheckOptions {
  /** Path shown in problems (the manifest's or the conf's). */
  path?: string;
}

export interface LoadedManifest {
  manifest?: string;
  configMap?: AntreaConfigMap;
  agent?: ResolvedAgent;
  controller?: ResolvedController;
  /** Every problem, errors and warnings, in the order found. */
  problems: ConfigProblem[];
}

export interface LoadedConf {
  path?: string;
  component: ComponentName;
  resolved?: ResolvedAgent | ResolvedController;
  problems: ConfigProblem[];
}

/** Reads a file as text, or returns the one-line problem saying why not. */
export function readText(path: string): { text: string } | { problem: ConfigProblem } {
  try {
    const text = readFileSync(path, 'utf8');
    // A binary file parses as one odd YAML scalar and would be reported as "no Antrea ConfigMap found".
    if (text.includes('\u0000')) {
      return { problem: { severity: 'error', code: 'ERR_FILE_UNREADABLE', message: `cannot read ${path}: not a text file (it holds NUL bytes)`, file: path } };
    }
    return { text };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return { problem: { severity: 'error', code: 'ERR_FILE_UNREADABLE', message: `cannot read ${path}: ${why}`, file: path } };
  }
}

export function loadManifestFile(path: string, opts: CheckOptions = {}): LoadedManifest {
  const read = readText(path);
  if ('problem' in read) return { manifest: path, problems: [read.problem] };
  return loadManifest(read.text, { ...opts, path });
}

export function loadManifest(text: string, opts: LoadOptions = {}): LoadedManifest {
  const { path, ...check } = opts;
  const release = check.release ?? IMPLEMENTED_RELEASE;
  const found = findAntreaConfigMap(text, path);
  const out: LoadedManifest = { problems: [...found.problems] };
  if (path !== undefined) out.manifest = path;
  if (!found.configMap) return out;
  out.configMap = found.configMap;
  for (const component of ['agent', 'controller'] as const) {
    const src = found.configMap.confs[component];
    if (!src) continue;
    const loc: Location = { component, conf: src.conf, ...(path !== undefined ? { manifest: path } : {}), line: src.keyLine };
    const parsed = parseConf(src.value, { loc, mapLine: confLineMapper(src) });
    out.problems.push(...parsed.problems);
    const resolved = resolveConf(parsed, component, loc, check);
    if (!resolved) continue;
    out.problems.push(...resolved.problems);
    if (resolved.component === 'agent') out.agent = resolved;
    else out.controller = resolved;
  }
  const ipFamilies = check.ipFamilies ?? inferIpFamilies(out.agent, out.controller);
  const reqOpts: CheckOptions = { ...check, ...(ipFamilies ? { ipFamilies } : {}) };
  for (const r of [out.agent, out.controller]) {
    if (!r) continue;
    out.problems.push(...noEffectProblems(r, release), ...requirementProblems(r, reqOpts));
  }
  if (out.agent && out.controller) out.problems.push(...consistencyProblems(out.agent, out.controller, release));
  return out;
}

/** Checks a manifest: every problem of the Antrea ConfigMap and its two confs. */
export function checkManifest(text: string, opts: LoadOptions = {}): ConfigProblem[] {
  return loadManifest(text, opts).problems;
}

/** A single conf file's text (e.g. /etc/antrea/antrea-agent.conf). */
export function loadConf(text: string, component: ComponentName, opts: LoadOptions = {}): LoadedConf {
  const { path, ...check } = opts;
  const loc: Location = { component, conf: CONF_FILE[component], ...(path !== undefined ? { path } : {}) };
  const parsed = parseConf(text, { loc });
  const out: LoadedConf = { component, problems: [...parsed.problems] };
  if (path !== undefined) out.path = path;
  const resolved = resolveConf(parsed, component, loc, check);
  if (!resolved) return out;
  out.resolved = resolved;
  const ipFamilies = check.ipFamilies ?? (resolved.component === 'agent' ? inferIpFamilies(resolved, undefined) : inferIpFamilies(undefined, resolved));
  out.problems.push(
    ...resolved.problems,
    ...noEffectProblems(resolved, check.release),
    ...requirementProblems(resolved, { ...check, ...(ipFamilies ? { ipFamilies } : {}) }),
  );
  return out;
}

export function loadConfFile(path: string, component: ComponentName, opts: CheckOptions = {}): LoadedConf {
  const read = readText(path);
  if ('problem' in read) return { path, component, problems: [read.problem] };
  return loadConf(read.text, component, { ...opts, path });
}

export function loadAgentConfig(path: string, opts: CheckOptions = {}): LoadedConf {
  return loadConfFile(path, 'agent', opts);
}

export function loadControllerConfig(path: string, opts: CheckOptions = {}): LoadedConf {
  return loadConfFile(path, 'controller', opts);
}

/**
 * The cluster's IP families as the confs reveal them: NodeIPAM's cluster CIDRs (when enabled) and the agent's
 * transport interface CIDRs. Undefined when they say nothing.
 */
export function inferIpFamilies(agent: ResolvedAgent | undefined, controller: ResolvedController | undefined): IpFamily[] | undefined {
  const cidrs: string[] = [];
  if (controller?.config.nodeIPAM.enableNodeIPAM) cidrs.push(...controller.config.nodeIPAM.clusterCIDRs);
  if (agent) cidrs.push(...agent.config.transportInterfaceCIDRs);
  const families = new Set<IpFamily>();
  for (const c of cidrs) {
    const parsed = parseCidr(c);
    if (parsed) families.add(parsed.family);
  }
  return families.size > 0 ? [...families].sort() : undefined;
}

