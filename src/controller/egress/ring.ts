/**
 * The consistent-hash ring Antrea 1.5's agents build per ExternalIPPool to pick the Node of each Egress IP
 * (`pkg/agent/memberlist/cluster.go`, groupcache's consistenthash): 50 virtual replicas per Node, CRC32 (IEEE) of
 * `<replica><node>`, and an IP owned by the first replica at or after CRC32(ip). Every party that knows the same
 * Nodes picks the same owner, and a Node joining or leaving moves only the IPs next to its replicas.
 */
export const RING_REPLICAS = 50;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as Go's crc32.ChecksumIEEE, of the UTF-8 bytes of `text`. */
export function crc32(text: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(text, 'utf8')) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class HashRing {
  readonly #hashes: number[] = [];
  readonly #owners = new Map<number, string>();

  constructor(nodes: Iterable<string>, replicas = RING_REPLICAS) {
    for (const node of nodes) {
      for (let i = 0; i < replicas; i++) {
        const h = crc32(`${i}${node}`);
        this.#hashes.push(h);
        // As groupcache: on a collision the later Node overwrites the earlier one.
        this.#owners.set(h, node);
      }
    }
    this.#hashes.sort((a, b) => a - b);
  }

  get empty(): boolean {
    return this.#hashes.length === 0;
  }

  /** The Node owning `key`; undefined on an empty ring. */
  get(key: string): string | undefined {
    if (this.#hashes.length === 0) return undefined;
    const h = crc32(key);
    let lo = 0;
    let hi = this.#hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#hashes[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners.get(this.#hashes[lo === this.#hashes.length ? 0 : lo] as number);
  }
}
