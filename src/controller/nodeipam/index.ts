/**
 * NodeIPAM: the controller allocates Pod CIDRs to Nodes, for clusters where kube-controller-manager does not. As in
 * Antrea, it runs only when the gate is on and `nodeIPAM.enableNodeIPAM` is true as well (the conf is validated
 * then, so the cluster CIDRs are known to parse).
 */
import { defineModule } from '../../features/modules.js';
import type { ControllerContext } from '../context.js';
import { NodeIpamController } from './controller.js';

export const nodeIpamController = defineModule<ControllerContext>({
  name: 'nodeipam',
  gate: 'NodeIPAM',
  start(ctx) {
    const { nodeIPAM } = ctx.config;
    if (!nodeIPAM.enableNodeIPAM) {
      ctx.logger.info('NodeIPAM gate is on but nodeIPAM.enableNodeIPAM is false: Pod CIDRs are left to kube-controller-manager', { module: 'nodeipam' });
      ctx.expose('/nodeipam', () => ({ enabled: false }));
      return { stop: () => undefined };
    }
    const controller = new NodeIpamController({
      client: ctx.client,
      informers: ctx.informers,
      logger: ctx.logger,
      settings: {
        clusterCIDRs: nodeIPAM.clusterCIDRs,
        ...(nodeIPAM.serviceCIDR ? { serviceCIDR: nodeIPAM.serviceCIDR } : {}),
        ...(nodeIPAM.serviceCIDRv6 ? { serviceCIDRv6: nodeIPAM.serviceCIDRv6 } : {}),
        nodeCIDRMaskSizeIPv4: nodeIPAM.nodeCIDRMaskSizeIPv4,
        nodeCIDRMaskSizeIPv6: nodeIPAM.nodeCIDRMaskSizeIPv6,
      },
    });
    ctx.expose('/nodeipam', () => ({ enabled: true, ...controller.state() }));
    ctx.addReadinessCheck('nodeipam', () => controller.synced);
    controller.start();
    return controller;
  },
});
