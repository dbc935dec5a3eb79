/** `antctl featuregates list|check|set` and `antctl get featuregates`. */
import { featuresAt, IMPLEMENTED_RELEASE, normaliseRelease, type FeatureAtRelease, type FeatureGateStatus } from '../features/index.js';
import { describeError } from '../util/errors.js';
import { EXIT_OK, UsageError, oneOf, parseFlags, type CliIO } from './io.js';
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
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}\n${listUsage}`);
  const output = oneOf(values.output, ['table', 'json', 'markdown'] as const, '-o', 'table');
  const features = featuresAt(releaseFlag(values.release));
  if (output === 'json') {
    const objects = features.map((f) => ({
      name: f.name,
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
          f.note,
        ]),
      ),
    );
    return EXIT_OK;
  }
  io.stdout(
    renderTable(
      ['FEATURE', 'COMPONENT', 'DEFAULT', 'STAGE', 'LOCKED', 'ALPHA', 'BETA', 'GA', 'NOTE'],
      features.map((f) => [
        f.name,
        f.components.join('+'),
        String(f.default),
        f.stage,
        String(f.lockToDefault),
        na(f.alpha),
        na(f.beta),
        na(f.ga),
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
