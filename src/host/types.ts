/**
 * @module
 * `HelperHost`: where helper calls run. The daemon uses a `WorkerPool` of `WorkerHost`s (helpers
 * in Worker threads, so CPU-heavy helper work never delays pings or the operations API, and one
 * stuck call never holds up the other clients), started at the first call that needs one; small
 * calls of the few pure functions of `inline.ts` run on the socket thread. Process mode and
 * tests use an `InProcessHost`. The messages between a `WorkerHost` and its Worker are in
 * `messages.ts`; the helper call timeout is armed only by `callWithin` (`call_timeout.ts`).
 * Results travel as JSON text, so a value that cannot be serialised becomes a clear error where
 * it was produced.
 */

/** One helper call. */
export interface HostCall {
  readonly module: string;
  readonly function: string;
  readonly params: unknown;
  readonly hasParams: boolean;
  readonly requestId: string;
}

/** What {@linkcode HelperHost.workerCounts} reports. */
export interface WorkerCounts {
  readonly running: number;
  readonly stopped: number;
  readonly replaced: number;
}

/** A helper host. */
export interface HelperHost {
  /** Resolves once helpers are loaded. */
  readonly ready: Promise<void>;
  /** Whether helpers are still loading, loaded, or failed to load. */
  state(): "loading" | "ready" | "failed";
  /** Helper modules loaded (wire names, aliases included), in load order. */
  modules(): readonly string[];
  /** Wire module → functions defined by the loaded helpers. */
  functions(): ReadonlyMap<string, readonly string[]>;
  /**
   * Runs a call; resolves to the UTF-8 bytes of the JSON text of the helper's return value
   * (ASCII-escaped in repair mode), produced where the helper ran so that a large result costs
   * the socket thread nothing but the write.
   *
   * @throws {WireError} for every failure (the contract's error texts)
   */
  call(call: HostCall, signal: AbortSignal): Promise<Uint8Array>;
  /** Closes idle handles; returns how many. */
  sweep(): Promise<number>;
  /** Runs helpers' cleanup hooks. */
  cleanupStale(): Promise<void>;
  /** Open handles per table. */
  handleCounts(): Promise<Record<string, number>>;
  /** Stops helper workers left idle (a host without workers has none); returns how many. */
  retireIdle?(): number;
  /** Asks each helper worker to trim its own heap (`src/heap_trim.ts`); answers are not awaited. */
  trimHeaps?(): void;
  /** Worker threads: running now, stopped for being idle, replaced after a stuck call. */
  workerCounts?(): WorkerCounts;
  close(): Promise<void>;
}

import { asciiEscapeJson } from "../wire/encoding.ts";

const utf8 = new TextEncoder();

/** UTF-8 bytes of a result's JSON text, ASCII-escaped when `ascii` (contract §2.6 B). */
export function resultBytes(value: unknown, ascii: boolean): Uint8Array {
  const json = resultJson(value);
  return utf8.encode(ascii ? asciiEscapeJson(json) : json);
}

const bigintAsString = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

/**
 * JSON text of a helper result; NaN/Infinity become null (W7), a BigInt its decimal string; other
 * failures throw TypeError. A replacer function takes V8 off its fast path (3 µs for a ping's
 * result, 20 µs for system.health's), so it is used only when the plain call fails (a BigInt).
 */
export function resultJson(value: unknown): string {
  const v = value === undefined ? null : value;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    text = JSON.stringify(v, bigintAsString);
  }
  return text ?? "null";
}
