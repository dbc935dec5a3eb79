import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import fc from 'fast-check';
import { createStore } from './store.js';
import { startApiServer } from './http.js';
import { silentLogger } from '../util/log.js';

/** A raw request, so that malformed paths reach the server as they are. */
function raw(port: number, method: string, path: string, body: string, contentType: string): Promise<{ status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('bad input never crashes the server and never leaks a stack trace: every failure is a JSON Status', async (t) => {
  const store = createStore({ logger: silentLogger });
  const server = await startApiServer({ backend: store, logger: silentLogger });
  t.after(async () => {
    await server.close();
    await store.close();
  });
  const segment = fc.oneof(
    fc.constantFrom('api', 'apis', 'v1', 'namespaces', 'default', 'pods', 'nodes', 'status', 'discovery.k8s.io', 'endpointslices', 'configmaps', 'x', '%E0%A4%A', '..', '%2F'),
    fc.string({ maxLength: 6 }).map(encodeURIComponent),
  );
  const path = fc.tuple(fc.array(segment, { minLength: 0, maxLength: 6 }), fc.constantFrom('', '?watch=true&timeoutSeconds=0', '?labelSelector=a%20in%20(', '?fieldSelector=x%3D1', '?limit=-1', '?continue=%%%', '?resourceVersion=abc&watch=1', '?dryRun=All'))
    .map(([segs, q]) => `/${segs.join('/')}${q}`);
  const body = fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 40 }),
    fc.json({ maxDepth: 3 }),
    fc.constantFrom('{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}', '[{"op":"remove","path":"/x"}]', '{"metadata":null}', '{"metadata":{"name":7}}', 'null', '[]'),
  );
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
  const ctype = fc.constantFrom('application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'text/plain');
  await fc.assert(
    fc.asyncProperty(method, path, body, ctype, async (m, p, b, ct) => {
      const r = await raw(server.port, m, p, b, ct);
      assert.ok(!/\n\s+at .*\(.*:\d+:\d+\)/.test(r.text), `stack trace in ${m} ${p}: ${r.text}`);
      if (r.status >= 400) {
        assert.ok(r.status < 500, `${m} ${p} ${ct} ${b} -> ${r.status} ${r.text}`);
        const st = JSON.parse(r.text) as { kind: string; code: number };
        assert.equal(st.kind, 'Status');
        assert.equal(st.code, r.status);
      }
    }),
    { numRuns: 400 },
  );
  const health = await raw(server.port, 'GET', '/healthz', '', 'text/plain');
  assert.equal(health.text, 'ok');
});
