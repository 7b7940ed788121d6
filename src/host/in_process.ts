/**
 * @module
 * `InProcessHost`: runs helpers on the calling thread (process mode, the Worker itself, tests).
 */

import type { Clock } from "../sdk/clock.ts";
import { helperFailed, WireError } from "../errors.ts";
import { HelperRuntime, type LogFn } from "../helper_runtime.ts";
import type { HelperDefinition, HelperSettings, LazyHelper } from "../../helpers/types.ts";
import { type HelperHost, type HostCall, resultBytes } from "./types.ts";
import { callWithin } from "./call_timeout.ts";

export class InProcessHost implements HelperHost {
  readonly ready: Promise<void> = Promise.resolve();
  readonly #runtime: HelperRuntime;
  readonly #ascii: boolean;
  readonly #timeoutMs: number;
  readonly #bounded: boolean;
  /** Calls abandoned after settings.helperTimeoutMs. */
  abandoned = 0;

  /**
   * `ascii`: escape non-ASCII in results (encoding "repair", the default). `bounded`: this host
   * arms `helperTimeoutMs` (call_timeout.ts); false in the helper Worker, where `WorkerHost`
   * already armed it on the main thread and aborts the call's signal (one timer per call).
   */
  constructor(
    helpers: readonly (HelperDefinition | LazyHelper)[],
    settings: HelperSettings,
    clock: Clock,
    log: LogFn,
    ascii = true,
    onHandle?: (event: "add" | "delete", id: string) => void,
    bounded = true,
  ) {
    this.#ascii = ascii;
    this.#bounded = bounded;
    this.#timeoutMs = settings.helperTimeoutMs;
    this.#runtime = new HelperRuntime(helpers, settings, clock, log, onHandle);
  }

  state(): "ready" {
    return "ready";
  }

  modules(): readonly string[] {
    return this.#runtime.moduleNames;
  }

  functions(): ReadonlyMap<string, readonly string[]> {
    return this.#runtime.functionNames();
  }

  async call(c: HostCall, signal: AbortSignal): Promise<Uint8Array> {
    if (!this.#bounded) return this.#bytes(c, await this.#run(c, signal));
    // Past the timeout the caller gets a TimeoutError and the helper's signal aborts; work that
    // ignores its signal is abandoned, not awaited (call_timeout.ts).
    const expired = new AbortController();
    const value = await callWithin(
      c,
      this.#timeoutMs,
      signal,
      () => this.#run(c, expired.signal),
      (err, timedOut) => {
        if (timedOut) this.abandoned++;
        expired.abort(err);
      },
    );
    return this.#bytes(c, value);
  }

  #run(c: HostCall, signal: AbortSignal): Promise<unknown> {
    return this.#runtime.call(c.module, c.function, c.params, c.hasParams, {
      requestId: c.requestId,
      signal,
    });
  }

  #bytes(c: HostCall, value: unknown): Uint8Array {
    try {
      return resultBytes(value, this.#ascii);
    } catch (err) {
      if (err instanceof WireError) throw err;
      throw helperFailed(
        c.module,
        c.function,
        `returned a value that cannot be sent as JSON (${
          err instanceof Error ? err.message : err
        })`,
      );
    }
  }

  sweep(): Promise<number> {
    return this.#runtime.sweep();
  }

  cleanupStale(): Promise<void> {
    return this.#runtime.cleanupStale();
  }

  handleCounts(): Promise<Record<string, number>> {
    return Promise.resolve(this.#runtime.handleCounts());
  }

  close(): Promise<void> {
    return this.#runtime.close();
  }
}
