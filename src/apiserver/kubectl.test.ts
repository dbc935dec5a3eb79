/**
 * Real kubectl against the local API server: the wire protocol is right when kubectl says so. Skipped, with the
 * reason, when /usr/bin/kubectl is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from './store.js';
import { startApiServer } from './http.js';
import { silentLogger } from '../util/log.js';
import type { Pod } from '../apis/core.js';

const kubectlPath = process.env.KUBECTL ?? '/usr/bin/kubectl';
const skip = existsSync(kubectlPath) ? false : `kubectl not found at ${kubectlPath}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function setup(t: { after(fn: () => unknown): void }) {
  const store = createStore({ logger: silentLogger });
  const server = await startApiServer({ backend: store, logger: silentLogger });
  const home = mkdtempSync(join(tmpdir(), 'antrea-kubectl-'));
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      `    server: ${server.url}`,
      'contexts:',
      '- name: local',
      '  context: {cluster: local, user: local, namespace: default}',
      'current-context: local',
      'users:',
      '- name: local',
      '  user: {}',
      '',
    ].join('\n'),
  );
  t.after(async () => {
    await server.close();
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });
  const kubectl = (args: string[], stdin?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlPath,
        args,
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig }, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });
  const file = (name: string, text: string) => {
    const p = join(home, name);
    writeFileSync(p, text);
    return p;
  };
  /** Starts `kubectl get ... -w` and resolves with its stdout once `until` matches it (then stops kubectl). */
  const watchUntil = (args: string[], until: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(kubectlPath, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: kubeconfig } });
      let out = '';
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`kubectl ${args.join(' ')} never printed ${until}: ${out}`));
      }, 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (until.test(out)) {
          clearTimeout(timer);
          child.kill();
          resolve(out);
        }
      });
    });
  return { store, kubectl, file, watchUntil };
}

const podYaml = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  nodeName: node1
  containers:
  - name: nginx
    image: ${image}
    ports:
    - {name: http, containerPort: 80}
`;

function ok(r: Run, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
}

test('kubectl: get, create, get -o json, apply (create and update), label, delete', { skip }, async (t) => {
  const { kubectl, file } = await setup(t);
  assert.match(ok(await kubectl(['version']), 'version'), /Server Version: v1\.32\.0/);
  const empty = await kubectl(['get', 'pods', '-A']);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stderr, /No resources found/);

  assert.match(ok(await kubectl(['create', '-f', file('pod.yaml', podYaml('nginx'))]), 'create'), /pod\/web created/);
  const json = JSON.parse(ok(await kubectl(['get', 'pod', 'web', '-o', 'json']), 'get -o json')) as Pod;
  assert.equal(json.metadata.name, 'web');
  assert.equal(json.spec.nodeName, 'node1');
  assert.match(json.metadata.uid!, /^[0-9a-f-]{36}$/);

  const table = ok(await kubectl(['get', 'pods', '-A', '-o', 'wide']), 'get pods -A');
  assert.match(table, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
  assert.match(table, /default\s+web\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+node1/);

  // apply: creates what is missing, then patches what changed
  const svc = file('svc.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: http}]\n');
  assert.match(ok(await kubectl(['apply', '-f', svc]), 'apply create'), /service\/web created/);
  assert.match(ok(await kubectl(['apply', '-f', svc]), 'apply again'), /service\/web unchanged/);
  assert.match(ok(await kubectl(['apply', '-f', file('pod2.yaml', podYaml('nginx:1.27'))]), 'apply update'), /pod\/web configured/);
  const after = JSON.parse(ok(await kubectl(['get', 'pod', 'web', '-o', 'json']), 'get')) as Pod;
  assert.equal(after.spec.containers[0]!.image, 'nginx:1.27');
  assert.equal(after.spec.containers[0]!.ports![0]!.containerPort, 80, 'strategic merge kept the ports');
  assert.equal(after.metadata.generation, 2);

  ok(await kubectl(['label', 'pod', 'web', 'tier=fe']), 'label');
  assert.match(ok(await kubectl(['get', 'pods', '-l', 'tier=fe', '-o', 'name']), 'get -l'), /^pod\/web$/m);
  assert.match(ok(await kubectl(['get', 'pods', '--field-selector', 'spec.nodeName=node1', '-o', 'name']), 'field selector'), /pod\/web/);
  ok(await kubectl(['patch', 'pod', 'web', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","podIP":"10.10.1.5"}}']), 'patch status');
  assert.match(ok(await kubectl(['get', 'pod', 'web', '-o', 'wide']), 'get wide'), /Running\s+0\s+\S+\s+10\.10\.1\.5\s+node1/);

  assert.match(ok(await kubectl(['delete', 'pod', 'web']), 'delete'), /pod "web" deleted/);
  const gone = await kubectl(['get', 'pod', 'web']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /Error from server \(NotFound\): pods "web" not found/);
  ok(await kubectl(['delete', '-f', svc]), 'delete -f');
});

test('kubectl: server-side apply creates, api-resources lists the registry, errors print like a real server', { skip }, async (t) => {
  const { kubectl, file } = await setup(t);
  const cm = file('cm.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n');
  assert.match(ok(await kubectl(['apply', '--server-side', '-f', cm]), 'apply --server-side'), /configmap\/cfg serverside-applied/);
  const res = ok(await kubectl(['api-resources']), 'api-resources');
  assert.match(res, /pods\s+po\s+v1\s+true\s+Pod/);
  assert.match(res, /endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/);
  assert.match(res, /nodes\s+no\s+v1\s+false\s+Node/);
  const bad = await kubectl(['create', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, ports: [{containerPort: 99999}]}]}\n');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /The Pod "Bad_Name" is invalid/);
  assert.match(bad.stderr, /\* metadata\.name: Invalid value: "Bad_Name"/);
  assert.match(bad.stderr, /\* spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 99999/);
  const sel = await kubectl(['get', 'pods', '--field-selector', 'spec.bogus=1']);
  assert.match(sel.stderr, /field label not supported: spec\.bogus/);
  const unknown = await kubectl(['get', 'widgets']);
  assert.match(unknown.stderr, /the server doesn't have a resource type "widgets"/);
  const dup = await kubectl(['create', '-f', cm]);
  assert.match(dup.stderr, /AlreadyExists.*configmaps "cfg" already exists/);
});

test('kubectl get -w prints the rows of later changes', { skip }, async (t) => {
  const { kubectl, file, watchUntil, store } = await setup(t);
  ok(await kubectl(['create', '-f', file('pod.yaml', podYaml('nginx'))]), 'create');
  const watching = watchUntil(['get', 'pods', '-w', '-o', 'wide'], /web\s+0\/1\s+Running\s+0\s+\S+\s+10\.10\.1\.7/);
  // Change the Pod once kubectl has listed and started its watch (a store watcher exists).
  while (store.stats().watchers === 0) await new Promise((r) => setTimeout(r, 50));
  await store.patch({ group: '', version: 'v1', resource: 'pods' }, 'default', 'web', 'merge', { status: { phase: 'Running', podIP: '10.10.1.7' } }, { subresource: 'status' });
  const out = await watching;
  assert.match(out, /^NAME\s+READY\s+STATUS/m);
  assert.match(out, /web\s+0\/1\s+Pending/);
});
