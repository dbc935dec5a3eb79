/**
 * The informer conformance suite over both clients and the real API machinery:
 * - InProcessClient on the real store (faults injected by a FaultyBackend wrapper);
 * - HttpClient, through @kubernetes/client-node, against the real HTTP server on 127.0.0.1 (faults injected by a TCP
 *   proxy in between: connections killed mid-watch, new connections refused).
 */
import type { TestContext } from 'node:test';
import { startApiServer } from '../../src/apiserver/http.js';
import { createStore } from '../../src/apiserver/store.js';
import { apiClientConformance } from '../../src/client/api-conformance.js';
import { informerConformance } from '../../src/client/conformance.js';
import type { InformerHarness } from '../../src/client/conformance.js';
import { FaultyBackend, TcpProxy } from '../../src/client/faults.js';
import { HttpClient } from '../../src/client/http.js';
import { InProcessClient } from '../../src/client/inprocess.js';
import { silentLogger } from '../../src/util/log.js';

function newStore(t: TestContext, opts: { historySize: number; bookmarkIntervalMs: number }) {
  const store = createStore({ logger: silentLogger, ...opts });
  t.after(() => store.close());
  return store;
}

informerConformance('in-process client on the real store', async (t, opts): Promise<InformerHarness> => {
  const store = newStore(t, opts);
  const faulty = new FaultyBackend(store);
  const client = new InProcessClient(faulty);
  const writer = new InProcessClient(store);
  t.after(() => client.close());
  return {
    client,
    writer,
    breakWatches: () => faulty.breakWatches(),
    setBlocked: (b) => faulty.setBlocked(b),
    attempts: () => faulty.requests,
  };
});

informerConformance('HttpClient (client-node) against the real HTTP server', async (t, opts): Promise<InformerHarness> => {
  const store = newStore(t, opts);
  const server = await startApiServer({ backend: store, host: '127.0.0.1', port: 0, logger: silentLogger });
  const proxy = await TcpProxy.start('127.0.0.1', server.port);
  const client = new HttpClient({ server: proxy.url });
  const writer = new HttpClient({ server: server.url });
  t.after(async () => {
    await Promise.all([client.close(), writer.close()]);
    await proxy.close();
    await server.close();
  });
  return {
    client,
    writer,
    breakWatches: () => proxy.killConnections(),
    setBlocked: (b) => proxy.setBlocked(b),
    attempts: () => proxy.connections,
  };
});

apiClientConformance('in-process client on the real store', async (t) => {
  const client = new InProcessClient(newStore(t, { historySize: 1000, bookmarkIntervalMs: 0 }));
  t.after(() => client.close());
  return client;
});

apiClientConformance('HttpClient (client-node) against the real HTTP server', async (t) => {
  const store = newStore(t, { historySize: 1000, bookmarkIntervalMs: 0 });
  const server = await startApiServer({ backend: store, host: '127.0.0.1', port: 0, logger: silentLogger });
  const client = new HttpClient({ server: server.url });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return client;
});
