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
 * helper worker. Two rules:
 * - **growth**: when the memory in use (the heap, and the request buffers outside it that only a
 *   collection frees) has grown by `growthBytes` since the last collection, a regular full
 *   collection, under load too;
 * - **quiet**: `quietMs` after the last request, if the heap grew by `quietBytes` or a growth
 *   collection ran since the last quiet one, one thorough collection (V8's last-resort kind: it
 *   compacts, shrinks the young generation and unmaps the pages earlier collections left in
 *   V8's pool). That is the work of V8's memory reducer, which Deno starts late or not at all: a
 *   heap sized for a load goes back soon after the load (1 s after it instead of 12–20 s).
 *
 * The collection is V8's own `gc()` (exposed with `--expose-gc`, which the launchers pass);
 * without it there is no task.
 */

/** The collection and the heap figure, injected so a test can drive them. */
export interface HeapTrimOptions {
  /** A full, synchronous collection; `thorough` for the quiet rule's. */
  readonly collect: (thorough: boolean) => void;
  /**
   * Bytes in use: the heap's and those outside it that V8 frees at a collection (the buffers of
   * large requests: `Deno.memoryUsage()` `heapUsed + external`).
   */
  readonly inUse: () => number;
  readonly now: () => number;
  /** Growth since the last collection that starts one. */
  readonly growthBytes: number;
  /** A count that moves with every request served (absent: no quiet rule). */
  readonly activity?: (() => number) | undefined;
  /** Time without a request after which the quiet rule applies. */
  readonly quietMs: number;
  /** Growth since the last collection that the quiet rule needs (when no growth one ran). */
  readonly quietBytes: number;
}

/** What one tick did: nothing, or a collection with the heap before and after. */
export type HeapTrimResult =
  | { readonly collected: false }
  | {
    readonly collected: true;
    readonly thorough: boolean;
    readonly before: number;
    readonly after: number;
  };

export class HeapTrim {
  readonly #o: HeapTrimOptions;
  /** Bytes in use right after the last collection (or at the start). */
  #base: number;
  /** `activity()` at the last tick, and when it last moved. */
  #activity: number | undefined;
  #activeAt = -Infinity;
  /** Requests came since the last quiet collection. */
  #served = false;
  /** A growth collection ran since the last quiet one (its freed pages may still be pooled). */
  #grewSinceQuiet = false;

  constructor(options: HeapTrimOptions) {
    this.#o = options;
    this.#base = options.inUse();
    this.#activity = options.activity?.();
  }

  /** Collects when the heap has grown enough, or once when traffic has stopped. */
  tick(): HeapTrimResult {
    const before = this.#o.inUse();
    const now = this.#o.now();
    const activity = this.#o.activity?.();
    if (activity !== this.#activity) {
      this.#activity = activity;
      this.#activeAt = now;
      this.#served = true;
    }
    const growth = before - this.#base;
    const grown = growth >= this.#o.growthBytes;
    const quiet = !grown && this.#served && now - this.#activeAt >= this.#o.quietMs &&
      (this.#grewSinceQuiet || growth >= this.#o.quietBytes);
    if (!grown && !quiet) {
      // The heap shrank on its own (V8 collected): measure growth from there.
      if (before < this.#base) this.#base = before;
      return { collected: false };
    }
    this.#o.collect(quiet);
    const after = this.#o.inUse();
    this.#base = after;
    if (quiet) this.#served = this.#grewSinceQuiet = false;
    else this.#grewSinceQuiet = true;
    return { collected: true, thorough: quiet, before, after };
  }
}

/**
 * The thresholds of {@linkcode isolateHeapTrim}. Growth: 4 MB (8 until round 4) took the hostile
 * mix's plateau from 117–121 MB to 110 with the same good-call traffic; a collection still runs at
 * most once a second, the janitor's period.
 */
export const HEAP_TRIM_GROWTH_BYTES = 4 * 1024 * 1024;
export const HEAP_TRIM_QUIET_MS = 2_000;
/** A monitoring probe's few pings leave less than this: no collection for them. */
export const HEAP_TRIM_QUIET_BYTES = 1024 * 1024;

/**
 * A `HeapTrim` of this isolate (the daemon's, or a helper worker's: each has its own heap, and
 * `Deno.memoryUsage()` reports the calling one's) with the daemon's thresholds. `activity`: a
 * count of the requests (or calls) this isolate served.
 */
export function isolateHeapTrim(
  collect: (thorough: boolean) => void,
  now: () => number,
  activity?: () => number,
): HeapTrim {
  return new HeapTrim({
    collect,
    inUse: () => {
      const m = Deno.memoryUsage();
      return m.heapUsed + m.external;
    },
    now,
    growthBytes: HEAP_TRIM_GROWTH_BYTES,
    activity,
    quietMs: HEAP_TRIM_QUIET_MS,
    quietBytes: HEAP_TRIM_QUIET_BYTES,
  });
}

/** A collection for the DEBUG log: `X MB in use before, Y after` (and `(thorough)`). */
export function collectedText(
  r: { readonly before: number; readonly after: number; readonly thorough?: boolean },
): string {
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return `${mb(r.before)} MB in use before, ${mb(r.after)} after${r.thorough ? " (thorough)" : ""}`;
}

/** V8's `gc()`, given `--expose-gc`, as `collect(thorough)`; undefined without the flag. */
export function exposedGc(): ((thorough: boolean) => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== "function") return undefined;
  // The options object of V8's gc extension; "last-resort" is CollectAllAvailableGarbage.
  const thoroughly = { type: "major", execution: "sync", flavor: "last-resort" };
  return (thorough) => void (thorough ? gc(thoroughly) : gc());
}
