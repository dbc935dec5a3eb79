/**
 * The Egress IPs a Node holds, as addresses of its host: Antrea puts them on the dummy device antrea-egress0 and
 * announces them with a gratuitous ARP. This kernel has no dummy driver, and in encap mode the Node IP lives on
 * br-phy (hostnet.ts), so each Egress IP goes there as a /32: the Node then answers ARP for it on the underlay,
 * replies from outside reach the host's conntrack (which un-SNATs them), and OVS's userspace tunnel terminates
 * what other Nodes tunnel to the IP (it treats the addresses of br-phy as its own tunnel endpoints).
 *
 * A gratuitous ARP, injected at br-phy's LOCAL port, tells hosts that cached the previous holder's MAC to move on
 * at once. Restart: `takeSnapshot()` records the /32s a previous run left; until `finishResync()` they are kept
 * even if the desired state has not named them yet, then the ones nobody claimed are removed.
 */
import { parseIpv4, parseMac } from '../net/addr.js';
import { AntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { OvsInstance } from './daemons.js';
import { run } from './exec.js';
import { PHY_BRIDGE, phyMac } from './hostnet.js';
import { ipIn } from './netns.js';
import { ipv4 } from './validate.js';

/** An Ethernet ARP request announcing `ip` at `mac` (sender and target IP both `ip`), padded to 60 bytes, as hex. */
export function gratuitousArp(ip: string, mac: string): string {
  const f = Buffer.alloc(60);
  const m = Buffer.alloc(6);
  m.writeUIntBE(parseMac(mac), 0, 6);
  f.fill(0xff, 0, 6);
  m.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16); // IPv4
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // request
  m.copy(f, 22);
  f.writeUInt32BE(parseIpv4(ipv4(ip, 'egressIP')), 28);
  f.writeUInt32BE(parseIpv4(ip), 38);
  return f.toString('hex');
}

/** The /32 addresses in `ip -j addr show` output: Egress IPs (the Node IP has the Node network's prefix). */
export function parseHostAddresses(json: string): string[] {
  const links = JSON.parse(json) as Array<{ addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }>;
  const out: string[] = [];
  for (const l of links) for (const a of l.addr_info ?? []) if (a.family === 'inet' && a.prefixlen === 32 && a.local) out.push(a.local);
  return out;
}

export class EgressAddresses {
  /** The Egress IPs on the device, as this run put them there (or found them, after a restart). */
  private readonly held = new Set<string>();
  private snapshot?: Set<string>;

  constructor(
    private readonly ovs: OvsInstance,
    private readonly netns: string,
    private readonly log: Logger,
  ) {}

  /** Restart: the Egress IPs a previous run left on br-phy. */
  async takeSnapshot(): Promise<void> {
    const { stdout, code } = await run('ip', ['-j', '-4', 'addr', 'show', 'dev', PHY_BRIDGE], { netns: this.netns, okCodes: [0, 1] });
    this.snapshot = new Set(code === 0 && stdout.trim() ? parseHostAddresses(stdout) : []);
    for (const ip of this.snapshot) this.held.add(ip);
  }

  /** Makes the Node hold exactly `want` (plus, during a resync, what the previous run left). */
  async sync(want: Iterable<string>, nodeIP: string): Promise<void> {
    const target = new Set([...want].map((ip) => ipv4(ip, 'egressIP')));
    if (target.has(nodeIP)) throw new AntreaError('ERR_DATAPATH_INVALID', `Egress IP ${nodeIP} is the Node's own IP`, { field: 'egressIP' });
    for (const ip of [...this.held]) {
      if (target.has(ip) || this.snapshot?.has(ip)) continue;
      await ipIn(this.netns, ['addr', 'del', `${ip}/32`, 'dev', PHY_BRIDGE], [0, 2]);
      this.held.delete(ip);
      this.log.info('Egress IP released', { egressIP: ip });
    }
    for (const ip of target) {
      this.snapshot?.delete(ip);
      if (this.held.has(ip)) continue;
      await ipIn(this.netns, ['addr', 'replace', `${ip}/32`, 'dev', PHY_BRIDGE]);
      this.held.add(ip);
      await this.announce(ip, nodeIP);
      this.log.info('Egress IP assigned', { egressIP: ip });
    }
  }

  /** Ends a restart: removes the Egress IPs the previous run held that the desired state did not claim. */
  async finishResync(want: Iterable<string>, nodeIP: string): Promise<number> {
    const stale = [...(this.snapshot ?? [])];
    this.snapshot = undefined;
    if (stale.length) await this.sync(want, nodeIP);
    return stale.length;
  }

  private async announce(ip: string, nodeIP: string): Promise<void> {
    try {
      await this.ovs.ofctlPlain('packet-out', PHY_BRIDGE, [`in_port=LOCAL,packet=${gratuitousArp(ip, phyMac(nodeIP))},actions=NORMAL`]);
    } catch (err) {
      // Hosts still learn the new holder when their ARP entry expires; the IP works here either way.
      this.log.warn('could not send a gratuitous ARP for the Egress IP', { egressIP: ip, error: String(err) });
    }
  }
}
