/**
 * @module
 * `InProcessHost`: runs helpers on the calling thread (process mode, the Worker itself, tests).
 */

import type { Clock } from "../clock.ts";
import { helperFailed, helperTimedOut, WireError } from "../errors.ts";
import { HelperRuntime, type LogFn } from "../helper_runtime.ts";
import type { HelperDefinition, HelperSettings, LazyHelper } from "../../helpers/types.ts";
import { type HelperHost, type HostCall, resultBytes } from "./types.ts";

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
   * enforces `helperTimeoutMs` itself; false in the helper Worker, where `WorkerHost` already
   * times each call out and aborts its signal (a second timer, dependent signal and race per call
   * there cost the worker's thread several µs per call for nothing).
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
    if (!this.#bounded) {
      const value = await this.#runtime.call(c.module, c.function, c.params, c.hasParams, {
        requestId: c.requestId,
        signal,
      });
      return this.#bytes(c, value);
    }
    // Bounded as in WorkerHost: past the timeout the caller gets a TimeoutError and the helper's
    // signal aborts; work that ignores its signal is abandoned, not awaited.
    const expired = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.abandoned++;
        const err = helperTimedOut(c.module, c.function, this.#timeoutMs / 1000);
        expired.abort(err);
        reject(err);
      }, this.#timeoutMs);
    });
    let value: unknown;
    try {
      value = await Promise.race([
        this.#runtime.call(c.module, c.function, c.params, c.hasParams, {
          requestId: c.requestId,
          signal: AbortSignal.any([signal, expired.signal]),
        }),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
    return this.#bytes(c, value);
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
