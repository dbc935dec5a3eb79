/**
 * The small HTTP API that each antrea-ts process (controller, agent) serves on loopback for antctl and health checks:
 * GET-only JSON routes such as `/featuregates`, `/healthz` and `/readyz`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AntreaError, describeError } from './errors.js';
import type { Logger } from './log.js';
import { boundPort, listen } from './listen.js';

export type Route = () => unknown | Promise<unknown>;
/** A POST route: takes the parsed JSON body. An AntreaError answers 400 (404 for ERR_NOT_FOUND) with its code. */
export type PostRoute = (body: unknown) => unknown | Promise<unknown>;

const MAX_BODY = 1 << 20;

export interface ComponentServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ComponentServerOptions {
  routes: Readonly<Record<string, Route>>;
  /** Text routes (health checks answer `ok`). A route returning false answers 503. */
  checks?: Readonly<Record<string, () => boolean>>;
  post?: Readonly<Record<string, PostRoute>>;
  host?: string;
  port?: number;
  logger: Logger;
}

function handlePost(req: IncomingMessage, res: ServerResponse, route: PostRoute, logger: Logger): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let body: unknown;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `the body is not JSON: ${describeError(err)}`, code: 'ERR_BAD_REQUEST' }));
      return;
    }
    Promise.resolve()
      .then(() => route(body))
      .then(
        (out) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out)),
        (err: unknown) => {
          if (err instanceof AntreaError) {
            const code = err.code === 'ERR_NOT_FOUND' ? 404 : 400;
            res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message, code: err.code, ...(err.details.field ? { field: err.details.field } : {}) }));
            return;
          }
          logger.error('request failed', { path: req.url, error: describeError(err) });
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: describeError(err) }));
        },
      );
  });
}

export async function startComponentServer(opts: ComponentServerOptions): Promise<ComponentServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const post = opts.post?.[path];
    if (req.method === 'POST' && post) {
      handlePost(req, res, post, opts.logger);
      return;
    }
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
  await listen(server, { port: opts.port ?? 0, host });
  const port = boundPort(server);
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
