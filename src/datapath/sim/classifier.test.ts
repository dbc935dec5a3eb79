import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowTable, compileFlow } from './classifier.js';
import { act, flow, match, type Flow } from '../pipeline/flow.js';
import { KEY_SLOTS, S } from './key.js';
import { prefixMask } from '../net/addr.js';

const C = 1n;
function keyWith(fields: Partial<Record<keyof typeof S, number>>): Uint32Array {
  const k = new Uint32Array(KEY_SLOTS);
  for (const [f, v] of Object.entries(fields)) k[S[f as keyof typeof S]] = v as number;
  return k;
}
function table(flows: Flow[]): FlowTable {
  const t = new FlowTable(0);
  for (const f of flows) t.insert(compileFlow(f));
  return t;
}

test('highest priority wins regardless of insertion order', () => {
  const low = flow(70, 100, C, match().ip(), [act.goto(80)]);
  const high = flow(70, 200, C, match().ip().nwDst({ ip: 0x0a0a0100, prefix: 24, mask: 0xffffff00 }), [act.goto(72)]);
  for (const order of [[low, high], [high, low]]) {
    const t = table(order);
    assert.equal(t.lookup(keyWith({ ETH_TYPE: 0x800, NW_DST: 0x0a0a0105 }))?.flow, high);
    assert.equal(t.lookup(keyWith({ ETH_TYPE: 0x800, NW_DST: 0x0a0a0205 }))?.flow, low);
    assert.equal(t.lookup(keyWith({ ETH_TYPE: 0x806 })), undefined);
  }
});

test('tie-break at equal priority: drop first, then the more specific match, then the match text', () => {
  const inv = flow(31, 190, C, match().ip().ctState('+inv+trk'), []);
  const est = flow(31, 190, C, match().ip().ctState('-new+trk'), [act.goto(50)]);
  const key = keyWith({ ETH_TYPE: 0x800, CT_STATE: 0x20 | 0x10 | 0x02 }); // +trk+inv+est: both match
  assert.equal(table([est, inv]).lookup(key)?.flow, inv);
  assert.equal(table([inv, est]).lookup(key)?.flow, inv);
  const generic = flow(105, 190, C, match().ip().ctState('+new+trk'), [act.goto(108)]);
  const svc = flow(105, 190, C, match().ip().ctState('+trk').ctMark({ value: 4, mask: 4 }).field('reg4', 0x20000, 0x70000), [act.goto(110)]);
  const k2 = keyWith({ ETH_TYPE: 0x800, CT_STATE: 0x21, CT_MARK: 4 });
  k2[S.REG0 + 4] = 0x20000;
  assert.equal(table([generic, svc]).lookup(k2)?.flow, svc, 'more mask bits wins');
  assert.equal(table([svc, generic]).lookup(k2)?.flow, svc);
  const x = flow(1, 5, C, match().field('reg2', 1), [act.goto(2)]);
  const y = flow(1, 5, C, match().field('reg3', 1), [act.goto(3)]);
  const k3 = keyWith({});
  k3[S.REG0 + 2] = 1;
  k3[S.REG0 + 3] = 1;
  assert.equal(table([y, x]).lookup(k3)?.flow, x, 'equal specificity: reg2=0x1 sorts before reg3=0x1');
});

test('removing a flow makes the next best one win; the table tracks its size', () => {
  const a = flow(10, 200, C, match().inPort(3), [act.goto(20)]);
  const b = flow(10, 0, C, match(), []);
  const t = new FlowTable(10);
  const sa = compileFlow(a);
  t.insert(sa);
  t.insert(compileFlow(b));
  assert.equal(t.size, 2);
  t.remove(sa);
  assert.equal(t.lookup(keyWith({ IN_PORT: 3 }))?.flow, b);
  assert.equal(t.size, 1);
});

test('property: a CIDR flow matches exactly the addresses inside the CIDR', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (net, prefix, addr) => {
      const mask = prefixMask(prefix);
      const cidr = { ip: (net & mask) >>> 0, prefix, mask };
      const t = table([flow(70, 200, C, match().ip().nwDst(cidr), [act.goto(72)])]);
      const hit = t.lookup(keyWith({ ETH_TYPE: 0x800, NW_DST: addr >>> 0 })) !== undefined;
      return hit === (((addr & mask) >>> 0) === cidr.ip);
    }),
    { numRuns: 500 },
  );
});

test('property: with many prefixes the longest (highest-priority) one wins, like a route lookup', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 8, max: 32 })), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 0xffffffff }), (routes, addr) => {
      const flows = routes.map(([net, p], i) => flow(70, 100 + p, BigInt(i), match().ip().nwDst({ ip: (net & prefixMask(p)) >>> 0, prefix: p, mask: prefixMask(p) }), [act.set('reg1', i)]));
      const uniq = new Map(flows.map((f) => [`${f.priority}|${String(f.match[1]?.value)}`, f]));
      const t = table([...uniq.values()]);
      const got = t.lookup(keyWith({ ETH_TYPE: 0x800, NW_DST: addr >>> 0 }));
      const want = [...uniq.values()].filter((f) => {
        const m = f.match[1]!;
        return ((addr & Number(m.mask ?? 0xffffffffn)) >>> 0) === Number(m.value);
      }).sort((x, y) => y.priority - x.priority)[0];
      return got?.flow.priority === want?.priority;
    }),
    { numRuns: 300 },
  );
});

test('conjunction: the conj_id flow fires only when every clause matches', () => {
  const flows = [
    flow(90, 200, C, match().ip().nwSrc('10.10.0.2'), [act.conjunction(7, 1, 3)]),
    flow(90, 200, C, match().ip().field('reg1', 5), [act.conjunction(7, 2, 3)]),
    flow(90, 200, C, match().proto('tcp').tpDst(80), [act.conjunction(7, 3, 3)]),
    flow(90, 190, C, match().ip().conjId(7), [act.set('reg6', 7), act.goto(101)]),
    flow(90, 210, C, match().ip().ctState('-new+est'), [act.goto(101)]),
    flow(90, 0, C, match(), [act.goto(100)]),
  ];
  const t = table(flows);
  const k = (src: number, port: number, ct = 0x21) => keyWith({ ETH_TYPE: 0x800, NW_PROTO: 6, NW_SRC: src, TP_DST: port, CT_STATE: ct });
  const hit = (src: number, reg1: number, port: number, ct?: number) => {
    const key = k(src, port, ct);
    key[S.REG0 + 1] = reg1;
    return t.lookup(key)?.flow.priority;
  };
  assert.equal(hit(0x0a0a0002, 5, 80), 190);
  assert.equal(hit(0x0a0a0003, 5, 80), 0);
  assert.equal(hit(0x0a0a0002, 6, 80), 0);
  assert.equal(hit(0x0a0a0002, 5, 81), 0);
  assert.equal(hit(0x0a0a0002, 5, 80, 0x22), 210, 'a higher-priority normal flow beats the conjunction');
});
