/** Publishes the AntreaControllerInfo through which antctl finds the controller's API. */
import { ANTREA_CONTROLLER_INFO_NAME, antreaGvr, type AntreaAgentInfo, type AntreaControllerInfo } from '../../apis/crd/info.js';
import { nowTimestamp } from '../../apiserver/objects.js';
import { defineModule } from '../../features/modules.js';
import { ANTREA_TS_VERSION, publishInfo } from '../../process/info.js';
import type { ControllerContext } from '../context.js';

export const controllerMonitor = defineModule<ControllerContext>({
  name: 'monitor',
  async start(ctx) {
    const agents = ctx.informers.informerFor<AntreaAgentInfo>(antreaGvr.antreaagentinfos);
    ctx.informers.start();
    return publishInfo<AntreaControllerInfo>(
      ctx.client,
      antreaGvr.antreacontrollerinfos,
      () => ({
        apiVersion: 'crd.antrea.io/v1beta1',
        kind: 'AntreaControllerInfo',
        metadata: { name: ANTREA_CONTROLLER_INFO_NAME },
        version: ANTREA_TS_VERSION,
        apiPort: ctx.apiPort,
        connectedAgentNum: agents.list().length,
        controllerConditions: [{ type: 'ControllerHealthy', status: 'True', lastHeartbeatTime: nowTimestamp() }],
      }),
      ctx.logger,
    );
  },
});
