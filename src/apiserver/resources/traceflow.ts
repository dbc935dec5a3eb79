/** `crd.antrea.io/v1alpha1` Traceflow, with the printer columns of Antrea's CRD (Phase, Source-Pod, Destination-Pod, Destination-IP). */
import { validateTraceflow } from '../../apis/crd/traceflow.js';
import { ageColumn, col, defineResource, pick, str } from '../registry.js';

export const traceflowResource = defineResource({
  group: 'crd.antrea.io',
  versions: ['v1alpha1'],
  kind: 'Traceflow',
  plural: 'traceflows',
  shortNames: ['tf'],
  namespaced: false,
  statusSubresource: true,
  validate: validateTraceflow,
  fields: { 'status.phase': (o) => str(pick(o, 'status', 'phase')) },
  columns: [
    col('Phase', (o) => str(pick(o, 'status', 'phase'))),
    col('Source-Pod', (o) => str(pick(o, 'spec', 'source', 'pod'))),
    col('Destination-Pod', (o) => str(pick(o, 'spec', 'destination', 'pod'))),
    col('Destination-IP', (o) => str(pick(o, 'spec', 'destination', 'ip'))),
    ageColumn,
  ],
});
