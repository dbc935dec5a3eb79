/**
 * antrea-controller for a real cluster: reads its conf file, talks to the kube-apiserver through a kubeconfig (or
 * the in-cluster service account), and runs until SIGTERM. Its `/featuregates` reads the agents' gates from the
 * antrea ConfigMap (`ANTREA_CONFIG_MAP_NAME` in `POD_NAMESPACE`, as Antrea's does).
 */
import { resolve } from 'node:path';
import type { ConfigMap } from '../apis/core.js';
import { gvr } from '../apiserver/registry.js';
import { HttpClient } from '../client/http.js';
import { CONFIGMAP_NAME, CONFIGMAP_NAMESPACE, loadConf } from '../config/index.js';
import { controllerModules, startController } from '../controller/index.js';
import { AntreaError } from '../util/errors.js';
import { EXIT_OK, noMoreArgs, parseFlags, processIO, runCommand, type CliIO } from './io.js';
import { loadConfOrFail, processLogger, untilStopped } from './process-common.js';

const usage = 'usage: antrea-controller [--config FILE] [--kubeconfig FILE] [--log-level error|warn|info|debug]';

export async function antreaController(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    const { values, positionals } = parseFlags(argv, { config: { type: 'string' }, kubeconfig: { type: 'string' }, 'log-level': { type: 'string', short: 'v' } }, usage);
    noMoreArgs(positionals, 0, 'antrea-controller takes only flags');
    const resolved = loadConfOrFail(io, resolve(io.cwd, values.config ?? '/etc/antrea/antrea-controller.conf'), 'controller');
    if (resolved.component !== 'controller') throw new AntreaError('ERR_INTERNAL', 'loaded the wrong conf');
    const logger = processLogger(io, values['log-level']);
    const client = new HttpClient({ ...(values.kubeconfig ? { kubeconfig: resolve(io.cwd, values.kubeconfig) } : {}), logger });
    const cmName = io.env.ANTREA_CONFIG_MAP_NAME ?? CONFIGMAP_NAME;
    const cmNamespace = io.env.POD_NAMESPACE ?? CONFIGMAP_NAMESPACE;
    const controller = await startController({
      client,
      gate: resolved.gates,
      config: resolved.config,
      logger,
      modules: controllerModules,
      agentGate: async () => {
        const cm = await client.resource<ConfigMap>(gvr.configmaps).inNamespace(cmNamespace).get(cmName);
        const loaded = loadConf(cm.data?.['antrea-agent.conf'] ?? '', 'agent');
        if (!loaded.resolved) throw new AntreaError('ERR_INVALID_CONFIG', `${cmNamespace}/${cmName}: antrea-agent.conf does not load`);
        return loaded.resolved.gates;
      },
    });
    await untilStopped(io);
    await controller.stop();
    await client.close();
    return EXIT_OK;
  });
}

/** The command as a process: what `bin/antrea-controller.js` runs. */
export async function main(): Promise<void> {
  process.exitCode = await antreaController(process.argv.slice(2), processIO());
}
