/**
 * The small HTTP API that each antrea-ts process (controller, agent) serves on loopback for antctl and health checks:
 * GET-only JSON routes such as `/featuregates`, `/healthz` and `/readyz`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from './errors.js';
import type { Logger } from './log.js';

export type Route = () => unknown | Promise<unknown>;

export interface ComponentServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ComponentServerOptions {
  routes: Readonly<Record<string, Route>>;
  /** Text routes (health checks answer `ok`). A route returning false answers 503. */
  checks?: Readonly<Record<string, () => boolean>>;
  host?: string;
  port?: number;
  logger: Logger;
}

export async function startComponentServer(opts: ComponentServerOptions): Promise<ComponentServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const check = opts.checks?.[path];
    if (check) {
      const ok = check();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
      return;
    }
    const route = opts.routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${path}` }));
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        (err: unknown) => {
          opts.logger.error('request failed', { path, error: describeError(err) });
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: describeError(err) }));
        },
      );
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
