import type { Server } from 'node:net';

/**
 * Starts a server on a TCP port and host, or on a Unix socket path, and resolves once it listens. A failure to bind
 * (port in use, no permission) rejects instead of surfacing later as an unhandled 'error' event.
 */
export function listen(server: Server, where: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in where) server.listen(where.path, done);
    else server.listen(where.port, where.host, done);
  });
}

/** The TCP port a listening server got (the one asked for, or the one the kernel picked for port 0). */
export function boundPort(server: Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new TypeError('the server is not listening on a TCP port');
  return addr.port;
}
