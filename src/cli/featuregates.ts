/** `antctl featuregates list|check|set` and `antctl get featuregates`. */
import { chmodSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseGateString } from '../featuregate/index.js';
import { featuresAt, IMPLEMENTED_RELEASE, normaliseRelease, stageLabel, type FeatureAtRelease, type FeatureGateStatus } from '../features/index.js';
import {
  effectiveGates,
  formatConfigProblem,
  gatesByComponent,
  loadManifestFile,
  readText,
  setFeatureGates,
  type ConfigProblem,
} from '../config/index.js';
import { AntreaError, describeError } from '../util/errors.js';
import { EXIT_OK, EXIT_USAGE, ReportedFailure, UsageError, noMoreArgs, oneOf, parseFlags, type CliIO } from './io.js';
import { problemsExit } from './process-common.js';
import { renderMarkdownTable, renderTable } from './table.js';

export const listUsage = 'usage: antctl featuregates list [--release vX.Y.Z] [-o table|json|markdown]';

export function releaseFlag(value: string | undefined): string {
  if (value === undefined) return IMPLEMENTED_RELEASE;
  try {
    return normaliseRelease(value);
  } catch (err) {
    throw new UsageError(`--release: ${describeError(err)}`);
  }
}

const componentLabel = (f: FeatureAtRelease) =>
  f.components.map((c) => (c === 'agent' ? 'Agent' : 'Controller')).join(' + ');

export function listFeatureGates(io: CliIO, args: string[]): number {
  const { values, positionals } = parseFlags(args, { release: { type: 'string' }, output: { type: 'string', short: 'o' } }, listUsage);
  noMoreArgs(positionals, 0, 'featuregates list takes no arguments');
  const output = oneOf(values.output, ['table', 'json', 'markdown'] as const, '-o', 'table');
  const features = featuresAt(releaseFlag(values.release));
  if (output === 'json') {
    const objects = features.map((f) => ({
      name: f.name,
      implemented: f.implemented,
      components: f.components,
      default: f.default,
      stage: f.stage,
      lockToDefault: f.lockToDefault,
      alpha: f.alpha,
      beta: f.beta,
      ga: f.ga,
      extraRequirements: f.requirements.length > 0,
      requirements: f.requirements,
      note: f.note,
      description: f.description,
    }));
    io.stdout(`${JSON.stringify(objects, null, 2)}\n`);
    return EXIT_OK;
  }
  const na = (r: string | null) => r ?? 'N/A';
  if (output === 'markdown') {
    io.stdout(
      renderMarkdownTable(
        ['Feature', 'Component', 'Default', 'Stage', 'Alpha', 'Beta', 'GA', 'Extra requirements', 'Note'],
        features.map((f) => [
          f.name,
          componentLabel(f),
          String(f.default),
          f.stage,
          na(f.alpha),
          na(f.beta),
          na(f.ga),
          f.requirements.length > 0 ? 'Yes' : 'No',
          [f.note, f.implemented ? '' : 'Not implemented by antrea-ts yet'].filter(Boolean).join('. '),
        ]),
      ),
    );
    return EXIT_OK;
  }
  io.stdout(
    renderTable(
      ['FEATURE', 'COMPONENT', 'DEFAULT', 'STAGE', 'LOCKED', 'ALPHA', 'BETA', 'GA', 'IMPLEMENTED', 'NOTE'],
      features.map((f) => [
        f.name,
        f.components.join('+'),
        String(f.default),
        f.stage,
        String(f.lockToDefault),
        na(f.alpha),
        na(f.beta),
        na(f.ga),
        f.implemented ? 'yes' : 'not yet',
        f.note,
      ]),
    ),
  );
  return EXIT_OK;
}

/**
 * Antrea's `antctl get featuregates` format: an agent section and a controller section, columns FEATUREGATE, STATUS
 * and VERSION, each column as wide as its widest cell plus five.
 */
