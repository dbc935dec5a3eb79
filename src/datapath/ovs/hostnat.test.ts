import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostNatRule } from '../types.js';
import { customRule, mapElement, markByMacElements, skeleton } from './hostnat.js';
import { snatMarkMac } from '../pipeline/stages/egress.js';

const snat = (match: HostNatRule['match'], to: HostNatRule['to'] = { ip: '192.168.77.200' }, id = 'egress-snat/192.168.77.200'): HostNatRule => ({ id, kind: 'SNAT', match, to });

test('Egress SNAT rules become elements of the named maps, keyed as nft -j lists them back', () => {
  assert.deepEqual(mapElement(snat({ pktMark: 1 })), { map: 'snat_mark', key: '1', value: '192.168.77.200' });
  assert.deepEqual(mapElement(snat({ pktMark: 255 })), { map: 'snat_mark', key: '255', value: '192.168.77.200' });
  assert.deepEqual(mapElement(snat({ srcCIDR: '10.10.0.5' })), { map: 'snat_src', key: '10.10.0.5', value: '192.168.77.200' });
  assert.deepEqual(mapElement(snat({ srcCIDR: '10.10.0.0/24' })), { map: 'snat_src', key: '10.10.0.0/24', value: '192.168.77.200' });
  // Several matches do not fit a map: a custom rule, with the mark in hex.
  assert.equal(mapElement(snat({ pktMark: 2, dstCIDR: '8.8.8.0/24' })), undefined);
  assert.deepEqual(customRule(snat({ pktMark: 2, dstCIDR: '8.8.8.0/24' })), { chain: 'custom_post', text: 'ip daddr 8.8.8.0/24 meta mark 0x2 snat ip to 192.168.77.200 comment "egress-snat/192.168.77.200"' });
});

test('no field of a host rule can inject an nft token: each value is validated before it is written', () => {
  const bad: HostNatRule[] = [
    snat({ pktMark: 1 }, { ip: '192.168.77.200 }; flush ruleset; add element ip t m { 1' }),
    snat({ pktMark: -1 }),
    snat({ pktMark: 2 ** 32 }),
    snat({ pktMark: 1.5 }),
    snat({ pktMark: Number.NaN }),
    snat({ srcCIDR: '10.0.0.0/8 } ; flush ruleset' }),
    snat({ srcCIDR: '10.0.0.0/8' }, { ip: '1.2.3.4', port: 80 }), // a port needs a protocol
    snat({ dstCIDR: '10.0.0.0/8 accept' }),
    snat({ srcCIDR: '10.0.0.1', protocol: 'TCP; drop' as 'TCP', dstPort: 80 }),
    snat({ srcCIDR: '10.0.0.1', protocol: 'TCP', dstPort: 0 }),
    snat({ srcCIDR: '10.0.0.1', dstCIDR: '10.0.0.2' }, { ip: '1.2.3.4' }, 'x" drop comment "y'),
    snat({ srcCIDR: '10.0.0.1', dstCIDR: '10.0.0.2' }, { ip: '1.2.3.4' }, 'a\nflush ruleset'),
  ];
  for (const r of bad) {
    assert.throws(() => {
      const e = mapElement(r);
      if (!e) customRule(r);
    }, { code: 'ERR_OVS_INVALID_VALUE' }, JSON.stringify(r));
  }
});

test('the skeleton turns each SNAT mark MAC from the gateway back into the mark, before NAT, once for all marks', () => {
  const text = skeleton();
  assert.match(text, /^add map ip antrea_ts mark_by_mac \{ type ether_addr : mark; \}$/m);
  assert.match(text, /^add chain ip antrea_ts egress_mark \{ type filter hook prerouting priority mangle; policy accept; \}$/m);
  assert.match(text, /^flush chain ip antrea_ts egress_mark$/m);
  assert.match(text, /^add rule ip antrea_ts egress_mark iifname "antrea-gw0" meta mark set ether saddr map @mark_by_mac$/m);
  const elems = markByMacElements().split(', ');
  assert.equal(elems.length, 255);
  assert.equal(elems[0], '0a:a5:4e:00:00:01 : 1');
  assert.equal(elems[254], '0a:a5:4e:00:00:ff : 255');
  assert.equal(new Set(elems.map((e) => e.split(' : ')[0])).size, 255, 'one MAC per mark');
  for (const e of elems) assert.match(e, /^[0-9a-f]{2}(:[0-9a-f]{2}){5} : \d{1,3}$/);
  assert.equal(snatMarkMac(16), '0a:a5:4e:00:00:10');
  for (const m of [0, 256, 1.5, -1, Number.NaN]) assert.throws(() => snatMarkMac(m), { code: 'ERR_DATAPATH_INVALID' });
});
