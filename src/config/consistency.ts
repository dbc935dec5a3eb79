/**
 * Checks across the two confs: a feature of both the agent and the controller must resolve to the same value on
 * both sides; a gate set in the conf of a component it does not belong to has no effect there.
 */
import { featuresAt, IMPLEMENTED_RELEASE } from '../features/index.js';
import { place, type ConfigProblem } from './problems.js';
import type { Resolved, ResolvedAgent, ResolvedController } from './resolve.js';
import { CONF_FILE } from './schema.js';

export function consistencyProblems(agent: ResolvedAgent, controller: ResolvedController, release: string = IMPLEMENTED_RELEASE): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const f of featuresAt(release)) {
    if (!(f.components.includes('agent') && f.components.includes('controller'))) continue;
    const a = agent.gates.enabled(f.name);
    const c = controller.gates.enabled(f.name);
    if (a === c) continue;
    const how = (r: Resolved) => (f.name in r.explicitGates ? 'set' : 'by default');
    // Point at the conf that sets it (the agent's when both do).
    const at = f.name in agent.explicitGates || !(f.name in controller.explicitGates) ? agent : controller;
    problems.push(
      place(
        {
          severity: 'error',
          code: 'ERR_GATE_INCONSISTENT',
          message: `${f.name} is a feature of both the agent and the controller and must be set the same in both: it is ${a} in ${CONF_FILE.agent} (${how(agent)}) but ${c} in ${CONF_FILE.controller} (${how(controller)})`,
          key: `featureGates.${f.name}`,
          gate: f.name,
        },
        at.loc,
      ),
    );
  }
  return problems;
}

/** Gates set in a conf whose component they do not belong to (e.g. NodeIPAM in antrea-agent.conf). */
export function noEffectProblems(r: Resolved, release: string = IMPLEMENTED_RELEASE): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byName = new Map(featuresAt(release).map((f) => [f.name, f]));
  for (const name of Object.keys(r.explicitGates)) {
    const f = byName.get(name);
    if (!f || f.components.includes(r.component)) continue;
    const owner = f.components.map((c) => CONF_FILE[c]).join(' and ');
    problems.push(
      place(
        {
          severity: 'warning',
          code: 'WARN_GATE_NO_EFFECT',
          message: `${name} is not a feature of the ${r.component}, so setting it in ${CONF_FILE[r.component]} has no effect; set it in ${owner}`,
          key: `featureGates.${name}`,
          gate: name,
        },
        r.loc,
      ),
    );
  }
  return problems;
}
