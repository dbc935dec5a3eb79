/**
 * A Node's host network around br-int, as Antrea's agent and CNI build it, with the userspace-datapath recipe of
 * reference/ovs-tunnels.md:
 * - antrea-gw0 (OVS internal port, OF port 2) holds the gateway IP and MAC;
 * - encap: antrea-tun0 (OF port 1, geneve or vxlan, `remote_ip=flow key=flow`), and br-phy, a netdev bridge in
 *   NORMAL mode that holds the Node IP and the underlay veth, because OVS's native tunnels route through an OVS
 *   bridge that has an IP; peers' br-phy MACs are seeded with `tnl/neigh/set` so no first packet is lost;
 * - noEncap: the Node IP on the underlay veth and a route per peer Pod CIDR via the peer's Node IP;
 * - per Pod: a namespace behind a veth pair (TX checksum offload off on both ends), the requested OF port, the Pod's
 *   IP, MAC and default route via the gateway, and the accounting table (acct.ts).
 * Every step is idempotent (`--may-exist`, `ip ... replace`), so a restarted agent re-runs it over what exists.
 */
import { existsSync } from 'node:fs';
import type { NodeConfig, PeerNode, PodInterface } from '../types.js';
import { podKey } from '../types.js';
import { peerGatewayIP } from '../pipeline/stages/peer.js';
import { GATEWAY_OFPORT, TUNNEL_OFPORT } from '../pipeline/fields.js';
import { parseIpv4 } from '../net/addr.js';
import type { Logger } from '../../util/log.js';
import type { OvsInstance } from './daemons.js';
import { addNetns, delNetns, ipIn, sysctl, txOff } from './netns.js';
import { installAccounting } from './acct.js';
import { cidr4, ifName, ipv4, mac, ofPort } from './validate.js';

export const GATEWAY_IF = 'antrea-gw0';
export const TUNNEL_IF = 'antrea-tun0';
export const UNDERLAY_IF = 'ul0';
export const PHY_BRIDGE = 'br-phy';
/** Geneve and VXLAN over IPv4 add 50 bytes; Pods get the rest of the underlay's 1500 (as Antrea does). */
export const ENCAP_MTU = 1450;

export interface UnderlayPlan {
  /** Namespace holding the underlay Linux bridge `ul-br`. */
  netns: string;
  /** This Node's veth end inside the underlay namespace. */
  link: string;
  /** Prefix length of the Node network. */
  prefix: number;
}

/** The br-phy MAC of a Node, derived from its IP, so peers can seed it without asking. */
export function phyMac(nodeIP: string): string {
  const ip = parseIpv4(nodeIP);
  const b = [24, 16, 8, 0].map((s) => ((ip >>> s) & 0xff).toString(16).padStart(2, '0'));
  return `0e:${b.join(':')}:01`;
}

export interface PluggedPod {
  pod: PodInterface;
  netns: string;
}

export class HostNetwork {
  private cfg?: NodeConfig;
  private readonly pods = new Map<string, PluggedPod>();
  /** Peer name → routed Pod CIDR. */
  private readonly peers = new Map<string, string>();

  constructor(
    private readonly ovs: OvsInstance,
    readonly netns: string,
    private readonly underlay: UnderlayPlan,
    private readonly log: Logger,
  ) {}

  get mtu(): number {
    return this.cfg?.trafficEncapMode === 'encap' ? ENCAP_MTU : 1500;
  }

  async ensureBridge(bridge: string): Promise<void> {
    await this.ovs.vsctl(['--may-exist', 'add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev', 'protocols=OpenFlow15', 'fail_mode=secure']);
  }

