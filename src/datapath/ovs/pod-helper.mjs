// A tiny traffic agent that runs inside one Pod (or Node) network namespace: `ip netns exec NS node pod-helper.mjs`.
// Plain JavaScript so it starts fast without a TypeScript loader. It opens real sockets: TCP/UDP echo servers on
// request, TCP connections and UDP exchanges from a chosen source port, and ICMP echo through iputils ping.
// Protocol: one JSON object per line on stdin ({id, op, ...}); one JSON reply per line on stdout ({id, ...}).
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const servers = new Map();
const kept = new Map(); // source port -> open TCP socket, for exchanges across a datapath restart

function listen(proto, port) {
  const key = `${proto}/${port}`;
  if (servers.has(key)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (proto === 'TCP') {
      const s = net.createServer((c) => { c.on('data', (d) => c.write(d)); c.on('error', () => {}); });
      s.on('error', reject);
      s.listen({ port, host: '0.0.0.0' }, () => { servers.set(key, s); resolve(); });
    } else {
      const s = dgram.createSocket('udp4');
      s.on('message', (m, r) => s.send(m, r.port, r.address));
      s.on('error', reject);
      s.bind(port, '0.0.0.0', () => { servers.set(key, s); resolve(); });
    }
  });
}

function tcpConnect(r) {
  return new Promise((resolve) => {
    const res = { established: false, exchanges: 0 };
    const sock = net.connect({ host: r.ip, port: r.port, localPort: r.srcPort, localAddress: r.srcIP });
    // A connection still in SYN_SENT is closed outright: resetAndDestroy() would wait for it to connect, and the kernel
    // would keep retransmitting the SYN for two minutes (packets a later test or live-traffic Traceflow would see).
    const timer = setTimeout(() => { res.error = 'timeout'; if (sock.connecting) sock.destroy(); else sock.resetAndDestroy(); resolve(res); }, r.timeoutMs);
    sock.on('error', (e) => { clearTimeout(timer); res.error = e.code ?? e.message; resolve(res); });
    sock.on('connect', async () => {
      res.established = true;
      if (r.synOnly) { clearTimeout(timer); sock.resetAndDestroy(); resolve(res); return; }
      const conv = { sock, buf: 0, want: 0, wake: () => {} };
      sock.on('data', (d) => { conv.buf += d.length; if (conv.buf >= conv.want) conv.wake(); });
      res.exchanges = await talk(conv, r.exchanges, r.payload);
      clearTimeout(timer);
      if (r.close) sock.end(); else kept.set(r.srcPort, conv);
      resolve(res);
    });
  });
}

async function talk(conv, exchanges, payload) {
  let done = 0;
  for (let i = 0; i < exchanges; i++) {
    conv.want += payload;
    const got = new Promise((w) => { conv.wake = w; });
    conv.sock.write(Buffer.alloc(payload, 0x61));
    if (conv.buf < conv.want) await got;
    done++;
  }
  return done;
}

/** More request/response exchanges on a connection opened earlier (same socket, same source port). */
function again(r) {
  const conv = kept.get(r.srcPort);
  if (!conv || conv.sock.destroyed) return Promise.resolve({ established: false, error: 'no open connection from that port' });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ established: true, exchanges: 0, error: 'timeout' }), r.timeoutMs);
    talk(conv, r.exchanges, r.payload).then((n) => { clearTimeout(timer); resolve({ established: true, exchanges: n }); });
  });
}

function udpExchange(r) {
  return new Promise((resolve) => {
    const res = { established: false, exchanges: 0, replies: 0 };
    const s = dgram.createSocket('udp4');
    let timer;
    let next = () => {};
    s.on('message', () => { res.replies++; next(); });
    // Connected, as a real client's socket usually is: the kernel then reports an ICMP error for the peer (a Reject,
    // a Service without Endpoints) as ECONNREFUSED / EHOSTUNREACH at once instead of leaving us to time out.
    s.on('error', (e) => { res.error = e.code ?? e.message; next(false); });
    s.bind(r.srcPort, () => s.connect(r.port, r.ip, async (err) => {
      if (err) { res.error = err.code ?? err.message; s.close(); resolve(res); return; }
      for (let i = 0; i < r.exchanges; i++) {
        const got = new Promise((w) => { next = (ok = true) => w(ok); timer = setTimeout(() => w(false), r.timeoutMs); });
        s.send(Buffer.alloc(r.payload, 0x61));
        const ok = await got;
        clearTimeout(timer);
        if (!ok) break;
        res.exchanges++;
        if (r.oneWay) break;
      }
      res.established = res.replies > 0;
      s.close();
      resolve(res);
    }));
  });
}

function ping(r) {
  return new Promise((resolve) => {
    const args = ['-n', '-c', String(r.exchanges), '-i', '0.2', '-W', String(Math.max(1, Math.ceil(r.timeoutMs / 1000))), '-e', String(r.srcPort), '-s', String(r.payload), r.ip];
    const p = spawn('ping', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('close', () => {
      const m = /(\d+) received/.exec(out);
      const replies = m ? Number(m[1]) : 0;
      resolve({ established: replies > 0, exchanges: replies, replies });
    });
  });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch { return; }
  let reply;
  try {
    if (msg.op === 'listen') { await listen(msg.proto, msg.port); reply = { ok: true }; }
    else if (msg.op === 'again') reply = await again(msg);
    else if (msg.op === 'connect') {
      reply = msg.proto === 'TCP' ? await tcpConnect(msg) : msg.proto === 'UDP' ? await udpExchange(msg) : await ping(msg);
    } else reply = { error: `unknown op ${msg.op}` };
  } catch (e) { reply = { error: String(e?.message ?? e) }; }
  process.stdout.write(`${JSON.stringify({ id: msg.id, ...reply })}\n`);
});
rl.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
