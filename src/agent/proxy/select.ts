/**
 * Which endpoints take new connections (kube-proxy's `CategorizeEndpoints` for cluster traffic): the ready ones;
 * when none is ready, the ones still serving while terminating, so a Service whose Pods are all shutting down keeps
 * answering until they are gone. Endpoints that are neither never take new connections. Established connections
 * do not depend on this: conntrack keeps them on their endpoint whatever the group holds.
 */
import type { ServiceEndpoint } from '../../datapath/types.js';
import type { EndpointInfo } from './types.js';

export function usableEndpoints(endpoints: readonly EndpointInfo[], localNode: string): ServiceEndpoint[] {
  const pred = choose(endpoints);
  return endpoints.filter(pred).map((e) => frontendEndpoint(e, localNode));
}

type Pred = (e: EndpointInfo) => boolean;
const ready: Pred = (e) => e.ready;
const servingTerminating: Pred = (e) => e.serving && e.terminating;

/** Ready endpoints, else serving-terminating ones. */
function choose(endpoints: readonly EndpointInfo[]): Pred {
  return endpoints.some(ready) ? ready : servingTerminating;
}

function frontendEndpoint(e: EndpointInfo, localNode: string): ServiceEndpoint {
  return { ip: e.ip, port: e.port, isLocal: e.nodeName !== undefined && e.nodeName === localNode };
}

/**
 * `usableEndpoints` per ServicePort, reusing the previous answer: the slice cache keeps the objects of unchanged
 * endpoints, so the lists share a head and a tail by reference, and only the window between them is filtered and
 * converted. The datapath then sees the same ServiceEndpoint objects for unchanged endpoints (cheap to compare).
 */
export class UsableEndpoints {
  /** Per ServicePort: the last input and output, and how many inputs before each index were chosen. */
  private readonly last = new Map<string, { input: readonly EndpointInfo[]; pred: Pred; output: ServiceEndpoint[]; chosenBefore: Int32Array }>();

  constructor(private readonly localNode: string) {}

  get(key: string, endpoints: readonly EndpointInfo[]): ServiceEndpoint[] {
    const pred = choose(endpoints);
    const prev = this.last.get(key);
    if (prev && prev.pred === pred && prev.input === endpoints) return prev.output;
    const n = endpoints.length;
    const chosenBefore = new Int32Array(n + 1);
    let head = 0;
    let tail = 0;
    if (prev && prev.pred === pred) {
      const a = prev.input;
      const max = Math.min(a.length, n);
      while (head < max && a[head] === endpoints[head]) head++;
      while (tail < max - head && a[a.length - 1 - tail] === endpoints[n - 1 - tail]) tail++;
      chosenBefore.set(prev.chosenBefore.subarray(0, head + 1));
    }
    // The window: filtered and converted afresh.
    const window: ServiceEndpoint[] = [];
    for (let i = head; i < n - tail; i++) {
      const e = endpoints[i] as EndpointInfo;
      if (pred(e)) window.push(frontendEndpoint(e, this.localNode));
      chosenBefore[i + 1] = (chosenBefore[i] as number) + (pred(e) ? 1 : 0);
    }
    let output = window;
    if (prev && prev.pred === pred) {
      const a = prev.input;
      const cb = prev.chosenBefore;
      const outHead = cb[head] as number;
      const outTail = (cb[a.length] as number) - (cb[a.length - tail] as number);
      // The tail's counts shift by what the window added or removed.
      const shift = (chosenBefore[n - tail] as number) - (cb[a.length - tail] as number);
      for (let j = 1; j <= tail; j++) chosenBefore[n - tail + j] = (cb[a.length - tail + j] as number) + shift;
      output = prev.output.slice(0, outHead).concat(window, prev.output.slice(prev.output.length - outTail));
    }
    this.last.set(key, { input: endpoints, pred, output, chosenBefore });
    return output;
  }

  delete(key: string): void {
    this.last.delete(key);
  }
}
