/** Egress in the controller: Egress IPs allocated from ExternalIPPools and placed on Nodes. */
import { defineModule } from '../../features/modules.js';
import type { ControllerContext } from '../context.js';
import { EgressController } from './controller.js';

export const egressController = defineModule<ControllerContext>({
  name: 'egress',
  gate: 'Egress',
  start(ctx) {
    const controller = new EgressController({ client: ctx.client, informers: ctx.informers, logger: ctx.logger });
    ctx.expose('/egress', () => controller.state());
    ctx.addReadinessCheck('egress', () => controller.synced);
    controller.start();
    return controller;
  },
});
