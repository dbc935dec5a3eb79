/**
 * The Pod annotation NodePortLocal publishes for external load balancers, in Antrea 1.5's format:
 * `nodeportlocal.antrea.io: [{"podPort":8080,"nodeIP":"192.168.77.11","nodePort":61000,"protocols":["tcp"]}]`.
 * At 1.5 there is one entry per Node port, and `protocols` lists every protocol mapped on it, lowercased (one Node
 * port serves a Pod port for TCP and UDP alike). The single `protocol` field came later (1.7); the decoder reads
 * it too, so an annotation written by a newer agent still restores.
 */
import { AntreaError } from '../../util/errors.js';

/** The Pod annotation holding the mappings. */
export const NPL_ANNOTATION_KEY = 'nodeportlocal.antrea.io';
/** The Service annotation that turns NodePortLocal on for the Service's backend Pods. */
export const NPL_ENABLED_ANNOTATION_KEY = 'nodeportlocal.antrea.io/enabled';

export type NplProtocol = 'tcp' | 'udp';

export interface NplAnnotationEntry {
  podPort: number;
  nodeIP: string;
  nodePort: number;
  /** Lowercased, sorted, without duplicates. */
  protocols: NplProtocol[];
}

const isProtocol = (v: unknown): v is NplProtocol => v === 'tcp' || v === 'udp';
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 65535;

/** Canonical order: by Node port, protocols sorted, so that two annotations compare as sets. */
export function normalizeEntries(entries: readonly NplAnnotationEntry[]): NplAnnotationEntry[] {
  return entries
    .map((e) => ({ podPort: e.podPort, nodeIP: e.nodeIP, nodePort: e.nodePort, protocols: [...new Set(e.protocols)].sort() }))
    .sort((a, b) => a.nodePort - b.nodePort || a.podPort - b.podPort);
}

/** The annotation's value; undefined when there is nothing to publish (the annotation is then removed). */
export function encodeAnnotation(entries: readonly NplAnnotationEntry[]): string | undefined {
  if (entries.length === 0) return undefined;
  return JSON.stringify(normalizeEntries(entries));
}

/**
 * Parses an annotation value. Malformed entries are dropped and reported (the controller rewrites the annotation
 * from what it holds); a value that is not a JSON list throws ERR_NPL_INVALID_ANNOTATION.
 */
export function decodeAnnotation(text: string): { entries: NplAnnotationEntry[]; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AntreaError('ERR_NPL_INVALID_ANNOTATION', `the ${NPL_ANNOTATION_KEY} annotation is not JSON: ${(err as Error).message}`, { field: NPL_ANNOTATION_KEY });
  }
  if (!Array.isArray(raw)) throw new AntreaError('ERR_NPL_INVALID_ANNOTATION', `the ${NPL_ANNOTATION_KEY} annotation is not a JSON list`, { field: NPL_ANNOTATION_KEY });
  const entries: NplAnnotationEntry[] = [];
  const problems: string[] = [];
  raw.forEach((item: unknown, i) => {
    const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const listed = Array.isArray(o.protocols) ? o.protocols.map((p) => (typeof p === 'string' ? p.toLowerCase() : p)) : [];
    const single = typeof o.protocol === 'string' ? [o.protocol.toLowerCase()] : [];
    const protocols = [...listed, ...single];
    if (!isPort(o.podPort) || !isPort(o.nodePort) || typeof o.nodeIP !== 'string' || protocols.length === 0 || !protocols.every(isProtocol)) {
      problems.push(`entry ${i} is not {podPort, nodeIP, nodePort, protocols: tcp|udp}: ${JSON.stringify(item)}`);
      return;
    }
    entries.push({ podPort: o.podPort, nodeIP: o.nodeIP, nodePort: o.nodePort, protocols: protocols as NplProtocol[] });
  });
  return { entries: normalizeEntries(entries), problems };
}

/** Unordered comparison, as Antrea compares annotation lists before it patches. */
export function sameEntries(a: readonly NplAnnotationEntry[], b: readonly NplAnnotationEntry[]): boolean {
  return JSON.stringify(normalizeEntries(a)) === JSON.stringify(normalizeEntries(b));
}
