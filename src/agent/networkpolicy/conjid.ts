/**
 * Conjunction IDs derived from rule IDs (FNV-1a, probing on a collision), so an agent restart gives every rule the
 * ID it had and the datapath's counters stay attached to the same rule. IDs stay below 2^31 and above the few
 * that Antrea reserves.
 */
const FIRST = 16;
const SPACE = 2 ** 31 - FIRST;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class ConjIdAllocator {
  private readonly byRule = new Map<string, number>();
  private readonly used = new Set<number>();

  idFor(ruleID: string): number {
    const known = this.byRule.get(ruleID);
    if (known !== undefined) return known;
    let id = FIRST + (fnv1a(ruleID) % SPACE);
    while (this.used.has(id)) id = FIRST + ((id - FIRST + 1) % SPACE);
    this.byRule.set(ruleID, id);
    this.used.add(id);
    return id;
  }

  release(ruleID: string): void {
    const id = this.byRule.get(ruleID);
    if (id === undefined) return;
    this.byRule.delete(ruleID);
    this.used.delete(id);
  }
}
