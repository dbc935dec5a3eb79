/** `crd.antrea.io/v1alpha2` Egress (short name eg; columns EGRESSIP, AGE, NODE) and ExternalIPPool (eip). */
import { validateEgress, validateExternalIPPool } from '../../apis/crd/egress.js';
import { ageColumn, col, defineResource, pick, str } from '../registry.js';

const num = (v: unknown) => (typeof v === 'number' ? String(v) : '');

export const egressResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha2'],
  kind: 'Egress',
  plural: 'egresses',
  shortNames: ['eg'],
  namespaced: false,
  statusSubresource: true,
  validate: validateEgress,
  columns: [col('EgressIP', (o) => str(pick(o, 'spec', 'egressIP'))), ageColumn, col('Node', (o) => str(pick(o, 'status', 'egressNode')))],
});

export const externalIPPoolResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha2'],
  kind: 'ExternalIPPool',
  plural: 'externalippools',
  shortNames: ['eip'],
  namespaced: false,
  statusSubresource: true,
  validate: validateExternalIPPool,
  columns: [col('Total', (o) => num(pick(o, 'status', 'usage', 'total'))), col('Used', (o) => num(pick(o, 'status', 'usage', 'used'))), ageColumn],
});
