/**
 * @module
 * `WorkerHost`: runs helpers in a Worker thread so that CPU-heavy helper work (a 10 MB XML parse,
 * encrypting 50 MB) never delays `test.ping` or `system.*` on the main thread (contract §6.1, §13.5).
 * Each call's timeout is armed here, on the main thread, through `callWithin` (call_timeout.ts):
 * past it the caller gets a TimeoutError and the call is abandoned (its signal is aborted in the
 * worker). This host does not replace a stuck worker itself: it tells `onTimedOut`, and
 * `WorkerPool` (worker_pool.ts) then probes the worker and, when its thread does not answer,
 * terminates it (`terminate`) and starts a fresh one. The worker reports the handle ids its
 * runtime opens and closes, so the pool can route calls to them and report them lost.
 */

import { WireError } from "../errors.ts";
import { callWithin } from "./call_timeout.ts";
import type { LogFn } from "../helper_runtime.ts";
import type { HelperSettings } from "../../helpers/types.ts";
import type { HelperHost, HostCall } from "./types.ts";
import type { FromWorker, OpName, OpReply, ToWorker } from "./messages.ts";

/**
 * What a call abandoned while its worker was loading settles with: its caller already has its
 * error, so this rejection is ignored. It settles (a promise that never did would keep every call
 * chained to it, params included, alive for good).
 */
const ABANDONED: Promise<never> = Promise.reject(new Error("call abandoned while loading"));
ABANDONED.catch(() => {});

/** The error a call gets when the worker it waited for could not load the helpers. */
function loadFailed(call: HostCall, err: unknown): WireError {
  const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new WireError(
    `Error in ${call.module}.${call.function}: the helper worker could not load the helpers (${why}); see the daemon log`,
    "RuntimeError",
  );
}

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (err: Error) => void;
}

export class WorkerHost implements HelperHost {
  readonly ready: Promise<void>;
  #worker: Worker;
  #state: "loading" | "ready" | "failed" = "loading";
  #modules: string[] = [];
  #functions = new Map<string, readonly string[]>();
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  readonly #ops = new Map<number, (reply: Pick<OpReply, "ok" | "value">) => void>();
  readonly #log: LogFn;
  readonly #settings: HelperSettings;
  /** Calls abandoned after their timeout. */
  abandoned = 0;
  /** Handle ids open in this worker (reported by its runtime). */
  readonly handleIds = new Set<string>();
  /** Called when a call is abandoned at its timeout (the pool checks the worker's health). */
  onTimedOut?: (call: HostCall) => void;
  #terminated = false;
  /** The error calls get once the worker was terminated. */
  #endedBy: Error | undefined;

  #active = 0;
  /** Calls started on this worker (the pool's idle check compares it between runs). */
  calls = 0;

  /** Calls started on this worker and not yet settled. */
  get inFlight(): number {
    return this.#active;
  }