  async configure(cfg: NodeConfig): Promise<void> {
    const nodeIP = ipv4(cfg.nodeIP, 'nodeIP');
    const gwIP = ipv4(cfg.gatewayIP, 'gatewayIP');
    const gwMAC = mac(cfg.gatewayMAC, 'gatewayMAC');
    const podCIDR = cidr4(cfg.podCIDR, 'podCIDR');
    const encap = cfg.trafficEncapMode === 'encap';
    const ns = this.netns;
    this.cfg = cfg;
    // With the userspace datapath the kernel still sees every frame on the OVS ports (AF_PACKET does not steal
    // them as the kernel module does). arp_ignore=1 stops the kernel from answering a Pod's ARP for the gateway
    // with the host-side veth's MAC (the Pod would then send each packet both to OVS and to the host, which
    // forwards a duplicate); no IPv6 keeps router solicitations off the bridges.
    await sysctl(ns, {
      'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.default.arp_ignore': '1',
      'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1',
    });
    // Underlay veth: created once, joined to the underlay bridge.
    if (!(await this.linkExists(UNDERLAY_IF))) {
      await ipIn(this.underlay.netns, ['link', 'add', ifName(this.underlay.link), 'type', 'veth', 'peer', 'name', UNDERLAY_IF, 'netns', ns]);
      await ipIn(this.underlay.netns, ['link', 'set', this.underlay.link, 'master', 'ul-br', 'up']);
      await sysctl(ns, { [`net.ipv4.conf.${UNDERLAY_IF}.arp_ignore`]: '1' });
      await ipIn(ns, ['link', 'set', UNDERLAY_IF, 'up']);
    }
    const nodeAddr = `${nodeIP}/${this.underlay.prefix}`;
    if (encap) {
      await ipIn(ns, ['addr', 'del', nodeAddr, 'dev', UNDERLAY_IF], [0, 1, 2]);
      await this.ovs.vsctl(['--may-exist', 'add-br', PHY_BRIDGE, '--', 'set', 'bridge', PHY_BRIDGE, 'datapath_type=netdev', `other_config:hwaddr="${phyMac(nodeIP)}"`,
        '--', '--may-exist', 'add-port', PHY_BRIDGE, UNDERLAY_IF]);
      await ipIn(ns, ['addr', 'replace', nodeAddr, 'dev', PHY_BRIDGE]);
      await ipIn(ns, ['link', 'set', PHY_BRIDGE, 'up']);
      await this.ovs.vsctl(['--may-exist', 'add-port', 'br-int', TUNNEL_IF, '--', 'set', 'interface', TUNNEL_IF, `type=${cfg.tunnelType === 'vxlan' ? 'vxlan' : 'geneve'}`,
        'options:remote_ip=flow', 'options:key=flow', `ofport_request=${TUNNEL_OFPORT}`]);
    } else {
      await this.ovs.vsctl(['--if-exists', 'del-port', 'br-int', TUNNEL_IF]);
      await this.ovs.vsctl(['--if-exists', 'del-br', PHY_BRIDGE]);
      await ipIn(ns, ['addr', 'replace', nodeAddr, 'dev', UNDERLAY_IF]);
    }
    await this.ovs.vsctl(['--may-exist', 'add-port', 'br-int', GATEWAY_IF, '--', 'set', 'interface', GATEWAY_IF, 'type=internal', `ofport_request=${GATEWAY_OFPORT}`, `mac="${gwMAC}"`]);
    await ipIn(ns, ['link', 'set', GATEWAY_IF, 'address', gwMAC, 'mtu', String(this.mtu), 'up']);
    await ipIn(ns, ['addr', 'replace', `${gwIP}/${podCIDR.split('/')[1]}`, 'dev', GATEWAY_IF]);
    await txOff(ns, GATEWAY_IF);
  }

  private async linkExists(name: string): Promise<boolean> {
    try {
      await ipIn(this.netns, ['link', 'show', name]);
      return true;
    } catch {
      return false;
    }
  }

  podNetnsName(pod: PodInterface): string {
    return `${this.netns}-p${ofPort(pod.ofPort)}`;
  }

  plugged(key: string): PluggedPod | undefined {
    return this.pods.get(key);
  }

  pluggedPods(): PluggedPod[] {
    return [...this.pods.values()];
  }

