/**
 * @module
 * `WorkerPool`: helper calls on N Worker threads (`CPAN_BRIDGE_HELPER_WORKERS`), so one slow call
 * no longer holds up every client's helper calls. Routing keeps state together: every call of
 * one client process (the PID it claims in `request_id`) goes to the worker it was given at its
 * first call, the least busy then; calls without a PID go to worker 0. A client's handles
 * therefore live in the worker its calls reach (handles are usable only by the process that
 * opened them, see `src/sdk/handles.ts`).
 *
 * The daemon's pool starts workers lazily (`lazy`): none at start-up, worker 0 at the first helper
 * call that needs a Worker, each further one (up to N) only when a client seen for the first time
 * calls while every running worker is busy. A worker costs 13–16 MB of RSS (its own V8 isolate
 * and its copy of the helper modules), so an idle daemon has none and a daemon whose calls never
 * overlap keeps one. The module and function names come from the registry
 * (`helpers/registry.ts`) on this thread, so `system.health`, the whitelist and the metrics never
 * need a worker; no helper code is loaded here at start-up.
 *
 * A worker that holds no handle and has had no call for `idleMs` (60 s in the daemon's pool) is
 * stopped, so that a daemon goes back toward its idle footprint after a burst of helper calls
 * (the isolate's heap is unmapped when its thread ends); the next call that needs it starts it
 * again, paying the worker's start once more (tens of ms, plus loading the helper's code).
 *
 * The functions of `inline.ts` (pure, bounded, e.g. `datetime_helper.now`) run on this thread
 * through an `InProcessHost` when their params are small: the Worker hop would cost several
 * times their work. Larger calls of them go to a worker like any other.
 *
 * A call that runs past `CPAN_BRIDGE_HELPER_TIMEOUT` is answered with a TimeoutError; if its
 * worker's thread then does not answer a probe, it is terminated and replaced by a fresh one. The
 * calls waiting on it get a clear error, and a later call naming one of its handles is told the
 * handle was lost, instead of the helper's "unknown id".
 */

import { type Clock, systemClock } from "../sdk/clock.ts";
import { helperFailed, WireError } from "../errors.ts";
import { callerPidOf, type LogFn } from "../helper_runtime.ts";
import type { HelperSettings, LazyHelper } from "../../helpers/types.ts";
import { REGISTRY } from "../../helpers/registry.ts";
import type { HelperHost, HostCall, WorkerCounts } from "./types.ts";
import { InProcessHost } from "./in_process.ts";
import { INLINE_FUNCTIONS, INLINE_MAX_CHARS, paramsWithin } from "./inline.ts";
import { WorkerHost } from "./worker_host.ts";

/** How long a worker has to answer the probe after one of its calls timed out. */
const PROBE_MS = 1_000;
/** Lost handle ids remembered (oldest forgotten first). */
const MAX_LOST = 10_000;
/** Client PIDs remembered with their worker (oldest forgotten first). */
const MAX_CLIENTS = 10_000;
/** Strings of params looked at for a handle id: depth and count bounds. */
const SCAN_DEPTH = 2;
const SCAN_STRINGS = 64;
/** The daemon's pool (lazy) stops a worker with no handle and no call for this long. */
export const WORKER_IDLE_MS = 60_000;
/** How often the janitor looks for idle workers (`retireIdle()`). */
export const WORKER_IDLE_CHECK_MS = 15_000;

/** When {@linkcode WorkerPool} stops idle workers. */
export interface RetireOptions {
  /**
   * Stop a worker that holds no handle and has had no call for this many ms (0: never);
   * default {@linkcode WORKER_IDLE_MS} when `lazy`, else 0. Worker 0 is kept when the pool
   * learns the helpers' names from it (extra helper modules).
   */
  readonly idleMs?: number;
  /** Time for `idleMs` (tests pass a fake one and call `retireIdle()`). */
  readonly clock?: Clock;
}

/** What the idle check last saw of a worker: its call count, busy or not, and when. */
interface Seen {
  readonly calls: number;
  readonly busy: boolean;
  readonly at: number;
}

/** Wire names (aliases after their module, first entry wins) as a helper runtime lists them. */
function catalogOf(entries: readonly LazyHelper[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const e of entries) {
    for (const n of [e.name, ...e.aliases]) if (!out.has(n)) out.set(n, e.functions);
  }
  return out;
}