  /**
   * `ascii`: results are ASCII-escaped JSON (encoding "repair"). `extraHelperModules`: URLs of
   * modules whose default export is a helper definition, loaded after the registry's (tests).
   */
  constructor(
    settings: HelperSettings,
    log: LogFn,
    ascii = true,
    extraHelperModules: readonly string[] = [],
  ) {
    this.#log = log;
    this.#settings = settings;
    this.#worker = new Worker(new URL("./worker_entry.ts", import.meta.url), { type: "module" });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#worker.onmessage = (e: MessageEvent<FromWorker>) =>
        this.#onMessage(e.data, resolve, reject);
      this.#worker.onerror = (e) => {
        e.preventDefault();
        this.#log("error", `Helper worker error: ${e.message}`);
        if (this.#state === "loading") this.#state = "failed";
        reject(new Error(e.message));
      };
    });
    this.ready.catch(() => {});
    this.#post({ kind: "init", settings, ascii, extraHelperModules });
  }

  #post(m: ToWorker): void {
    this.#worker.postMessage(m);
  }

  #onMessage(m: FromWorker, resolve: () => void, reject: (e: Error) => void): void {
    switch (m.kind) {
      case "ready":
        this.#modules = [...m.modules];
        this.#functions = new Map(m.functions);
        this.#state = "ready";
        resolve();
        break;
      case "fatal":
        this.#log("error", `Could not load helper modules: ${m.message}`);
        this.#state = "failed";
        reject(new Error(m.message));
        break;
      case "log":
        this.#log(m.level, m.message);
        break;
      case "handle":
        if (m.event === "add") this.handleIds.add(m.id);
        else this.handleIds.delete(m.id);
        break;
      case "result": {
        const p = this.#pending.get(m.id);
        if (!p) return; // abandoned
        this.#pending.delete(m.id);
        if (m.ok) p.resolve(m.bytes);
        else {
          const err = new WireError(m.message, m.errorType);
          if (m.stack) err.stack = m.stack;
          p.reject(err);
        }
        break;
      }
      case "op": {
        const cb = this.#ops.get(m.id);
        this.#ops.delete(m.id);
        cb?.(m);
        break;
      }
    }
  }

  state(): "loading" | "ready" | "failed" {
    return this.#state;
  }

  modules(): readonly string[] {
    return this.#modules;
  }

  functions(): ReadonlyMap<string, readonly string[]> {
    return this.#functions;
  }

  async call(call: HostCall, signal: AbortSignal): Promise<Uint8Array> {
    this.#active++;
    this.calls++;
    try {
      const id = ++this.#seq;
      // The timeout also bounds the wait for a worker still loading (started for this call).
      let dropped = false;
      return await callWithin(
        call,
        this.#settings.helperTimeoutMs,
        signal,
        () =>
          this.#state === "ready" ? this.#send(id, call) : this.ready.then(
            () => dropped ? ABANDONED : this.#send(id, call),
            (err) => Promise.reject(loadFailed(call, err)),
          ),
        (_err, timedOut) => {
          dropped = true;
          this.#abandon(id, call, timedOut);
        },
      );
    } finally {
      this.#active--;
    }
  }

  /** Posts call `id` and waits for its result. */
  #send(id: number, call: HostCall): Promise<Uint8Array> {
    if (this.#terminated) return Promise.reject(this.#endedBy ?? new Error("terminated"));
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ kind: "call", id, call });
    });
  }

  /** Call `id` timed out or was cancelled (call_timeout.ts): abandoned here and in the worker. */
  #abandon(id: number, call: HostCall, timedOut: boolean): void {
    if (this.#pending.delete(id) && !this.#terminated) this.#post({ kind: "abort", id });
    if (timedOut) this.#timedOut(call);
  }

  #timedOut(call: HostCall): void {
    this.abandoned++;
    this.#log(
      "warn",
      `Abandoned ${call.module}.${call.function} after ${
        this.#settings.helperTimeoutMs / 1000
      } s (request ${call.requestId})`,
    );
    this.onTimedOut?.(call);
  }

  #op<T>(op: OpName, timeoutMs = 30_000): Promise<T> {
    if (this.#terminated) return Promise.reject(new Error("Helper worker was terminated"));
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#ops.delete(id);
        reject(new Error(`Helper worker did not answer '${op}' within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#ops.set(id, (m) => {
        clearTimeout(timer);
        if (m.ok) resolve(m.value as T);
        else reject(new Error(String(m.value)));
      });
      this.#post({ kind: "op", id, op });
    });
  }

  /** True when the worker's thread answers within `ms` (false: it is stuck in a call). */
  async responsive(ms: number): Promise<boolean> {
    if (this.#terminated) return false;
    return await this.#op("ping", ms).then(() => true, () => false);
  }

  /**
   * Ends the worker thread at once; every call waiting on it gets `err`. Its handles are gone.
   */
  terminate(err: Error): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#endedBy = err;
    this.#worker.terminate();
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(err);
    }
    for (const [id, cb] of this.#ops) {
      this.#ops.delete(id);
      cb({ ok: false, value: err.message });
    }
  }

  async sweep(): Promise<number> {
    await this.ready;
    return await this.#op<number>("sweep");
  }

  /** Runs the worker's heap trim; true when it collected (false without `--expose-gc`). */
  async trimHeap(): Promise<boolean> {
    return await this.#op<boolean>("trimHeap", 5_000).catch(() => false);
  }

  async cleanupStale(): Promise<void> {
    await this.ready;
    await this.#op("cleanupStale");
  }

  async handleCounts(): Promise<Record<string, number>> {
    await this.ready.catch(() => {});
    return await this.#op<Record<string, number>>("handleCounts", 5_000).catch(() => ({}));
  }

  async close(): Promise<void> {
    if (this.#terminated) return;
    try {
      await this.ready;
      await this.#op("close", 10_000);
    } catch { /* closing anyway */ }
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(new WireError("Daemon shutting down", "RuntimeError"));
    }
    this.#worker.terminate();
  }
}
