/** Routes Traceflow packet-ins to the agents of the Nodes they came from, whatever executor produced them. */
import type { TraceflowPacketIn } from '../nodedatapath.js';

type Listener = (p: TraceflowPacketIn) => void;

export class PacketInRouter {
  readonly #listeners = new Map<string, Set<Listener>>();

  subscribe(node: string, listener: Listener): () => void {
    let set = this.#listeners.get(node);
    if (!set) this.#listeners.set(node, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Each packet-in goes to the listeners of its own Node, as each bridge sends its own to its own agent. */
  emit(packetIns: readonly TraceflowPacketIn[]): void {
    for (const p of packetIns) for (const l of this.#listeners.get(p.node) ?? []) l(p);
  }
}
