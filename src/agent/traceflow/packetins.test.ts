import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketInRouter } from './packetins.js';
import type { TraceflowPacketIn } from '../nodedatapath.js';

test('packet-ins reach only the listeners of their Node, until unsubscribed', () => {
  const router = new PacketInRouter();
  const seen: string[] = [];
  const off1 = router.subscribe('n1', (p) => seen.push(`n1:${p.tag}`));
  router.subscribe('n2', (p) => seen.push(`n2:${p.tag}`));
  const pin = (node: string, tag: number): TraceflowPacketIn => ({ node, tag, observations: [] });
  router.emit([pin('n1', 3), pin('n2', 3), pin('n3', 3)]);
  off1();
  router.emit([pin('n1', 5), pin('n2', 5)]);
  assert.deepEqual(seen, ['n1:3', 'n2:3', 'n2:5']);
});
