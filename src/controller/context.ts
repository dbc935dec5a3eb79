/** What every controller module is given when it starts. */
import type { ControllerConfig } from '../config/types.js';
import type { BaseContext } from '../process/component.js';

export interface ControllerContext extends BaseContext {
  config: ControllerConfig;
}
