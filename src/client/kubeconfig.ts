/**
 * Loading a kubeconfig for `HttpClient`: from a file, from KUBECONFIG / ~/.kube/config / the in-cluster service
 * account, or a given `KubeConfig`; or one made for a server URL (the local cluster on loopback).
 *
 * client-node 1.x refuses `http://` servers unless the cluster has `skipTLSVerify: true` ("HTTP protocol is not
 * allowed when skipTLSVerify is not set or false"). There is no TLS on plain HTTP to skip; the flag is only the
 * library's gate. We set it for loopback servers (our local cluster) and refuse plain HTTP anywhere else.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster } from '@kubernetes/client-node';
import { AntreaError, describeError } from '../util/errors.js';

export interface KubeConfigSource {
  /** A kubeconfig file path, or a loaded `KubeConfig` (adjusted in place for loopback HTTP). */
  kubeconfig?: string | KubeConfig;
  /** Context to use instead of the file's current context. */
  context?: string;
  /** Ignore kubeconfig files: talk to this server URL without credentials (e.g. `http://127.0.0.1:6443`). */
  server?: string;
}

export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
  let kc: KubeConfig;
  if (src.kubeconfig instanceof KubeConfig) {
    kc = src.kubeconfig;
  } else if (src.server) {
    kc = kubeConfigForServer(src.server);
  } else {
    kc = new KubeConfig();
    const file = typeof src.kubeconfig === 'string' ? src.kubeconfig : undefined;
    try {
      if (file) kc.loadFromFile(file);
      else if (process.env.KUBECONFIG) kc.loadFromDefault();
      else if (existsSync(join(homedir(), '.kube', 'config'))) kc.loadFromFile(join(homedir(), '.kube', 'config'));
      else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
      else {
        throw new AntreaError(
          'ERR_NO_KUBECONFIG',
          'no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a cluster',
        );
      }
    } catch (err) {
      if (err instanceof AntreaError) throw err;
      throw new AntreaError('ERR_KUBECONFIG', `cannot load kubeconfig${file ? ` ${file}` : ''}: ${kubeconfigLoadReason(err)}`, {
        ...(file ? { file } : {}),
        cause: err,
      });
    }
  }
  if (src.context) {
    if (!kc.getContextObject(src.context)) {
      throw new AntreaError('ERR_KUBECONFIG', `kubeconfig has no context "${src.context}"`, { field: 'context' });
    }
    kc.setCurrentContext(src.context);
  }
  return prepareCluster(kc, typeof src.kubeconfig === 'string' ? src.kubeconfig : undefined);
}

/**
 * Why client-node could not load a kubeconfig, in one line: a file-system reason in words, the first line of a YAML
 * error (js-yaml appends a source excerpt over several lines), and what an empty or non-mapping file means.
 */
function kubeconfigLoadReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const fsWords: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied', ENOTDIR: 'a part of the path is not a directory' };
  if (code && fsWords[code]) return fsWords[code];
  const message = describeError(err);
  // client-node reads fields of whatever the YAML held: an empty file or a scalar leaves it reading `undefined`.
  if (err instanceof TypeError && /Cannot read properties of (undefined|null)/.test(message)) return 'it is empty or not a kubeconfig (a YAML mapping with clusters, contexts and users)';
  if (/expected a single document/.test(message)) return 'it holds several YAML documents; a kubeconfig is one';
  if (/null byte is not allowed/.test(message)) return 'not a text file (it holds NUL bytes)';
  const first = (message.split('\n')[0] ?? message).trim();
  return /\(\d+:\d+\)$/.test(first) ? `malformed YAML: ${first}` : first;
}

/** A kubeconfig for one server URL and no credentials. */
export function kubeConfigForServer(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'antrea-local', server, skipTLSVerify: server.startsWith('http:') }, { name: 'antrea-local' });
  return prepareCluster(kc);
}

export function isLoopbackUrl(server: string): boolean {
  try {
    const host = new URL(server).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** The current cluster's server URL, without a trailing slash. */
export function serverUrl(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new AntreaError('ERR_KUBECONFIG', 'kubeconfig has no current cluster');
  return cluster.server.replace(/\/+$/, '');
}

/** Strips a trailing slash from the server URL; allows plain HTTP on loopback only. */
function prepareCluster(kc: KubeConfig, file?: string): KubeConfig {
  const cluster = kc.getCurrentCluster();
  const where = `kubeconfig${file ? ` ${file}` : ''}`;
  if (!cluster) {
    const ctx = kc.getCurrentContext();
    const why = !ctx ? 'no current-context is set' : !kc.getContextObject(ctx) ? `its current-context "${ctx}" is not among its contexts` : `the cluster of context "${ctx}" is not among its clusters`;
    throw new AntreaError('ERR_KUBECONFIG', `${where} has no current cluster: ${why}`, { field: 'current-context', ...(file ? { file } : {}) });
  }
  let url: URL | undefined;
  try {
    url = new URL(cluster.server);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AntreaError('ERR_KUBECONFIG', `${where}: cluster "${cluster.name}" has server ${JSON.stringify(cluster.server ?? '')}, which is not an http(s) URL`, {
      field: `clusters.${cluster.name}.server`,
      ...(file ? { file } : {}),
    });
  }
  let fixed: Cluster = cluster;
  if (cluster.server.endsWith('/')) fixed = { ...fixed, server: cluster.server.replace(/\/+$/, '') };
  if (fixed.server.startsWith('http:') && !fixed.skipTLSVerify) {
    if (!isLoopbackUrl(fixed.server)) {
      throw new AntreaError(
        'ERR_KUBECONFIG_INSECURE_HTTP',
        `cluster "${cluster.name}" uses plain HTTP (${fixed.server}) on a non-loopback address; use https, or set insecure-skip-tls-verify: true to accept it`,
        { field: `clusters.${cluster.name}.server` },
      );
    }
    fixed = { ...fixed, skipTLSVerify: true };
  }
  if (fixed !== cluster) kc.clusters = kc.clusters.map((c) => (c === cluster ? fixed : c));
  return kc;
}
