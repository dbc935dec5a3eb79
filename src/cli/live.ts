/** antctl as a client of a running cluster: finds the controller through the API and asks it. */
import type { FeatureGateStatus } from '../features/index.js';
import { findKubeconfig } from '../local/paths.js';
import { UsageError, type CliIO } from './io.js';
import { fetchOrExplain } from './kubeapi.js';

export async function getLiveFeatureGates(io: CliIO, kubeconfigFlag: string | undefined): Promise<FeatureGateStatus[]> {
  const kubeconfig = findKubeconfig(kubeconfigFlag, io.env, io.cwd);
  if (!kubeconfig) {
    throw new UsageError('no cluster to ask: give --manifest FILE, or --kubeconfig FILE / KUBECONFIG, or start one with `antrea local up`');
  }
  return controllerFeatureGates(kubeconfig, 10_000);
}

/** The running controller's `/featuregates`, found through the cluster of `kubeconfig`. */
export async function controllerFeatureGates(kubeconfig: string, timeoutMs: number): Promise<FeatureGateStatus[]> {
  const { controllerApiUrl } = await import('./controller-info.js');
  const url = await controllerApiUrl(kubeconfig);
  const res = await fetchOrExplain(`${url}/featuregates`, { signal: AbortSignal.timeout(timeoutMs) }, 'the antrea-controller');
  if (!res.ok) throw new Error(`the controller at ${url} answered ${res.status} for /featuregates`);
  return (await res.json()) as FeatureGateStatus[];
}

/** The kubeconfig of the cluster a client command asks: --kubeconfig, KUBECONFIG, or the local cluster's. */
export function clusterKubeconfig(io: CliIO, kubeconfigFlag: string | undefined): string {
  const kubeconfig = findKubeconfig(kubeconfigFlag, io.env, io.cwd);
  if (!kubeconfig) throw new UsageError('no cluster to ask: give --kubeconfig FILE or KUBECONFIG, or start one with `antrea local up`');
  return kubeconfig;
}
