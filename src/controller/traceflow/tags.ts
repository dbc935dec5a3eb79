/**
 * Dataplane tags for Traceflows: each running Traceflow holds one DSCP value from Antrea's pool (7, 11, ..., 59), so
 * that concurrent traces are told apart in the pipeline. Owners are Traceflow names; one name holds at most one tag.
 */
import { DATAPLANE_TAGS, MAX_DATAPLANE_TAG } from '../../apis/crd/traceflow.js';
import { AntreaError } from '../../util/errors.js';

export class TagAllocator {
  readonly #byTag = new Map<number, string>();
  readonly #byOwner = new Map<string, number>();

  constructor(private readonly pool: readonly number[] = DATAPLANE_TAGS) {}

  /**
   * The lowest free tag for `owner` (the one it holds already, if any). Throws ERR_TRACEFLOW_TAGS_EXHAUSTED when every
   * tag is held, with Antrea's message.
   */
  allocate(owner: string): number {
    const held = this.#byOwner.get(owner);
    if (held !== undefined) return held;
    const tag = this.pool.find((t) => !this.#byTag.has(t));
    if (tag === undefined) {
      throw new AntreaError('ERR_TRACEFLOW_TAGS_EXHAUSTED', `number of on-going Traceflow operations already reached the upper limit: ${MAX_DATAPLANE_TAG}`);
    }
    this.#byTag.set(tag, owner);
    this.#byOwner.set(owner, tag);
    return tag;
  }

  /**
   * Records a tag found on an existing Traceflow (after a controller restart). False when the tag is not in the pool
   * or another owner holds it already: the caller must not let both run with one tag.
   */
  restore(owner: string, tag: number): boolean {
    if (!this.pool.includes(tag)) return false;
    const current = this.#byTag.get(tag);
    if (current !== undefined) return current === owner;
    const previous = this.#byOwner.get(owner);
    if (previous !== undefined) this.#byTag.delete(previous);
    this.#byTag.set(tag, owner);
    this.#byOwner.set(owner, tag);
    return true;
  }

  /** Frees the owner's tag; returns it (undefined when it held none). */
  release(owner: string): number | undefined {
    const tag = this.#byOwner.get(owner);
    if (tag === undefined) return undefined;
    this.#byOwner.delete(owner);
    this.#byTag.delete(tag);
    return tag;
  }

  tagOf(owner: string): number | undefined {
    return this.#byOwner.get(owner);
  }

  ownerOf(tag: number): string | undefined {
    return this.#byTag.get(tag);
  }

  /** Tags in use, by owner. */
  inUse(): Record<string, number> {
    return Object.fromEntries(this.#byOwner);
  }

  get capacity(): number {
    return this.pool.length;
  }
}
