/**
 * @module
 * `HeapTrim`: gives the garbage of large requests back to the system soon after they are served.
 *
 * V8 starts a full collection when the old generation reaches a limit that grows with the heap,
 * and its memory reducer (which collects an idle heap) starts only after such a collection or
 * when the embedder reports the process idle, which Deno does not. Strings of large requests are
 * allocated straight in the old generation, so they stay there as garbage until later traffic
 * pushes the heap to its limit: 3,000 requests with distinct 60 KiB object keys left 180 MB of
 * heap (3 MB of it live) and 246 MB of RSS for as long as the daemon ran, pings or not.
 *
 * The janitor calls {@link HeapTrim.tick} every second, in the daemon and (through an op) in each
 * helper worker. It asks for a full collection when the memory in use (the heap, and the request
 * buffers outside it that only a collection frees) has grown by `growthBytes` since the last one,
 * and once more `settleMs` after a collection that freed that much: V8 keeps freed pages in a pool and unmaps them only at a
 * collection some seconds later (`--memory-pool-timeout`, 8 s). The collection is V8's own
 * `gc()` (exposed with `--expose-gc`, which the launchers pass); without it there is no task.
 */

/** The collection and the heap figure, injected so a test can drive them. */
export interface HeapTrimOptions {
  /** A full, synchronous collection. */
  readonly collect: () => void;
  /**
   * Bytes in use: the heap's and those outside it that V8 frees at a collection (the buffers of
   * large requests: `Deno.memoryUsage()` `heapUsed + external`).
   */
  readonly inUse: () => number;
  readonly now: () => number;
  /** Growth since the last collection that starts one. */
  readonly growthBytes: number;
  /** Delay of the follow-up collection after one that freed `growthBytes` or more. */
  readonly settleMs: number;
}

/** What one tick did: nothing, or a collection with the heap before and after. */
export type HeapTrimResult =
  | { readonly collected: false }
  | { readonly collected: true; readonly before: number; readonly after: number };

export class HeapTrim {
  readonly #o: HeapTrimOptions;
  /** Bytes in use right after the last collection (or at the start). */
  #base: number;
  /** When the follow-up collection is due, if one is. */
  #followUpAt: number | undefined;

  constructor(options: HeapTrimOptions) {
    this.#o = options;
    this.#base = options.inUse();
  }

  /** Collects when the heap has grown enough, or when a follow-up is due. */
  tick(): HeapTrimResult {
    const before = this.#o.inUse();
    const now = this.#o.now();
    const grown = before - this.#base >= this.#o.growthBytes;
    const followUp = this.#followUpAt !== undefined && now >= this.#followUpAt;
    if (!grown && !followUp) {
      // The heap shrank on its own (V8 collected): measure growth from there.
      if (before < this.#base) this.#base = before;
      return { collected: false };
    }
    this.#o.collect();
    const after = this.#o.inUse();
    this.#base = after;
    this.#followUpAt = before - after >= this.#o.growthBytes ? now + this.#o.settleMs : undefined;
    return { collected: true, before, after };
  }
}

/** Growth that starts a collection, and the follow-up's delay, of {@linkcode isolateHeapTrim}. */
export const HEAP_TRIM_GROWTH_BYTES = 8 * 1024 * 1024;
export const HEAP_TRIM_SETTLE_MS = 10_000;

/**
 * A `HeapTrim` of this isolate (the daemon's, or a helper worker's: each has its own heap, and
 * `Deno.memoryUsage()` reports the calling one's) with the daemon's thresholds.
 */
export function isolateHeapTrim(collect: () => void, now: () => number): HeapTrim {
  return new HeapTrim({
    collect,
    inUse: () => {
      const m = Deno.memoryUsage();
      return m.heapUsed + m.external;
    },
    now,
    growthBytes: HEAP_TRIM_GROWTH_BYTES,
    settleMs: HEAP_TRIM_SETTLE_MS,
  });
}

/** A collection for the DEBUG log: `X MB in use before, Y after`. */
export function collectedText(r: { readonly before: number; readonly after: number }): string {
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return `${mb(r.before)} MB in use before, ${mb(r.after)} after`;
}

/** V8's `gc()` when the runtime was started with `--expose-gc`, else undefined. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => void gc() : undefined;
}