export function renderGatesReport(entries: readonly FeatureGateStatus[]): string {
  const section = (title: string, rows: readonly FeatureGateStatus[]) => {
    if (rows.length === 0) return '';
    const nameWidth = Math.max('FEATUREGATE'.length, ...rows.map((r) => r.name.length)) + 5;
    const statusWidth = Math.max('STATUS'.length, ...rows.map((r) => r.status.length)) + 5;
    const line = (a: string, b: string, c: string) => `${a.padEnd(nameWidth)}${b.padEnd(statusWidth)}${c}\n`;
    return `${title}\n${line('FEATUREGATE', 'STATUS', 'VERSION')}${rows.map((r) => line(r.name, r.status, r.version)).join('')}`;
  };
  const agent = section('Antrea Agent Feature Gates', entries.filter((e) => e.component === 'agent'));
  const controller = section('Antrea Controller Feature Gates', entries.filter((e) => e.component === 'controller'));
  return [agent, controller].filter(Boolean).join('\n');
}

function problemJson(p: ConfigProblem) {
  return {
    message: p.message,
    code: p.code,
    ...(p.component ? { component: p.component } : {}),
    ...(p.gate ? { gate: p.gate } : {}),
    ...(p.key ? { key: p.key } : {}),
    ...(p.file ? { file: p.file } : {}),
    ...(p.line !== undefined ? { line: p.line } : {}),
  };
}

function printProblems(io: CliIO, problems: readonly ConfigProblem[]): void {
  for (const p of problems) io.stderr(`${formatConfigProblem(p)}\n`);
}

const osValues = ['linux', 'windows'] as const;

export const checkUsage = 'usage: antctl featuregates check MANIFEST [--release vX.Y.Z] [--os linux|windows] [--kernel X.Y] [-o text|json]';

export function checkFeatureGates(io: CliIO, args: string[]): number {
  const { values, positionals } = parseFlags(
    args,
    { release: { type: 'string' }, os: { type: 'string' }, kernel: { type: 'string' }, output: { type: 'string', short: 'o' } },
    checkUsage,
  );
  if (positionals.length === 0) throw new UsageError('featuregates check needs a MANIFEST file', { field: 'MANIFEST' });
  noMoreArgs(positionals, 1, 'featuregates check takes one MANIFEST');
  const output = oneOf(values.output, ['text', 'json'] as const, '-o', 'text');
  const os = oneOf(values.os, osValues, '--os', 'linux');
  if (values.kernel !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(values.kernel)) throw new UsageError(`--kernel must look like 5.4, not ${JSON.stringify(values.kernel)}`);
  const path = positionals[0] as string;
  const release = releaseFlag(values.release);
  const loaded = loadManifestFile(resolve(io.cwd, path), { release, os, ...(values.kernel ? { kernel: values.kernel } : {}) });
  const problems = loaded.problems.map((p) => relabel(p, resolve(io.cwd, path), path));
  if (output === 'json') {
    io.stdout(
      `${JSON.stringify({ errors: problems.filter((p) => p.severity === 'error').map(problemJson), warnings: problems.filter((p) => p.severity === 'warning').map(problemJson) }, null, 2)}\n`,
    );
  } else {
    printProblems(io, problems);
    const errors = problems.filter((p) => p.severity === 'error').length;
    const warnings = problems.length - errors;
    if (errors === 0) io.stdout(`${path}: feature gates OK for Antrea ${release}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}\n`);
  }
  return problemsExit(problems);
}

/** Problems name the manifest as the user typed it, not as an absolute path. */
function relabel(p: ConfigProblem, absolute: string, typed: string): ConfigProblem {
  const swap = (s: string | undefined) => (s === undefined ? s : s.split(absolute).join(typed));
  const out: ConfigProblem = { ...p };
  if (p.file !== undefined) out.file = swap(p.file) as string;
  if (p.manifest !== undefined) out.manifest = swap(p.manifest) as string;
  if (p.code === 'ERR_FILE_UNREADABLE') {
    // The message already names the file.
    delete out.file;
    delete out.manifest;
  }
  out.message = swap(p.message) as string;
  return out;
}

