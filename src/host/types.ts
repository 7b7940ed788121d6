/**
 * @module
 * `HelperHost`: where helper calls run. The daemon uses a `WorkerHost` (helpers in a Worker
 * thread, so CPU-heavy helper work never delays pings or the operations API); process mode and
 * tests use an `InProcessHost`. Results travel as JSON text, so a value that cannot be serialised
 * becomes a clear error where it was produced.
 */

/** One helper call. */
export interface HostCall {
  readonly module: string;
  readonly function: string;
  readonly params: unknown;
  readonly hasParams: boolean;
  readonly requestId: string;
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
   * Runs a call; resolves to the JSON text of the helper's return value.
   *
   * @throws {WireError} for every failure (the contract's error texts)
   */
  call(call: HostCall, signal: AbortSignal): Promise<string>;
  /** Closes idle handles; returns how many. */
  sweep(): Promise<number>;
  /** Runs helpers' cleanup hooks. */
  cleanupStale(): Promise<void>;
  /** Open handles per table. */
  handleCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** JSON text of a helper result; NaN/Infinity become null (W7); other failures throw TypeError. */
export function resultJson(value: unknown): string {
  const text = JSON.stringify(
    value === undefined ? null : value,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v),
  );
  return text ?? "null";
}
