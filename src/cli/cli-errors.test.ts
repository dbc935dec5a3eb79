/**
 * The CLIs' contract for bad input, pinned for every command: one `error: ` line on stderr that names the flag,
 * argument or file and says why, exit 2 for usage errors and unreadable input (1 when the operation itself failed),
 * and never a stack trace. Nothing here needs a running cluster: a "cluster" is a kubeconfig pointing at a closed
 * loopback port.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { antctl } from './antctl.js';
import { antrea } from './antrea.js';
import { antreaAgent } from './antrea-agent.js';
import { antreaController } from './antrea-controller.js';
import { capture } from './testing.js';
import type { CliIO } from './io.js';

type Cli = (argv: string[], io: CliIO) => Promise<number>;

let dir: string;
let home: string;
let closedPort: number;
/** A loopback web server that is not a Kubernetes API: it answers every request with HTML. */
let notApi: Server;

const kubeconfig = (server: string, context = 'c') =>
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${JSON.stringify(server)}`,
    'contexts:',
    '- name: c',
    '  context: {cluster: c, user: u}',
    `current-context: ${context}`,
    'users:',
    '- name: u',
    '  user: {}',
    '',
  ].join('\n');

/** A loopback port nothing listens on: bound once to learn a free number, then closed. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'antrea-cli-errors-'));
  home = join(dir, 'home');
  mkdirSync(home);
  closedPort = await freePort();
  notApi = createHttpServer((_req, res) => res.end('<html>hello</html>'));
  await new Promise<void>((r) => notApi.listen(0, '127.0.0.1', r));
  const notApiPort = (notApi.address() as { port: number }).port;
  const files: Record<string, string | Buffer> = {
    'empty.yaml': '',
    'garbage.yaml': '{{{ not yaml\n',
    'binary.yaml': Buffer.from([0, 1, 2, 0xff, 0xfe]),
    'list.yaml': '- a\n- b\n',
    'scalar.yaml': 'hello\n',
    'multi.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a1\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a2\n---\napiVersion: v1\nkind: Namespace\nmetadata: [\n',
    'noname.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {}\n',
    'widget.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: made-by-a-failed-apply\n---\napiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n',
    'closed.kc': kubeconfig(`http://127.0.0.1:${closedPort}`),
    'notapi.kc': kubeconfig(`http://127.0.0.1:${notApiPort}`),
    'badurl.kc': kubeconfig('not a url'),
    'badctx.kc': kubeconfig(`http://127.0.0.1:${closedPort}`, 'missing'),
    'statefile': 'a file, not a directory\n',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  mkdirSync(join(dir, 'dir.yaml'));
  copyFileSync(join(process.cwd(), 'build/yamls/antrea.yml'), join(dir, 'manifest.yml'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise<void>((r) => notApi.close(() => r()));
});

const run = (cli: Cli, argv: string[]) => capture(cli, argv, { cwd: dir, env: { HOME: home } });