  async plugPod(pod: PodInterface): Promise<void> {
    const cfg = this.cfg;
    if (!cfg) throw new Error('plugPod before configure');
    const key = podKey(pod);
    const ifn = ifName(pod.interfaceName);
    const port = ofPort(pod.ofPort);
    const ip = ipv4(pod.ips[0] ?? '', 'ips[0]');
    const podMac = mac(pod.mac);
    const prev = this.pods.get(key);
    const same = (p: PodInterface) => p.interfaceName === pod.interfaceName && p.ofPort === pod.ofPort && p.mac === pod.mac && p.ips.join() === pod.ips.join();
    if (prev && same(prev.pod)) return;
    if (prev) await this.unplugPod(key);
    const podNs = this.podNetnsName(pod);
    // A restarted agent finds the namespace and port of the previous run: keep them (the Pod's sockets live there).
    if (existsSync(`/run/netns/${podNs}`) && (await this.ofportOf(ifn)) === port) {
      this.pods.set(key, { pod, netns: podNs });
      return;
    }
    await delNetns(podNs);
    await addNetns(podNs);
    const mtu = String(this.mtu);
    await ipIn(this.netns, ['link', 'del', ifn], [0, 1]);
    await ipIn(this.netns, ['link', 'add', ifn, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', mtu, 'netns', podNs]);
    await ipIn(podNs, ['link', 'set', 'eth0', 'address', podMac, 'up']);
    await ipIn(podNs, ['addr', 'add', `${ip}/${cfg.podCIDR.split('/')[1]}`, 'dev', 'eth0']);
    await ipIn(podNs, ['route', 'add', 'default', 'via', cfg.gatewayIP]);
    await txOff(podNs, 'eth0');
    await txOff(this.netns, ifn);
    await ipIn(this.netns, ['link', 'set', ifn, 'up']);
    await this.ovs.vsctl(['--may-exist', 'add-port', 'br-int', ifn, '--', 'set', 'interface', ifn, `ofport_request=${port}`]);
    await installAccounting(podNs);
    this.pods.set(key, { pod, netns: podNs });
    this.log.debug('pod plugged', { pod: key, netns: podNs, ofPort: port });
  }

  private async ofportOf(ifn: string): Promise<number | undefined> {
    try {
      const { stdout } = await this.ovs.vsctl(['--if-exists', 'get', 'interface', ifn, 'ofport']);
      const n = Number(stdout.trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  async unplugPod(key: string): Promise<void> {
    const p = this.pods.get(key);
    if (!p) return;
    this.pods.delete(key);
    await this.ovs.vsctl(['--if-exists', 'del-port', 'br-int', p.pod.interfaceName]);
    await delNetns(p.netns);
  }

  async addPeer(peer: PeerNode): Promise<void> {
    const cfg = this.cfg;
    if (!cfg) throw new Error('addPeer before configure');
    const cidr = cidr4(peer.podCIDR, 'podCIDR');
    const peerIP = ipv4(peer.nodeIP, 'nodeIP');
    const old = this.peers.get(peer.nodeName);
    if (old !== undefined && old !== cidr) await ipIn(this.netns, ['route', 'del', old], [0, 2]);
    this.peers.set(peer.nodeName, cidr);
    if (cfg.trafficEncapMode === 'encap') {
      await ipIn(this.netns, ['route', 'replace', cidr, 'via', ipv4(peerGatewayIP(peer), 'gatewayIP'), 'dev', GATEWAY_IF, 'onlink']);
      await this.ovs.appctl(['tnl/neigh/set', PHY_BRIDGE, peerIP, phyMac(peerIP)]);
    } else {
      await ipIn(this.netns, ['route', 'replace', cidr, 'via', peerIP, 'dev', UNDERLAY_IF]);
    }
  }

  async removePeer(name: string): Promise<void> {
    const cidr = this.peers.get(name);
    if (cidr === undefined) return;
    this.peers.delete(name);
    await ipIn(this.netns, ['route', 'del', cidr], [0, 2]);
  }
}
