import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { isAntreaError } from '../../util/errors.js';
import {
  MessageFramer, OFPP_CONTROLLER, OFPT, OXM, decodeHeader, decodeMatch, decodePacketIn, encodeEchoReply, encodeHello, encodeMatch,
  encodeMessage, encodeOxm, encodePacketOut, encodeSetConfig, oxmU32, oxmValue, packetInReg, type OfpMessage,
} from './openflow.js';

/**
 * A real OFPT_PACKET_IN captured from ovs-vswitchd 3.1 (bridge protocols=OpenFlow15): a TCP SYN injected on the
 * geneve port with tun_src/tun_dst/tun_id set, reg0[24..28]=2 and reg3=0x77 loaded, ct() run, then
 * controller(reason=no_match) in table 41 with cookie 0x99. `ovs-ofctl ofp-print` prints it as:
 *   OFPT_PACKET_IN (OF1.5) (xid=0x0): table_id=41 cookie=0x99 total_len=54 ct_state=inv|trk,ct_zone=65520,ip,
 *   reg0=0x2000000,reg3=0x77,tun_id=0x5,tun_src=192.168.77.1,tun_dst=192.168.77.2,in_port=1 (via no_match) data_len=54
 * OVS packs the registers as masked OXM_OF_PKT_REGn (class 0x8001, 64 bits each).
 */
const CAPTURED_PACKET_IN = '060a00b800000000ffffffff00360029000000000000009900010068800000040000000180000a02080080004c08000000000000000500013e04c0a84d0100014004c0a84d02800101100200000000000000ffffffff0000000080010310000000000000007700000000ffffffff0001d30800000030000000ff0001d402fff000000a0000000002aabbccddeeff08004500002800004000400600000a0a00010a0a01021f900050000000010000000050022000d6a30000';
const CAPTURED_FRAME = '0a0000000002aabbccddeeff08004500002800004000400600000a0a00010a0a01021f900050000000010000000050022000d6a30000';

function frameOne(hex: string): OfpMessage {
  const msgs = new MessageFramer().push(Buffer.from(hex, 'hex'));
  assert.equal(msgs.length, 1);
  return msgs[0]!;
}

const ofctl = spawnSync('ovs-ofctl', ['--version'], { encoding: 'utf8' });
const noOfctl = ofctl.status === 0 ? false : 'ovs-ofctl is not installed';
function ofpPrint(msg: Buffer): string {
  const r = spawnSync('ovs-ofctl', ['ofp-print', msg.toString('hex')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('a PACKET_IN captured from OVS decodes: table, cookie, reason, in_port, tunnel, packed registers, frame', () => {
  const p = decodePacketIn(frameOne(CAPTURED_PACKET_IN));
  assert.equal(p.bufferId, 0xffffffff);
  assert.equal(p.totalLen, 54);
  assert.equal(p.reason, 0);
  assert.equal(p.tableId, 41);
  assert.equal(p.cookie, 0x99n);
  assert.equal(oxmU32(p.match, OXM.IN_PORT), 1);
  assert.equal([...oxmValue(p.match, OXM.TUN_IPV4_SRC)!].join('.'), '192.168.77.1');
  assert.equal([...oxmValue(p.match, OXM.TUN_IPV4_DST)!].join('.'), '192.168.77.2');
  assert.equal(oxmValue(p.match, OXM.TUNNEL_ID)!.readBigUInt64BE(0), 5n);
  assert.equal(packetInReg(p.match, 0), 0x2000000, 'reg0 from the high half of xreg0');
  assert.equal(packetInReg(p.match, 3), 0x77, 'reg3 from the low half of xreg1');
  assert.equal(packetInReg(p.match, 5), undefined);
  assert.equal(p.data.toString('hex'), CAPTURED_FRAME);
});

test('NXM_NX_REGn is read directly when OVS sends registers unpacked', () => {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(0x02000000);
  const m = encodeMatch([encodeOxm(OXM.REG0, v)]);
  assert.equal(packetInReg(decodeMatch(m, 0).fields, 0), 0x02000000);
});

test('the framer splits a stream by header length, across and within chunks', () => {
  const a = encodeHello(1);
  const b = encodeMessage(OFPT.ECHO_REQUEST, 9, Buffer.from('ping'));
  const c = Buffer.from(CAPTURED_PACKET_IN, 'hex');
  const stream = Buffer.concat([a, b, c]);
  for (const cut of [1, 7, 8, 15, 16, 20, stream.length - 1]) {
    const f = new MessageFramer();
    const got = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
    assert.deepEqual(got.map((m) => m.type), [OFPT.HELLO, OFPT.ECHO_REQUEST, OFPT.PACKET_IN], `cut at ${cut}`);
    assert.equal(f.buffered, 0);
  }
  const echo = new MessageFramer().push(b)[0]!;
  const reply = encodeEchoReply(echo);
  assert.deepEqual(decodeHeader(reply), { version: 6, type: OFPT.ECHO_REPLY, length: 12, xid: 9 });
  assert.equal(reply.subarray(8).toString(), 'ping', 'the echo reply carries the request body');
});

test('a header shorter than 8 bytes loses the framing and is an error, not a loop', () => {
  const bad = Buffer.from('0600000400000000', 'hex');
  assert.throws(() => new MessageFramer().push(bad), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_MALFORMED'));
});

test('malformed PACKET_INs are AntreaErrors: truncated, bad match type, match or OXM past the end, wrong type', () => {
  const whole = Buffer.from(CAPTURED_PACKET_IN, 'hex');
  const msg = (body: Buffer, type: number = OFPT.PACKET_IN): OfpMessage => ({ version: 6, type, length: 8 + body.length, xid: 0, body });
  const body = whole.subarray(8);
  const cases: Array<[string, OfpMessage]> = [
    ['fixed part cut', msg(body.subarray(0, 12))],
    ['match cut', msg(body.subarray(0, 40))],
    ['not a PACKET_IN', msg(body, OFPT.PACKET_OUT)],
    ['match type 0', msg(Buffer.concat([body.subarray(0, 16), Buffer.from([0, 0]), body.subarray(18)]))],
    ['match length past the end', msg(Buffer.concat([body.subarray(0, 18), Buffer.from([0xff, 0xf0]), body.subarray(20)]))],
    ['OXM length past the match', (() => { const b = Buffer.from(body); b.writeUInt8(0xff, 23); return msg(b); })()],
  ];
  for (const [name, m] of cases) assert.throws(() => decodePacketIn(m), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_MALFORMED'), name);
});

test('property: any bytes decode to a PACKET_IN or an ERR_OPENFLOW_MALFORMED, never anything else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const body = Buffer.from(bytes);
    try {
      const p = decodePacketIn({ version: 6, type: OFPT.PACKET_IN, length: 8 + body.length, xid: 0, body });
      assert.ok(p.data.length <= body.length);
    } catch (e) {
      assert.ok(isAntreaError(e, 'ERR_OPENFLOW_MALFORMED'), String(e));
    }
  }));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (bytes, cut) => {
    const f = new MessageFramer();
    try {
      for (let i = 0; i < bytes.length; i += cut) for (const m of f.push(Buffer.from(bytes.subarray(i, i + cut)))) assert.ok(m.length >= 8);
    } catch (e) {
      assert.ok(isAntreaError(e, 'ERR_OPENFLOW_MALFORMED'), String(e));
    }
  }));
});