function assertOneErrorLine(r: { code: number; stderr: string }, code: number, pattern: RegExp, label: string): void {
  assert.equal(r.code, code, `${label}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${label}: a stack trace`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${label}: one line, not ${lines.length}: ${r.stderr}`);
  assert.match(lines[0] ?? '', /^error: /, label);
  assert.match(lines[0] ?? '', pattern, label);
}

// [cli, argv, exit code, what the line must say]
const cases: [string, Cli, string[], number, RegExp][] = [
  // Commands and flags: the mistyped one is named and the right one suggested.
  ['antctl', antctl, ['featurgates', 'list'], 2, /unknown command "featurgates" \(did you mean "featuregates"\?\)/],
  ['antctl', antctl, ['bogus'], 2, /unknown command "bogus" \(one of featuregates, get, traceflow, flows, version\)/],
  ['antctl', antctl, ['featuregates'], 2, /featuregates command: missing command \(one of list, check, set\)/],
  ['antctl', antctl, ['featuregates', 'lst'], 2, /did you mean "list"/],
  ['antctl', antctl, ['get', 'networkpolicystat'], 2, /unknown resource for get "networkpolicystat" \(did you mean "networkpolicystats"\?\)/],
  ['antctl', antctl, ['featuregates', 'list', '--relase', 'v1.5.0'], 2, /unknown flag --relase \(did you mean --release\?\)/],
  ['antctl', antctl, ['featuregates', 'list', '--zzz'], 2, /unknown flag --zzz \(flags: --release, -o\/--output\)/],
  ['antctl', antctl, ['featuregates', 'list', '-o'], 2, /-o\/--output needs a value/],
  ['antctl', antctl, ['featuregates', 'list', 'extra'], 2, /unexpected argument "extra"/],
  ['antctl', antctl, ['version', 'extra'], 2, /unexpected argument "extra": version takes no arguments/],
  ['antctl', antctl, ['flows', 'collect', '--listen', '127.0.0.1:0', '--count', '-1'], 2, /--count needs a value; a value that starts with "-" is written --count=VALUE/],
  ['antctl', antctl, ['flows', 'collect', '--listen', '127.0.0.1:0', '--count', '99999999999999999999'], 2, /--count must be a positive integer/],
  ['antctl', antctl, ['flows', 'collect'], 2, /--listen HOST:PORT is required/],
  ['antctl', antctl, ['traceflow', '-S', 'p', '-D', 'q', '-t'], 2, /-t\/--timeout needs a value/],
  ['antctl', antctl, ['traceflow', '-S', 'p', '-D', 'q', '--nowait=yes'], 2, /--nowait is a switch and takes no value/],
  ['antctl', antctl, ['traceflow', '-D', 'q'], 2, /please provide a source/],
  ['antctl', antctl, ['traceflow', '-S', 'Bad_NS/pod', '-D', 'q'], 2, /source "Bad_NS\/pod": "Bad_NS" is not a Namespace name/],
  ['antctl', antctl, ['featuregates', 'check', 'binary.yaml'], 2, /cannot read binary\.yaml: not a text file/],
  ['antrea-agent', antreaAgent, ['--datapath', 'sim', '--config', 'binary.yaml'], 2, /binary\.yaml: not a text file/],
  // Files: missing, a directory, garbage; the manifest editor's input.
  ['antctl', antctl, ['featuregates', 'check'], 2, /featuregates check needs a MANIFEST file/],
  ['antctl', antctl, ['featuregates', 'check', 'a.yml', 'b.yml'], 2, /unexpected argument "b\.yml"/],
  ['antctl', antctl, ['featuregates', 'check', 'dir.yaml'], 2, /cannot read dir\.yaml: it is a directory/],
  ['antctl', antctl, ['featuregates', 'set', 'manifest.yml'], 2, /needs a MANIFEST and Name=bool pairs after "manifest\.yml"/],
  ['antctl', antctl, ['featuregates', 'set', 'manifest.yml', 'Egress=true', 'Traceflow=true'], 2, /unexpected argument "Traceflow=true": give several gates as one comma-separated argument/],
  ['antctl', antctl, ['featuregates', 'set', 'manifest.yml', '=true'], 2, /missing gate name before "=true"/],
  ['antctl', antctl, ['get', 'featuregates', '--manifest', 'nope.yml'], 2, /cannot read .*nope\.yml: no such file/],
  ['antctl', antctl, ['get', 'featuregates', '--manifest', 'manifest.yml', '--kubeconfig', 'closed.kc'], 2, /give --manifest FILE or --kubeconfig FILE, not both/],
  ['antrea', antrea, ['local', 'get', 'pods', '-n', 'demo', '-A', '--kubeconfig', 'closed.kc'], 2, /-n and -A cannot be used together/],
  ['antrea', antrea, ['local', 'get', 'pods', 'web', '-A', '--kubeconfig', 'closed.kc'], 2, /cannot be retrieved by NAME across all namespaces/],
  ['antctl', antctl, ['get', 'networkpolicystats', 'np', '-A', '--kubeconfig', 'closed.kc'], 2, /cannot be retrieved by NAME across all namespaces/],
  // Kubeconfigs: unreadable input is exit 2 and one line; an unreachable server is exit 1 and says where.
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'nope.kc'], 2, /cannot load kubeconfig .*nope\.kc: no such file$/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'dir.yaml'], 2, /cannot load kubeconfig .*dir\.yaml: it is a directory$/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'garbage.yaml'], 2, /cannot load kubeconfig .*garbage\.yaml: malformed YAML: /],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'empty.yaml'], 2, /cannot load kubeconfig .*empty\.yaml: it is empty or not a kubeconfig/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'binary.yaml'], 2, /binary\.yaml: not a text file/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'manifest.yml'], 2, /manifest\.yml: it holds several YAML documents; a kubeconfig is one/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'badurl.kc'], 2, /cluster "c" has server "not a url", which is not an http\(s\) URL/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'badctx.kc'], 2, /has no current cluster: its current-context "missing" is not among its contexts/],
  ['antctl', antctl, ['get', 'featuregates', '--kubeconfig', 'closed.kc'], 1, /cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/],
  ['antctl', antctl, ['get', 'networkpolicystats', '-n', 'Bad/NS', '--kubeconfig', 'closed.kc'], 2, /-n "Bad\/NS" is not a Namespace name/],
  ['antctl', antctl, ['get', 'networkpolicystats', '../x', '--kubeconfig', 'closed.kc'], 2, /NAME "\.\.\/x" is not an object name/],
  // antrea local: every flag checked before a cluster is looked for or started.
  ['antrea', antrea, ['loacl', 'up'], 2, /unknown command "loacl" \(did you mean "local"\?\)/],
  ['antrea', antrea, ['local'], 2, /local command: missing command \(one of up, apply, get, delete, traffic, status\)/],
  ['antrea', antrea, ['local', 'up', '--port', '-1'], 2, /--port needs a value; a value that starts with "-" is written --port=VALUE/],
  ['antrea', antrea, ['local', 'up', '--port', '0x50'], 2, /--port must be a port number \(0\.\.65535\), not "0x50"/],
  ['antrea', antrea, ['local', 'up', '--nodes', '1e2'], 2, /--nodes must be a positive number, not "1e2"/],
  ['antrea', antrea, ['local', 'up', '--state', 'statefile'], 2, /--state .*statefile: cannot be used as the state directory: it exists and is not a directory/],
  ['antrea', antrea, ['local', 'up', '--state', 'statefile/sub'], 2, /--state .*statefile\/sub: cannot be used as the state directory: a part of the path is not a directory/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-manifest', '--manifest', 'dir.yaml'], 2, /--manifest dir\.yaml: cannot read: it is a directory/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-apply', '--apply', 'nope.yaml'], 2, /--apply nope\.yaml: cannot read: no such file or directory/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-apply', '--apply', 'multi.yaml'], 2, /multi\.yaml:\d+: document 3: malformed YAML/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-flows', '--flows', 'no/such/dir/flows.json'], 2, /--flows no\/such\/dir\/flows\.json: cannot open for appending: no such file or directory/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-gates', '--port', '0', '--feature-gates', 'Foo=true'], 1, /the antrea configuration is not valid: .*featureGates\.Foo: unrecognized feature gate: Foo$/],
  ['antrea', antrea, ['local', 'up', '--state', 'st-nodes', '--port', '0', '--nodes', '100000'], 2, /--nodes must be between 1 and \d+, not 100000/],
  ['antrea', antrea, ['local', 'apply'], 2, /local apply needs -f FILE/],
  ['antrea', antrea, ['local', 'apply', '-f', 'list.yaml'], 2, /list\.yaml: expected an object with apiVersion, kind and metadata\.name, not a list/],
  ['antrea', antrea, ['local', 'apply', '-f', 'scalar.yaml'], 2, /scalar\.yaml: expected an object .*, not a string/],
  ['antrea', antrea, ['local', 'apply', '-f', 'empty.yaml'], 2, /empty\.yaml: no objects to apply/],
  ['antrea', antrea, ['local', 'apply', '-f', 'binary.yaml'], 2, /-f binary\.yaml: not a text file/],
  ['antrea', antrea, ['local', 'apply', '-f', 'noname.yaml'], 2, /noname\.yaml: missing metadata\.name/],
  ['antrea', antrea, ['local', 'get'], 2, /local get needs a KIND/],
  ['antrea', antrea, ['local', 'get', 'pods', '--kubeconfig', 'closed.kc'], 1, /^error: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/],
  ['antrea', antrea, ['local', 'get', 'pods', '--kubeconfig', 'notapi.kc'], 1, /answered 200 with something that is not JSON: is the kubeconfig's server a Kubernetes API\?/],
  ['antrea', antrea, ['local', 'get', 'pods', '', '--kubeconfig', 'closed.kc'], 2, /NAME must not be an empty string/],
  ['antrea', antrea, ['local', 'get', 'pods', '-n', '', '--kubeconfig', 'closed.kc'], 2, /-n needs a Namespace name, not an empty string/],
  ['antrea', antrea, ['local', 'delete', 'pods'], 2, /local delete needs a KIND and a NAME after "pods"/],
  ['antrea', antrea, ['local', 'delete', 'pods', 'a/b', '--kubeconfig', 'closed.kc'], 2, /NAME "a\/b" is not an object name/],
  ['antrea', antrea, ['local', 'traffic', 'a'], 2, /local traffic needs FROM and TO .*; got only "a"/],
  ['antrea', antrea, ['local', 'traffic', 'a', 'b', '--connections', '0'], 2, /--connections must be a positive number, not "0"/],
  ['antrea', antrea, ['local', 'traffic', 'a', 'b', '--connections', '-1'], 2, /--connections needs a value/],
  ['antrea', antrea, ['local', 'traffic', 'a', 'b', '--port', '70000'], 2, /--port must be at most 65535/],
  ['antrea', antrea, ['local', 'traffic', 'a', 'b', '--proto', 'icmp', '--port', '80'], 2, /--port does not apply to --proto icmp/],
  ['antrea', antrea, ['local', 'traffic', 'ns/a', 'b', '--via', 'node-1'], 2, /--via applies only when FROM is an IP outside the cluster/],
  ['antrea', antrea, ['local', 'status', 'extra'], 2, /unexpected argument "extra": local status takes only flags/],
  ['antrea', antrea, ['local', 'status', '--state', 'nowhere'], 1, /no local cluster is running with state directory/],
  // The processes: their conf files are input like any other.
  ['antrea-agent', antreaAgent, ['extra'], 2, /unexpected argument "extra": antrea-agent takes only flags/],
  ['antrea-agent', antreaAgent, ['--datapath', 'sim', '--config', 'nope.conf'], 2, /^error: cannot read \S*nope\.conf: no such file$/],
  ['antrea-agent', antreaAgent, ['--datapath', 'sim', '--config', 'garbage.yaml'], 2, /garbage\.yaml:\d+: malformed YAML/],
  ['antrea-agent', antreaAgent, ['--datapath', 'sim', '--config', 'manifest.yml'], 2, /more than one YAML document \(a "---" line\); this file must hold one/],
  ['antrea-agent', antreaAgent, ['--datapath', 'sim', '--config', 'empty.yaml', '--kubeconfig', 'dir.yaml'], 2, /cannot load kubeconfig \S*dir\.yaml: it is a directory/],
  ['antrea-controller', antreaController, ['--config', 'dir.yaml'], 2, /^error: cannot read \S*dir\.yaml: it is a directory$/],
  ['antrea-controller', antreaController, ['--config', 'empty.yaml', '-v'], 2, /-v\/--log-level needs a value/],
  ['antrea-controller', antreaController, ['--config', 'empty.yaml', '--kubeconfig', 'badurl.kc'], 2, /not an http\(s\) URL/],
];

describe('bad input: one error line naming what and why, the right exit code, no stack trace', () => {
  for (const [name, cli, argv, code, pattern] of cases) {
    test(`${name} ${argv.map((a) => (a === '' ? "''" : a)).join(' ')}`, async () => {
      assertOneErrorLine(await run(cli, argv), code, pattern, `${name} ${argv.join(' ')}`);
    });
  }
});

test('a state directory that failed a check is left without a lock or control file', async () => {
  const r = await run(antrea, ['local', 'up', '--state', 'st-checked', '--apply', 'nope.yaml']);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'st-checked')), [], 'nothing started, nothing left');
});

test('--help on every command prints its usage on stdout and exits 0', async () => {
  const helps: [Cli, string[], RegExp][] = [
    [antctl, ['--help'], /^usage: antctl COMMAND/],
    [antctl, ['featuregates', '--help'], /^usage: antctl COMMAND/],
    [antctl, ['featuregates', 'list', '--help'], /^usage: antctl featuregates list/],
    [antctl, ['featuregates', 'check', '-h'], /^usage: antctl featuregates check/],
    [antctl, ['featuregates', 'set', '--help'], /^usage: antctl featuregates set/],
    [antctl, ['get', 'featuregates', '--help'], /^usage: antctl get featuregates/],
    [antctl, ['get', 'networkpolicystats', '--help'], /^usage: antctl get networkpolicystats/],
    [antctl, ['traceflow', '--help'], /^usage: antctl traceflow/],
    [antctl, ['flows', 'collect', '--help'], /^usage: antctl flows collect/],
    [antctl, ['version', '--help'], /^usage: antctl version/],
    [antrea, ['local', '--help'], /^usage: antrea local COMMAND/],
    [antrea, ['local', 'up', '--help'], /^usage: antrea local COMMAND/],
    [antrea, ['local', 'traffic', '-h'], /^usage: antrea local COMMAND/],
    [antreaAgent, ['--help'], /^usage: antrea-agent/],
    [antreaController, ['-h'], /^usage: antrea-controller/],
  ];
  for (const [cli, argv, pattern] of helps) {
    const r = await run(cli, argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '', argv.join(' '));
    assert.match(r.stdout, pattern, argv.join(' '));
  }
});

test('featuregates set writes through a symlink and keeps the file mode', async () => {
  const real = join(dir, 'real-manifest.yml');
  copyFileSync(join(dir, 'manifest.yml'), real);
  chmodSync(real, 0o600);
  symlinkSync(real, join(dir, 'link.yml'));
  const r = await run(antctl, ['featuregates', 'set', 'link.yml', 'Egress=true']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(join(dir, 'link.yml')).isSymbolicLink(), 'the link is still a link');
  assert.match(readFileSync(real, 'utf8'), /^\s+Egress: true$/m, 'the target was edited');
  assert.equal(statSync(real).mode & 0o777, 0o600, 'the mode was kept');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.antctl-')), [], 'no temporary file left');
});

test('antrea local up stops the cluster it started when --apply then fails, and leaves the state unlocked', async () => {
  const state = join(dir, 'st-widget');
  const r = await capture(antrea, ['local', 'up', '--state', state, '--port', '0', '--nodes', '1', '--apply', 'widget.yaml'], { cwd: dir, env: { HOME: home } });
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.deepEqual(errors, ['error: no matches for kind "Widget" in version "v1"']);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(r.stdout, /stopping antrea local/);
  assert.equal(existsSync(join(state, 'lock')), false, 'the lock is released');
  assert.equal(existsSync(join(state, 'control.json')), false, 'no control file names a dead endpoint');
  assert.doesNotMatch(r.stdout, /made-by-a-failed-apply/, 'an unknown kind anywhere in the file creates nothing');
});
