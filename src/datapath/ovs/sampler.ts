/**
 * One OVS Node's live-traffic samplers: installs a Traceflow tag's sampling flows (sampling.ts), hands the packet-ins
 * those flows send (told apart from Reject's by their cookie) to the sampler of that tag, and removes the flows.
 *
 * A `once` sampler removes its flows on the first packet-in, before anything else runs: one packet is all a
 * live-traffic Traceflow needs, and packet-ins already in flight are ignored. Otherwise (droppedOnly, which must look
 * at packets until one is dropped) the flows stay until stop(); the controller's rate limit bounds the packet-ins.
 */
import { AntreaError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { OvsInstance } from './daemons.js';
import { OXM, oxmU32, oxmValue, type PacketIn } from './openflow.js';
import { SAMPLING_COOKIE_BASE, SAMPLING_COOKIE_MASK, parseSampledFrame, renderSamplingFlows, samplingCookie, samplingTagOf, type SampledHeaders, type SamplingSpec } from './sampling.js';

/** One sampled packet: its headers, the frame, and the metadata a trace of it needs. */
export interface SampledPacket {
  tag: number;
  inPort: number;
  /** Set when the packet came out of the tunnel. */
  tunnel?: { src: string; dst: string; id: bigint };
  headers: SampledHeaders;
  frame: Buffer;
}

export interface SampleOptions {
  once: boolean;
  /** Seconds after which OVS drops the flows by itself. */
  hardTimeout?: number;
}

interface Active {
  once: boolean;
  done: boolean;
  onPacket: (p: SampledPacket) => void;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export class Samplers {
  private readonly active = new Map<number, Active>();
  /**
   * ovs-ofctl calls in order: tags are reused, and a removal by exact cookie still running when the next Traceflow
   * with the same tag installs its flow must not delete the new flow.
   */
  private ops: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ovs: Pick<OvsInstance, 'ofctl' | 'ofctlPlain'>,
    private readonly bridge: string,
    private readonly log: Logger,
  ) {}

  /** Tags being sampled. */
  tags(): number[] {
    return [...this.active.keys()];
  }

  /** Installs the sampling flows of `tag`; resolves once OVS holds them. Returns the removal. */
  async start(spec: SamplingSpec, tag: number, opts: SampleOptions, onPacket: (p: SampledPacket) => void): Promise<() => Promise<void>> {
    if (this.active.has(tag)) throw new AntreaError('ERR_TRACEFLOW_TAG_BUSY', `Traceflow tag ${tag} is already sampling on this Node`, { field: 'tag' });
    const lines = renderSamplingFlows(spec, tag, opts.hardTimeout);
    const entry: Active = { once: opts.once, done: false, onPacket };
    this.active.set(tag, entry);
    try {
      await this.serial(() => this.ovs.ofctl('add-flows', this.bridge, ['-'], { input: `${lines.map((l) => `add ${l}`).join('\n')}\n` }));
    } catch (err) {
      this.active.delete(tag);
      throw err;
    }
    return () => this.stop(tag, entry);
  }

  private async stop(tag: number, entry: Active): Promise<void> {
    entry.done = true;
    // A sampler that is no longer the tag's active one has had its flows removed already (first packet), and the
    // tag's flows may now be another Traceflow's: they are not this stop's to delete.
    if (this.active.get(tag) !== entry) return;
    this.active.delete(tag);
    await this.removeFlows(hex(samplingCookie(tag)), '-1');
  }

  /** Removes every sampling flow on the bridge (left by a previous run: an agent restart must not keep them). */
  async removeAll(): Promise<void> {
    await this.removeFlows(hex(SAMPLING_COOKIE_BASE), hex(SAMPLING_COOKIE_MASK | (0xffffn << 48n)));
  }

  private async removeFlows(cookie: string, mask: string): Promise<void> {
    await this.serial(() => this.ovs.ofctlPlain('del-flows', this.bridge, [`cookie=${cookie}/${mask}`]));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.ops.then(fn);
    this.ops = next.catch(() => undefined);
    return next;
  }

  /** Takes a packet-in if a sampling flow sent it; returns false for everyone else's. */
  handle(p: PacketIn): boolean {
    const tag = samplingTagOf(p.cookie);
    if (tag === undefined) return false;
    const entry = this.active.get(tag);
    if (!entry || entry.done) return true;
    const headers = parseSampledFrame(p.data);
    const inPort = oxmU32(p.match, OXM.IN_PORT);
    if (!headers || inPort === undefined) {
      this.log.debug('sampled packet-in skipped: not an IPv4 frame with an in_port', { tag });
      return true;
    }
    if (entry.once) {
      entry.done = true;
      this.active.delete(tag);
      void this.removeFlows(hex(samplingCookie(tag)), '-1').catch((err: unknown) => this.log.warn('could not remove a sampling flow', { tag, error: String(err) }));
    }
    const s: SampledPacket = { tag, inPort, headers, frame: p.data };
    const tunSrc = oxmValue(p.match, OXM.TUN_IPV4_SRC);
    const tunDst = oxmValue(p.match, OXM.TUN_IPV4_DST);
    if (tunSrc?.length === 4 && tunDst?.length === 4) {
      const id = oxmValue(p.match, OXM.TUNNEL_ID);
      s.tunnel = { src: [...tunSrc].join('.'), dst: [...tunDst].join('.'), id: id?.length === 8 ? id.readBigUInt64BE(0) : 0n };
    }
    entry.onPacket(s);
    return true;
  }
}