test('PACKET_OUT round trip: in_port match, set_field and output actions, frame', () => {
  const tun = Buffer.from([192, 168, 77, 2]);
  const out = encodePacketOut({ xid: 7, inPort: OFPP_CONTROLLER, actions: [{ type: 'setField', field: OXM.TUN_IPV4_DST, value: tun }, { type: 'output', port: 1 }], data: Buffer.from(CAPTURED_FRAME, 'hex') });
  const h = decodeHeader(out);
  assert.deepEqual(h, { version: 6, type: OFPT.PACKET_OUT, length: out.length, xid: 7 });
  assert.equal(out.readUInt32BE(8), 0xffffffff, 'NO_BUFFER');
  const actionsLen = out.readUInt16BE(12);
  const { fields, end } = decodeMatch(out, 16);
  assert.equal(oxmU32(fields, OXM.IN_PORT), OFPP_CONTROLLER);
  assert.equal(end, 16 + 16, 'in_port match: 4 + 8 bytes, padded to 16');
  assert.equal(actionsLen, 16 + 16, 'set_field (4 + 8, padded to 16) + output (16)');
  assert.equal(out.subarray(end + actionsLen).toString('hex'), CAPTURED_FRAME);
});

test('OVS decodes our PACKET_OUT, HELLO and SET_CONFIG as meant (ovs-ofctl ofp-print)', { skip: noOfctl }, () => {
  const vni = Buffer.alloc(8);
  vni.writeBigUInt64BE(5n);
  const po = encodePacketOut({
    xid: 7, inPort: OFPP_CONTROLLER,
    actions: [{ type: 'setField', field: OXM.TUN_IPV4_DST, value: Buffer.from([192, 168, 77, 2]) }, { type: 'setField', field: OXM.TUNNEL_ID, value: vni }, { type: 'output', port: 1 }],
    data: Buffer.from(CAPTURED_FRAME, 'hex'),
  });
  const text = ofpPrint(po);
  assert.match(text, /^OFPT_PACKET_OUT \(OF1\.5\) \(xid=0x7\): in_port=CONTROLLER actions=set_field:192\.168\.77\.2->tun_dst,set_field:0x5->tun_id,output:1 data_len=54/);
  assert.match(text, /tcp,.*nw_src=10\.10\.0\.1,nw_dst=10\.10\.1\.2,.*tp_src=8080,tp_dst=80,tcp_flags=syn/);
  assert.match(ofpPrint(encodeHello(1)), /OFPT_HELLO \(OF1\.5\) \(xid=0x1\):\s+version bitmap: 0x06/);
  assert.match(ofpPrint(encodeSetConfig(2)), /OFPT_SET_CONFIG \(OF1\.5\) \(xid=0x2\): frags=normal miss_send_len=65535/);
  assert.match(ofpPrint(Buffer.from(CAPTURED_PACKET_IN, 'hex')), /table_id=41 cookie=0x99 .*reg0=0x2000000,reg3=0x77,tun_id=0x5,tun_src=192\.168\.77\.1/);
});

test('an OXM value of the wrong size and an oversized message are refused', () => {
  assert.throws(() => encodeOxm(OXM.IN_PORT, Buffer.alloc(2)), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_INVALID'));
  assert.throws(() => encodeMessage(OFPT.PACKET_OUT, 1, Buffer.alloc(70_000)), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_TOO_LARGE'));
});
