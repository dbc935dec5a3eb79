/**
 * Finds the running controller's API the way antctl does outside a cluster: through the `AntreaControllerInfo`
 * object the controller publishes, whose `apiPort` is reached on the API server's host.
 */
import { HttpClient } from '../client/http.js';
import { antreaGvr, type AntreaControllerInfo } from '../apis/crd/info.js';
import { isApiError } from '../apiserver/types.js';
import { AntreaError } from '../util/errors.js';

export async function controllerApiUrl(kubeconfig: string): Promise<string> {
  const client = new HttpClient({ kubeconfig, requestTimeoutMs: 10_000 });
  try {
    const info = await client.get<AntreaControllerInfo>(antreaGvr.antreacontrollerinfos, undefined, 'antrea-controller');
    const host = new URL(client.server).hostname;
    return `http://${host.includes(':') ? `[${host}]` : host}:${info.apiPort}`;
  } catch (err) {
    if (isApiError(err, 'NotFound')) {
      throw new AntreaError('ERR_NO_CONTROLLER', `the cluster at ${client.server} has no running antrea-controller (no AntreaControllerInfo)`);
    }
    throw err;
  } finally {
    await client.close();
  }
}
