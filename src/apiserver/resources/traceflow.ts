/** `crd.antrea.io/v1alpha1` Traceflow, with the printer columns of Antrea's CRD (Phase, Source-Pod, Destination-Pod, Destination-IP). */
import { validateTraceflow } from '../../apis/crd/traceflow.js';
import { ageColumn, col, defineResource, pick } from '../registry.js';

const text = (v: unknown) => (typeof v === 'string' ? v : '');

export const traceflowResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha1'],
  kind: 'Traceflow',
  plural: 'traceflows',
  shortNames: ['tf'],
  namespaced: false,
  statusSubresource: true,
  validate: validateTraceflow,
  fields: { 'status.phase': (o) => text(pick(o, 'status', 'phase')) },
  columns: [
    col('Phase', (o) => text(pick(o, 'status', 'phase'))),
    col('Source-Pod', (o) => text(pick(o, 'spec', 'source', 'pod'))),
    col('Destination-Pod', (o) => text(pick(o, 'spec', 'destination', 'pod'))),
    col('Destination-IP', (o) => text(pick(o, 'spec', 'destination', 'ip'))),
    ageColumn,
  ],
});
