/** antctl: feature-gate tooling that works offline on a manifest, and a client of the running controller and agents. */
import { checkFeatureGates, getUsage, listFeatureGates, manifestGateStatuses, releaseFlag, renderGatesReport, setFeatureGatesCommand } from './featuregates.js';
import { flowsCommand } from './flows.js';
import { traceflowCommand } from './traceflow.js';
import { getLiveFeatureGates } from './live.js';
import { getStats, isStatsResource, statsKinds } from './stats.js';
import { EXIT_USAGE, noMoreArgs, oneOf, parseFlags, processIO, runCommand, unknownCommand, UsageError, type CliIO } from './io.js';

const usage = `usage: antctl COMMAND [ARGS]

Commands:
  featuregates list [--release vX.Y.Z] [-o table|json|markdown]
      the feature gates of an Antrea release, from the catalog
  featuregates check MANIFEST [--release vX.Y.Z] [--os linux|windows] [--kernel X.Y] [-o text|json]
      every error and warning of the Antrea ConfigMap in MANIFEST (exit 1 on errors)
  featuregates set MANIFEST Name=bool[,Name=bool...] [--component agent|controller] [--release vX.Y.Z]
      edits the gates in MANIFEST in place, keeping comments and layout
  get featuregates [--manifest FILE] [--kubeconfig FILE] [-o table|json]
      the effective gates per component: of MANIFEST, or of the running cluster
  get networkpolicystats|antreaclusternetworkpolicystats|antreanetworkpolicystats [NAME] [-n NS|-A] [-o table|json]
      per-policy traffic stats (sessions, packets, bytes) from the running cluster
  traceflow -S NS/POD -D NS/POD|NS/SVC|IP [-f FLOW] [--live-traffic] [--dropped-only] [-t TIMEOUT] [-o yaml|json]
      traces a packet through the running cluster and prints where it went (exit 1 when it failed)
  flows collect --listen HOST:PORT[:tcp|udp] [--count N]
      an IPFIX collector: prints one JSON object per flow record (keys are the information elements' names)
  version
      the antctl version
`;

export async function antctl(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    const [command, sub, ...rest] = argv;
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.stdout(usage);
      return command === undefined ? EXIT_USAGE : 0;
    }
    if (command === 'featuregates') {
      if (sub === 'list') return listFeatureGates(io, rest);
      if (sub === 'check') return checkFeatureGates(io, rest);
      if (sub === 'set') return setFeatureGatesCommand(io, rest);
      if (sub === '-h' || sub === '--help') return help(io);
      throw unknownCommand('featuregates command', sub, ['list', 'check', 'set']);
    }
    if (command === 'get') {
      if (sub === 'featuregates' || sub === 'featuregate' || sub === 'fg') return getFeatureGates(io, rest);
      if (isStatsResource(sub)) return getStats(io, sub, rest);
      if (sub === '-h' || sub === '--help') return help(io);
      throw unknownCommand('resource for get', sub, ['featuregates', ...Object.keys(statsKinds)]);
    }
    if (command === 'flows') return flowsCommand(io, sub === undefined ? [] : [sub, ...rest]);
    if (command === 'traceflow' || command === 'tf') return traceflowCommand(io, sub === undefined ? [] : [sub, ...rest]);
    if (command === 'version') {
      parseFlags(sub === undefined ? [] : [sub, ...rest], {}, 'usage: antctl version');
      noMoreArgs(sub === undefined ? [] : [sub, ...rest], 0, 'version takes no arguments');
      io.stdout('antctl antrea-ts 0.1.0 (Antrea v1.5.0 feature gates)\n');
      return 0;
    }
    throw unknownCommand('command', command, ['featuregates', 'get', 'traceflow', 'flows', 'version']);
  });
}

function help(io: CliIO): number {
  io.stdout(usage);
  return 0;
}

async function getFeatureGates(io: CliIO, args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { manifest: { type: 'string' }, kubeconfig: { type: 'string' }, release: { type: 'string' }, output: { type: 'string', short: 'o' } },
    getUsage,
  );
  noMoreArgs(positionals, 0, 'get featuregates takes no NAME');
  const output = oneOf(values.output, ['table', 'json'] as const, '-o', 'table');
  // One source of truth per answer: with both, one of them would be silently ignored.
  if (values.manifest !== undefined && values.kubeconfig !== undefined) throw new UsageError('give --manifest FILE or --kubeconfig FILE, not both', { field: 'manifest' });
  const rows = values.manifest
    ? manifestGateStatuses(io, values.manifest, releaseFlag(values.release))
    : await getLiveFeatureGates(io, values.kubeconfig);
  io.stdout(output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : renderGatesReport(rows));
  return 0;
}

/** The command as a process: what `bin/antctl.js` runs. */
export async function main(): Promise<void> {
  process.exitCode = await antctl(process.argv.slice(2), processIO());
}