export const setUsage = 'usage: antctl featuregates set MANIFEST Name=bool[,Name=bool...] [--component agent|controller] [--release vX.Y.Z]';

export function setFeatureGatesCommand(io: CliIO, args: string[]): number {
  const { values, positionals } = parseFlags(args, { component: { type: 'string' }, release: { type: 'string' } }, setUsage);
  if (positionals.length < 2) throw new UsageError(`featuregates set needs a MANIFEST and Name=bool pairs${positionals.length === 1 ? ` after ${JSON.stringify(positionals[0])}` : ''}`, { field: positionals.length === 0 ? 'MANIFEST' : 'Name=bool' });
  noMoreArgs(positionals, 2, 'give several gates as one comma-separated argument, e.g. Egress=true,Traceflow=false');
  const [path, spec] = positionals as [string, string];
  const component = values.component === undefined ? undefined : oneOf(values.component, ['agent', 'controller'] as const, '--component', 'agent');
  const release = releaseFlag(values.release);
  const parsed = parseGateString(spec);
  if (parsed.problems.length > 0) throw new UsageError(parsed.problems.map((p) => p.message).join('; '));
  if (Object.keys(parsed.values).length === 0) throw new UsageError(`no Name=bool pair in ${JSON.stringify(spec)}`, { field: 'Name=bool' });
  const absolute = resolve(io.cwd, path);
  const read = readText(absolute);
  if ('problem' in read) {
    printProblems(io, [relabel(read.problem, absolute, path)]);
    return EXIT_USAGE;
  }
  const result = setFeatureGates(read.text, gatesByComponent(parsed.values, { ...(component ? { component } : {}), release }), { release, path });
  printProblems(io, result.problems);
  if (!result.changed) {
    if (!result.problems.some((p) => p.severity === 'error')) io.stdout(`${path}: no change, the gates already have these values\n`);
    return problemsExit(result.problems);
  }
  writeFileAtomic(absolute, result.text, path);
  io.stdout(`${path}: set ${Object.entries(parsed.values).map(([k, v]) => `${k}=${v}`).join(',')}${component ? ` (${component} only)` : ''}\n`);
  return EXIT_OK;
}

/**
 * Replaces the manifest's content in one step, so that a failure never leaves it half written. The rename goes to the
 * symlink's target (renaming over the link would turn it into a copy that its target no longer follows), and the new
 * file keeps the old one's mode (a 0600 manifest must not become world-readable).
 */
function writeFileAtomic(path: string, text: string, typed: string): void {
  let target = path;
  let mode: number | undefined;
  try {
    target = realpathSync(path);
    mode = statSync(target).mode & 0o7777;
  } catch {
    // Read a moment ago; if it went away meanwhile, the write below says so.
  }
  const tmp = `${target}.antctl-${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, mode === undefined ? {} : { mode });
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOSPC' ? 'no space left on device' : describeError(err);
    throw new AntreaError('ERR_WRITE_FILE', `cannot write ${typed}: ${why}; the file is unchanged`, { file: typed, cause: err });
  }
}

export const getUsage = 'usage: antctl get featuregates [--manifest FILE] [--kubeconfig FILE] [-o table|json]';

/** `antctl get featuregates --manifest FILE`: the effective gates per component, in Antrea's format. */
export function manifestGateStatuses(io: CliIO, path: string, release: string): FeatureGateStatus[] {
  const absolute = resolve(io.cwd, path);
  const loaded = loadManifestFile(absolute, { release });
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    printProblems(io, errors.map((p) => relabel(p, absolute, path)));
    throw new ReportedFailure(problemsExit(errors));
  }
  const effective = effectiveGates(loaded, release);
  const rows: FeatureGateStatus[] = [];
  for (const component of ['agent', 'controller'] as const) {
    for (const g of effective[component].slice().sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push({ component, name: g.name, status: g.enabled ? 'Enabled' : 'Disabled', version: stageLabel(g.stage) });
    }
  }
  return rows;
}
