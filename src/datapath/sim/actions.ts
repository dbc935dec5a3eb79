/**
 * Actions compiled for the interpreter: set_field and move become slot writes with precomputed values and masks,
 * so executing a flow allocates nothing and does no bigint arithmetic.
 */
import type { Action, CtAction, LearnAction } from '../pipeline/flow.js';
import { fieldDef, fullMask } from '../pipeline/fields.js';
import { slotParts, toSlots, S } from './key.js';

export type ExecAction =
  | { t: 'goto'; table: number }
  | { t: 'resubmit'; table: number }
  | { t: 'set'; slots: Int32Array; values: Uint32Array; masks: Uint32Array }
  | { t: 'move'; dst: Int32Array; src: Int32Array }
  | { t: 'ct'; a: CtAction }
  | { t: 'group'; id: number }
  | { t: 'output'; port: number }
  | { t: 'output_reg'; slot: number; shift: number; width: number }
  | { t: 'in_port' }
  | { t: 'normal' }
  | { t: 'nop' }
  | { t: 'controller'; reason: number }
  | { t: 'dec_ttl' }
  | { t: 'learn'; a: LearnAction };

export function compileActions(actions: readonly Action[]): ExecAction[] {
  return actions.map((a): ExecAction => {
    switch (a.type) {
      case 'goto_table':
        return { t: 'goto', table: a.table };
      case 'resubmit':
        return { t: 'resubmit', table: a.table };
      case 'set_field': {
        const triples = toSlots(a.field, a.value, a.mask ?? fullMask(fieldDef(a.field).width));
        return {
          t: 'set',
          slots: Int32Array.from(triples.map((x) => x.slot)),
          values: Uint32Array.from(triples.map((x) => x.value)),
          masks: Uint32Array.from(triples.map((x) => x.mask)),
        };
      }
      case 'move': {
        const src = slotParts(a.src);
        const dst = slotParts(a.dst);
        const n = Math.min(src.length, dst.length);
        return { t: 'move', src: Int32Array.from(src.slice(0, n).map((p) => p.slot)), dst: Int32Array.from(dst.slice(0, n).map((p) => p.slot)) };
      }
      case 'ct':
        return { t: 'ct', a };
      case 'group':
        return { t: 'group', id: a.id };
      case 'output':
        return { t: 'output', port: a.port };
      case 'output_reg':
        return { t: 'output_reg', slot: S.REG0 + Number(a.field.reg.slice(3)), shift: a.field.lo, width: a.field.hi - a.field.lo + 1 };
      case 'in_port':
        return { t: 'in_port' };
      case 'normal':
        return { t: 'normal' };
      case 'conjunction':
        return { t: 'nop' };
      case 'controller':
        return { t: 'controller', reason: a.reason };
      case 'dec_ttl':
        return { t: 'dec_ttl' };
      case 'learn':
        return { t: 'learn', a };
    }
  });
}
