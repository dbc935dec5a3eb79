import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidr4, flowLine, ifName, ipv4, mac, netnsName, ofPort, port } from './validate.js';
import { commandLine, run } from './exec.js';

test('validators accept well-formed values and refuse anything that could become a second word, flow or rule', () => {
  assert.equal(ifName('antrea-gw0'), 'antrea-gw0');
  assert.equal(mac('0A:00:00:00:01:01'), '0a:00:00:00:01:01');
  assert.equal(cidr4('10.10.0.0/24'), '10.10.0.0/24');
  for (const bad of ['', 'a b', 'x;y', 'x,actions=drop', '-n', 'a'.repeat(16), '..', 'eth0\n']) assert.throws(() => ifName(bad), { code: 'ERR_OVS_INVALID_VALUE' });
  for (const bad of ['10.0.0.1 ', '10.0.0.256', '10.0.0.1,nw_dst=1.1.1.1', '::1']) assert.throws(() => ipv4(bad), { code: 'ERR_OVS_INVALID_VALUE' });
  for (const bad of ['10.0.0.0/33', '10.0.0.0', '10.0.0.0/8 accept']) assert.throws(() => cidr4(bad), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => mac('02:00:00:00:00:01,actions=NORMAL'), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => port(0), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => port(65536), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => ofPort(0xff00), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => netnsName('default'), { code: 'ERR_OVS_INVALID_VALUE' });
  assert.throws(() => flowLine('table=0 actions=drop\nadd table=0 actions=NORMAL'), { code: 'ERR_OVS_INVALID_VALUE' });
});

test('the command layer runs only datapath programs, with argument arrays, and reports failures with the command and stderr', async () => {
  assert.throws(() => run('sh', ['-c', 'true']), { code: 'ERR_OVS_COMMAND' });
  assert.equal(commandLine('ip', ['link', 'show', 'a b']), 'ip link show "a b"');
  await assert.rejects(run(process.execPath, ['-e', 'console.error("no such device"); process.exit(3)']), (err: { code: string; details: { command: string; stderr: string; exitCode: number } }) =>
    err.code === 'ERR_OVS_COMMAND' && err.details.command.includes('no such device') && err.details.stderr.includes('no such device') && err.details.exitCode === 3);
  await assert.rejects(run(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { timeoutMs: 100 }), { code: 'ERR_OVS_TIMEOUT' });
});
