/** Traceflow coordination in the controller: validation, dataplane tags, phases and timeouts. */
import { defineModule } from '../../features/modules.js';
import type { ControllerContext } from '../context.js';
import { TraceflowController } from './controller.js';

export const traceflowController = defineModule<ControllerContext>({
  name: 'traceflow',
  gate: 'Traceflow',
  start(ctx) {
    const controller = new TraceflowController({ client: ctx.client, informers: ctx.informers, logger: ctx.logger });
    ctx.expose('/traceflow', () => controller.state());
    controller.start();
    return controller;
  },
});
