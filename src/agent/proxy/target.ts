/**
 * Where to send traffic meant for a Service: `antrea local traffic NS/POD NS/SVC --port P` resolves the Service to
 * its ClusterIP and port here, then connects through the datapath like any Pod would; the simulator's delivery then
 * says which endpoint Pod served each connection.
 */
import type { Service } from '../../apis/core.js';
import { gvr } from '../../apiserver/registry.js';
import type { ApiClient } from '../../client/types.js';
import type { L4Protocol } from '../../datapath/types.js';
import { AntreaError } from '../../util/errors.js';

export interface ServiceTarget {
  ip: string;
  port: number;
  protocol: L4Protocol;
  /** The ServicePort's name ('' when unnamed). */
  portName: string;
}

/**
 * Resolves `namespace/name` and a Service port (its number or its name; optional when the Service has one port)
 * to the ClusterIP and port. Errors: ERR_INVALID_ARGUMENT (not `ns/name`), ERR_SERVICE_NOT_FOUND,
 * ERR_SERVICE_NO_CLUSTERIP (headless, ExternalName, not allocated), ERR_SERVICE_PORT_NOT_FOUND (also when the port
 * is omitted and the Service has several).
 */
export async function resolveServiceTarget(client: ApiClient, service: string, port?: number | string): Promise<ServiceTarget> {
  const slash = service.indexOf('/');
  const namespace = slash > 0 ? service.slice(0, slash) : '';
  const name = slash > 0 ? service.slice(slash + 1) : '';
  if (!namespace || !name || name.includes('/')) {
    throw new AntreaError('ERR_INVALID_ARGUMENT', `"${service}" is not a Service reference: expected NAMESPACE/NAME`, { field: 'service' });
  }
  const svc = await client.resource<Service>(gvr.services).inNamespace(namespace).tryGet(name);
  if (!svc) throw new AntreaError('ERR_SERVICE_NOT_FOUND', `Service ${service} not found`, { field: 'service' });
  const ip = (svc.spec.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec.clusterIP ?? '']).find((a) => a !== '' && a !== 'None' && !a.includes(':'));
  if (svc.spec.type === 'ExternalName' || !ip) {
    const why = svc.spec.type === 'ExternalName' ? 'it is an ExternalName Service' : svc.spec.clusterIP === 'None' ? 'it is headless' : 'it has no IPv4 ClusterIP';
    throw new AntreaError('ERR_SERVICE_NO_CLUSTERIP', `Service ${service} cannot be reached through a ClusterIP: ${why}`, { field: 'service' });
  }
  const ports = svc.spec.ports ?? [];
  const wanted = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  const match = wanted === undefined
    ? (ports.length === 1 ? ports[0] : undefined)
    : ports.find((p) => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted));
  if (!match) {
    const have = ports.map((p) => `${p.name ? `${p.name}=` : ''}${p.port}/${p.protocol ?? 'TCP'}`).join(', ') || 'none';
    const what = wanted === undefined ? 'a port must be given: the Service has several' : `Service ${service} has no port ${String(wanted)}`;
    throw new AntreaError('ERR_SERVICE_PORT_NOT_FOUND', `${what} (ports: ${have})`, { field: 'port' });
  }
  return { ip, port: match.port, protocol: (match.protocol ?? 'TCP') as L4Protocol, portName: match.name ?? '' };
}
