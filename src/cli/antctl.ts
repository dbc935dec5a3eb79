/** antctl: feature-gate tooling that works offline on a manifest, and a client of the running controller and agents. */
import { listFeatureGates } from './featuregates.js';
import { EXIT_USAGE, processIO, runCommand, UsageError, type CliIO } from './io.js';

const usage = `usage: antctl COMMAND [ARGS]

Commands:
  featuregates list [--release vX.Y.Z] [-o table|json|markdown]   the feature gates of a release
  version                                                          the antctl version
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
      throw new UsageError(`unknown featuregates command ${JSON.stringify(sub ?? '')}\n${usage}`);
    }
    if (command === 'version') {
      io.stdout('antctl antrea-ts 0.1.0 (Antrea v1.5.0 feature gates)\n');
      return 0;
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}\n${usage}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/bin/antctl.js')) {
  process.exitCode = await antctl(process.argv.slice(2), processIO());
}
