/** `crd.antrea.io/v1beta1` AntreaControllerInfo and AntreaAgentInfo, as served to antctl. */
import { invalid, required, type FieldError } from '../../apis/validation.js';
import type { KubeObject } from '../../apis/meta.js';
import { ageColumn, col, defineResource, pick, text } from '../registry.js';

function validateInfo(obj: KubeObject): FieldError[] {
  const port = (obj as { apiPort?: unknown }).apiPort;
  if (port === undefined) return [required('apiPort')];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return [invalid('apiPort', port, 'must be a port number between 1 and 65535')];
  return [];
}

export const antreaControllerInfoResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1beta1'],
  kind: 'AntreaControllerInfo',
  plural: 'antreacontrollerinfos',
  shortNames: ['aci'],
  namespaced: false,
  validate: validateInfo,
  columns: [
    col('Version', (o) => text(pick(o, 'version'))),
    col('API-Port', (o) => text(pick(o, 'apiPort'))),
    col('Connected-Agents', (o) => text(pick(o, 'connectedAgentNum'))),
    ageColumn,
  ],
});

export const antreaAgentInfoResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1beta1'],
  kind: 'AntreaAgentInfo',
  plural: 'antreaagentinfos',
  shortNames: ['aai'],
  namespaced: false,
  validate: validateInfo,
  columns: [
    col('Version', (o) => text(pick(o, 'version'))),
    col('API-Port', (o) => text(pick(o, 'apiPort'))),
    col('Pods', (o) => text(pick(o, 'localPodNum'))),
    col('Subnets', (o) => text((pick(o, 'nodeSubnets') as string[] | undefined)?.join(','))),
    ageColumn,
  ],
});