export class WorkerPool implements HelperHost {
  readonly ready: Promise<void>;
  /** Worker `i` (calls and handles are routed by index); empty until started or once stopped. */
  readonly #workers: (WorkerHost | undefined)[] = [];
  readonly #max: number;
  readonly #make: () => WorkerHost;
  readonly #log: LogFn;
  readonly #timeoutS: number;
  readonly #byPid = new Map<number, number>();
  readonly #lost = new Map<string, string>();
  #replaced = 0;
  #abandonedBefore = 0;
  /** Names from the registry (lazy pools without test helpers); else worker 0 reports them. */
  readonly #catalog: ReadonlyMap<string, readonly string[]> | undefined;
  readonly #catalogModules: readonly string[] = [];
  readonly #makeInline: () => InProcessHost;
  #inlineHost: InProcessHost | undefined;
  readonly #idleMs: number;
  readonly #clock: Clock;
  readonly #seen = new WeakMap<WorkerHost, Seen>();
  /** Workers stopped for being idle, and the closes still running. */
  #retired = 0;
  readonly #closing = new Set<Promise<void>>();

  /**
   * `size`: worker threads (at least 1); `lazy`: start none until a call needs one, and each as
   * needed (else all at once); `retire`: when idle workers stop; the other arguments are
   * {@linkcode WorkerHost}'s. With `extraHelperModules` (tests) worker 0 starts at once even when
   * lazy: only it knows their names.
   */
  constructor(
    size: number,
    settings: HelperSettings,
    log: LogFn,
    ascii = true,
    extraHelperModules: readonly string[] = [],
    lazy = false,
    retire: RetireOptions = {},
  ) {
    this.#log = log;
    this.#timeoutS = settings.helperTimeoutMs / 1000;
    this.#idleMs = Math.max(0, retire.idleMs ?? (lazy ? WORKER_IDLE_MS : 0));
    this.#clock = retire.clock ?? systemClock;
    this.#make = () => new WorkerHost(settings, log, ascii, extraHelperModules);
    this.#max = Math.max(1, Math.floor(size));
    const inline = REGISTRY.filter((e) =>
      [e.name, ...e.aliases].some((n) => INLINE_FUNCTIONS.has(n))
    );
    // No timeout for inline calls (bounded = false): see inline.ts.
    this.#makeInline = () =>
      new InProcessHost(inline, settings, systemClock, log, ascii, undefined, false);
    if (lazy && extraHelperModules.length === 0) {
      this.#catalog = catalogOf(REGISTRY);
      this.#catalogModules = [...this.#catalog.keys()];
    }
    const start = !lazy ? this.#max : this.#catalog ? 0 : 1;
    for (let i = 0; i < start; i++) this.#workers.push(this.#spawn(i));
    this.ready = Promise.all(this.#running().map((w) => w.ready)).then(() => {});
    this.ready.catch(() => {});
  }

  /** The workers started and not stopped. */
  #running(): WorkerHost[] {
    return this.#workers.filter((w) => w !== undefined);
  }

