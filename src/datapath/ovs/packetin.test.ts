import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAntreaError } from '../../util/errors.js';
import { MessageFramer, OFPT, OXM, decodeMatch, encodeMatch, encodeMessage, encodeOxm, oxmU32, type OfpMessage, type PacketIn } from './openflow.js';
import { OpenFlowController } from './packetin.js';

/** A fake switch: connects to the controller and records what it receives. */
class FakeSwitch {
  readonly got: OfpMessage[] = [];
  private readonly framer = new MessageFramer();
  private wake: () => void = () => undefined;
  closed = false;
  constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.got.push(...this.framer.push(d));
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }
  static open(path: string): Promise<FakeSwitch> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new FakeSwitch(s)));
      s.once('error', reject);
    });
  }
  async until(pred: () => boolean, ms = 2000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out waiting for the controller');
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 20);
      });
    }
  }
  send(type: number, xid: number, body: Buffer = Buffer.alloc(0), version = 6): void {
    const m = encodeMessage(type, xid, body);
    m.writeUInt8(version, 0);
    this.sock.write(m);
  }
}

function packetInBody(inPort: number, frame: Buffer): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32BE(0xffffffff, 0);
  fixed.writeUInt16BE(frame.length, 4);
  fixed.writeUInt8(41, 7);
  const port = Buffer.alloc(4);
  port.writeUInt32BE(inPort);
  return Buffer.concat([fixed, encodeMatch([encodeOxm(OXM.IN_PORT, port)]), Buffer.alloc(2), frame]);
}

test('the controller handshakes, answers echoes, delivers packet-ins, sends packet-outs, and survives garbage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ats-of-'));
  const got: PacketIn[] = [];
  const ctl = new OpenFlowController(join(dir, 'c.sock'), (p) => {
    got.push(p);
    if (p.data.length === 1) throw new Error('handler trouble');
  });
  t.after(async () => {
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await ctl.listen();
  assert.throws(() => ctl.packetOut({ inPort: 1, actions: [], data: Buffer.alloc(14) }), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_NOT_CONNECTED'));
  const sw = await FakeSwitch.open(ctl.path);
  t.after(() => sw.sock.destroy());
  await sw.until(() => sw.got.some((m) => m.type === OFPT.HELLO));
  sw.send(OFPT.PACKET_IN, 1, packetInBody(3, Buffer.alloc(20)));
  sw.send(OFPT.HELLO, 1);
  await sw.until(() => sw.got.some((m) => m.type === OFPT.SET_CONFIG));
  assert.deepEqual(sw.got.map((m) => m.type), [OFPT.HELLO, OFPT.FEATURES_REQUEST, OFPT.SET_CONFIG]);
  assert.equal(sw.got[2]!.body.readUInt16BE(2), 0xffff, 'miss_send_len: whole packets');
  const waiting = ctl.waitConnected(2000);
  sw.send(OFPT.FEATURES_REPLY, sw.got[1]!.xid, Buffer.alloc(24));
  await waiting;
  assert.equal(ctl.connected, true);
  sw.send(OFPT.ECHO_REQUEST, 77, Buffer.from('hi'));
  await sw.until(() => sw.got.some((m) => m.type === OFPT.ECHO_REPLY));
  const echo = sw.got.find((m) => m.type === OFPT.ECHO_REPLY)!;
  assert.equal(echo.xid, 77);
  assert.equal(echo.body.toString(), 'hi');
  // A malformed packet-in (match runs past the end), a handler that throws, then a good one: the connection lives on.
  sw.send(OFPT.PACKET_IN, 2, Buffer.concat([Buffer.alloc(16), Buffer.from([0, 1, 0xff, 0xff])]));
  sw.send(OFPT.PACKET_IN, 3, packetInBody(3, Buffer.alloc(1)));
  sw.send(OFPT.PACKET_IN, 4, packetInBody(5, Buffer.alloc(60, 1)));
  await sw.until(() => got.length === 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(oxmU32(got[1]!.match, OXM.IN_PORT), 5);
  assert.equal(got[1]!.data.length, 60);
  assert.equal(ctl.stats.malformed, 2, 'the packet-in before HELLO and the broken one');
  assert.equal(ctl.stats.handlerErrors, 1);
  ctl.packetOut({ inPort: 0xfffffffd, actions: [{ type: 'output', port: 5 }], data: Buffer.alloc(60, 2) });
  await sw.until(() => sw.got.some((m) => m.type === OFPT.PACKET_OUT));
  const po = sw.got.find((m) => m.type === OFPT.PACKET_OUT)!;
  assert.equal(oxmU32(decodeMatch(po.body, 8).fields, OXM.IN_PORT), 0xfffffffd);
  // A header that claims fewer than 8 bytes: framing is lost, the controller drops the connection (OVS reconnects).
  sw.sock.write(Buffer.from('0600000200000000', 'hex'));
  await sw.until(() => sw.closed);
  assert.equal(ctl.connected, false);
  await ctl.close();
  assert.equal(existsSync(ctl.path), false, 'close removes the socket file');
});

test('a switch that speaks an older OpenFlow is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ats-of-'));
  const ctl = new OpenFlowController(join(dir, 'c.sock'), () => undefined);
  t.after(async () => {
    await ctl.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await ctl.listen();
  const sw = await FakeSwitch.open(ctl.path);
  t.after(() => sw.sock.destroy());
  sw.send(OFPT.HELLO, 1, Buffer.alloc(0), 4);
  await sw.until(() => sw.closed);
  assert.equal(ctl.stats.malformed, 1);
  await assert.rejects(ctl.waitConnected(50), (e: unknown) => isAntreaError(e, 'ERR_OPENFLOW_NOT_CONNECTED'));
});