  /** The host of inline calls, made at the first one. */
  #inline(): InProcessHost {
    return this.#inlineHost ??= this.#makeInline();
  }

  /**
   * Worker `index`; worker 0 is started here when no call needed it before, and a worker that
   * failed to load is replaced by a fresh one (a spawn that failed under EMFILE or ENOMEM does not
   * last until a restart; health says "failed" meanwhile).
   */
  #worker(index: number): WorkerHost {
    const w = this.#workers[index];
    if (w && w.state() === "failed") {
      this.#abandonedBefore += w.abandoned;
      w.terminate(
        new WireError("Error in helper call: the helper worker failed to load", "RuntimeError"),
      );
      return this.#start(index, "Replacement helper worker");
    }
    return w ?? this.#start(index, "Helper worker");
  }

  #spawn(index: number): WorkerHost {
    const w = this.#make();
    w.onTimedOut = (call) => void this.#check(index, w, call);
    return w;
  }

  /** Starts worker `index` in its place (replacing any there) and logs if it fails to load. */
  #start(index: number, what: string): WorkerHost {
    const w = this.#spawn(index);
    this.#workers[index] = w;
    w.ready.catch((err) => this.#log("error", `${what} ${index} failed to load: ${err}`));
    return w;
  }

  /**
   * Stops each worker that holds no handle and that this check has seen idle (no call running,
   * none started) for `idleMs`. The janitor runs it every {@linkcode WORKER_IDLE_CHECK_MS}
   * (`src/daemon/housekeeping.ts`), so a worker goes between `idleMs` and `idleMs` + 15 s after
   * its last call ended, with no clock read per call. It is taken out of its place at once, so a
   * call arriving while it closes starts a fresh one; its clients are routed afresh. Returns how
   * many were stopped.
   */
  retireIdle(): number {
    if (this.#idleMs === 0) return 0;
    const now = this.#clock.now();
    let stopped = 0;
    for (const [index, w] of this.#workers.entries()) {
      if (!w || w.state() !== "ready") continue;
      if (index === 0 && !this.#catalog) continue; // it names the helpers (extra modules)
      const seen = this.#seen.get(w);
      const busy = w.inFlight > 0 || w.handleIds.size > 0;
      if (busy || !seen || seen.busy || seen.calls !== w.calls) {
        this.#seen.set(w, { calls: w.calls, busy, at: now });
      } else if (now - seen.at >= this.#idleMs) {
        this.#retire(index, w);
        stopped++;
      }
    }
    return stopped;
  }

  #retire(index: number, w: WorkerHost): void {
    this.#workers[index] = undefined;
    while (this.#workers.length > 0 && this.#workers.at(-1) === undefined) this.#workers.pop();
    for (const [pid, i] of this.#byPid) if (i === index) this.#byPid.delete(pid);
    this.#abandonedBefore += w.abandoned;
    this.#retired++;
    this.#log(
      "info",
      `Stopped helper worker ${index}: no call for ${
        this.#idleMs / 1000
      } s and no open handles (the next helper call that needs it starts it again)`,
    );
    const closing = w.close().finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }

  /** After a timeout: replaces the worker when its thread is stuck. */
  async #check(index: number, w: WorkerHost, call: HostCall): Promise<void> {
    if (await w.responsive(PROBE_MS)) return;
    if (this.#workers[index] !== w) return; // already replaced
    const why =
      `helper worker ${index} was restarted because ${call.module}.${call.function} ran past CPAN_BRIDGE_HELPER_TIMEOUT (${this.#timeoutS} s) and did not stop`;
    for (const id of w.handleIds) {
      this.#lost.set(id, why);
      if (this.#lost.size > MAX_LOST) this.#lost.delete(this.#lost.keys().next().value!);
    }
    this.#log(
      "error",
      `${why}; ${w.inFlight} waiting call(s) failed and ${w.handleIds.size} handle(s) were lost`,
    );
    this.#abandonedBefore += w.abandoned;
    w.terminate(new WireError(`Error in helper call: ${why}; retry`, "RuntimeError"));
    this.#replaced++;
    this.#start(index, "Replacement helper worker");
  }

  /** Calls abandoned after their timeout, all workers together (inline calls have none). */
  get abandoned(): number {
    return this.#abandonedBefore + this.#running().reduce((n, w) => n + w.abandoned, 0);
  }

  /** Workers stopped for being idle (`idleMs`). */
  get retired(): number {
    return this.#retired;
  }

  /** Workers replaced because a call ran past the timeout. */
  get replaced(): number {
    return this.#replaced;
  }

  trimHeaps(): void {
    for (const w of this.#running()) if (w.state() === "ready") void w.trimHeap();
  }

  workerCounts(): WorkerCounts {
    return { running: this.size, stopped: this.#retired, replaced: this.replaced };
  }

  /** Worker threads running now (started as needed, up to the configured number). */
  get size(): number {
    return this.#running().length;
  }

  /** Worker threads the pool may start. */
  get maxSize(): number {
    return this.#max;
  }

  /**
   * Starts one more worker when every running one is busy and the pool may grow; returns its
   * index, or undefined. Its first call waits for it to load (tens of ms), less than the busy
   * workers' calls may take.
   */
  #grow(): number | undefined {
    const running = this.#running();
    if (running.length >= this.#max) return undefined;
    if (running.some((w) => w.inFlight === 0)) return undefined;
    const free = this.#workers.indexOf(undefined);
    const index = free < 0 ? this.#workers.length : free;
    this.#start(index, "Helper worker");
    return index;
  }

  /**
   * Worker 0's state (it defines the modules served), or "failed" when any worker failed to
   * load. A worker started later while loading does not make the daemon "loading": the calls
   * routed to it wait for it.
   */
  state(): "loading" | "ready" | "failed" {
    if (this.#workers.some((w) => w?.state() === "failed")) return "failed";
    if (this.#catalog) return "ready";
    return this.#workers[0]?.state() ?? "loading";
  }

  modules(): readonly string[] {
    return this.#catalog ? this.#catalogModules : this.#workers[0]?.modules() ?? [];
  }

  functions(): ReadonlyMap<string, readonly string[]> {
    return this.#catalog ?? this.#workers[0]?.functions() ?? new Map();
  }

  /**
   * The worker index for a call: sticky per client PID, worker 0 without one. A client seen for
   * the first time goes to the least busy worker, or to a new one when all are busy.
   */
  #route(requestId: string): number {
    const pid = callerPidOf(requestId);
    if (pid === undefined || this.#max === 1) return 0;
    const known = this.#byPid.get(pid);
    if (known !== undefined) return known;
    let best = this.#grow() ?? 0;
    for (const [i, w] of this.#workers.entries()) {
      const b = this.#workers[best];
      if (w && (!b || w.inFlight < b.inFlight)) best = i;
    }
    this.#byPid.set(pid, best);
    if (this.#byPid.size > MAX_CLIENTS) this.#byPid.delete(this.#byPid.keys().next().value!);
    return best;
  }

  /**
   * The first string of params (bounded look: depth 2, 64 strings of at most 200 chars) that
   * `known` accepts.
   */
  #findId<R>(params: unknown, known: (s: string) => R | undefined): R | undefined {
    let budget = SCAN_STRINGS;
    const look = (v: unknown, depth: number): R | undefined => {
      if (budget <= 0) return undefined;
      if (typeof v === "string") {
        budget--;
        return v.length <= 200 ? known(v) : undefined;
      }
      if (depth >= SCAN_DEPTH || v === null || typeof v !== "object") return undefined;
      for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
        const hit = look(x, depth + 1);
        if (hit !== undefined || budget <= 0) return hit;
      }
      return undefined;
    };
    return look(params, 0);
  }

  /** Whether any worker holds a handle (else no call needs its params scanned for one). */
  #anyHandles(): boolean {
    for (const w of this.#workers) if (w && w.handleIds.size > 0) return true;
    return false;
  }

  async call(call: HostCall, signal: AbortSignal): Promise<Uint8Array> {
    if (
      INLINE_FUNCTIONS.get(call.module)?.has(call.function) &&
      paramsWithin(call.params, INLINE_MAX_CHARS)
    ) return await this.#callInline(call, signal);
    if (this.#lost.size > 0) {
      const lost = this.#findId(call.params, (s) => (this.#lost.has(s) ? s : undefined));
      if (lost !== undefined) {
        throw helperFailed(
          call.module,
          call.function,
          `handle ${lost} was lost: ${this.#lost.get(lost)}; open a new one`,
        );
      }
    }
    // A call naming a handle goes where the handle lives (its owner check then speaks); any
    // other call goes to its client's worker.
    let index: number | undefined;
    if (this.#workers.length > 1 && this.#anyHandles()) {
      index = this.#findId(call.params, (s) => {
        const i = this.#workers.findIndex((w) => w?.handleIds.has(s));
        return i < 0 ? undefined : i;
      });
    }
    return await this.#worker(index ?? this.#route(call.requestId)).call(call, signal);
  }

  /** A call of `inline.ts` run here; its error carries the helper's stack as a worker's would. */
  async #callInline(call: HostCall, signal: AbortSignal): Promise<Uint8Array> {
    try {
      return await this.#inline().call(call, signal);
    } catch (err) {
      if (err instanceof WireError && err.cause instanceof Error && err.cause.stack) {
        err.stack = err.cause.stack;
      }
      throw err;
    }
  }

  async sweep(): Promise<number> {
    const n = await Promise.all(this.#running().map((w) => w.sweep().catch(() => 0)));
    if (this.#inlineHost) n.push(await this.#inlineHost.sweep());
    // Forget clients whose process is gone (their handles are theirs alone).
    for (const pid of [...this.#byPid.keys()]) {
      try {
        Deno.statSync(`/proc/${pid}`);
      } catch {
        this.#byPid.delete(pid);
      }
    }
    return n.reduce((a, b) => a + b, 0);
  }

  async cleanupStale(): Promise<void> {
    await Promise.all(this.#running().map((w) => w.cleanupStale().catch(() => {})));
    await this.#inlineHost?.cleanupStale();
  }

  async handleCounts(): Promise<Record<string, number>> {
    const all = await Promise.all(this.#running().map((w) => w.handleCounts()));
    const out: Record<string, number> = {};
    for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running().map((w) => w.close()), ...this.#closing]);
    await this.#inlineHost?.close();
  }
}
