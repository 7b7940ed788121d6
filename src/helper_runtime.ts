/**
 * @module
 * `HelperRuntime`: runs helper functions. It binds wire params to declared parameter names
 * (contract §3.2), builds each call's `CallContext` (caller cwd and environment from the PID in
 * `request_id`, helpers contract §2.4), owns the handle tables, and sweeps them. The daemon runs
 * one runtime inside a Worker; process mode and tests run one in-process.
 */

import type { Clock } from "./sdk/clock.ts";
import { HandleTable } from "./sdk/handles.ts";
import {
  functionNotFound,
  helperFailed,
  moduleNotAvailable,
  notImplemented,
  WireError,
} from "./errors.ts";
import type {
  Args,
  CallContext,
  HelperDefinition,
  HelperFunction,
  HelperSettings,
  LazyHelper,
} from "../helpers/types.ts";
import { helperEntry } from "../helpers/registry.ts";
import { processEnvVar } from "./config.ts";
import { isSecretKey } from "./log/format.ts";
import { checkPath } from "./sdk/path_guard.ts";

/** A log line from a helper or the runtime, routed to the daemon log by the host. */
export type LogFn = (level: "debug" | "info" | "warn" | "error", message: string) => void;

/** Identifies one call. */
export interface CallMeta {
  readonly requestId: string;
  readonly signal?: AbortSignal;
}

/** Parses the caller's PID out of `request_id` (`"%d_%d_%d"`: epoch, PID, rand). */
export function callerPidOf(requestId: string): number | undefined {
  const m = /^\d+_(\d+)_\d+$/.exec(requestId);
  if (!m) return undefined;
  const pid = Number(m[1]);
  return pid > 0 ? pid : undefined;
}

/** Names of arguments that carry a user name (where `user/password@db` hides a password). */
const USER_KEY = /^(user(name)?|uid|login|db_?user)$/i;

/**
 * Secret strings among a call's arguments (top level and one level down): values of
 * secret-named fields, and the password of an Oracle-style `user/password[@db]` user name.
 * Strings shorter than 3 characters are left alone (replacing them would garble log lines).
 */
export function secretValues(args: Args): string[] {
  const out = new Set<string>();
  const visit = (key: string, v: unknown, depth: number) => {
    if (typeof v === "string") {
      if (isSecretKey(key) && v.length >= 3) out.add(v);
      else if (USER_KEY.test(key)) {
        const m = /^[^/@\s]+\/([^@\s]{3,})/.exec(v);
        if (m) out.add(m[1]!);
      }
    } else if (depth < 1 && v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) visit(k, x, depth + 1);
    }
  };
  for (const [k, v] of Object.entries(args)) visit(k, v, 0);
  return [...out].sort((a, b) => b.length - a.length);
}

/** Python-style name of a JSON value's type, for binding errors. */
function describeCount(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/**
 * Binds wire params to a function's declared names, with Python's TypeError texts
 * (e.g. `now() got an unexpected keyword argument 'bogus'`, contract §3.4).
 */
export function bindParams(
  name: string,
  f: HelperFunction,
  params: unknown,
  present: boolean,
): Args {
  const args: Args = {};
  if (!present) {
    // no params key: no arguments
  } else if (Array.isArray(params)) {
    if (params.length > f.params.length && !f.variadic) {
      throw new TypeError(
        `${name}() takes ${
          describeCount(f.params.length, "positional argument")
        } but ${params.length} ${params.length === 1 ? "was" : "were"} given`,
      );
    }
    params.forEach((v, i) => {
      args[f.params[i] ?? `arg${i}`] = v;
    });
  } else if (params !== null && typeof params === "object") {
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      if (!f.variadic && !f.params.includes(k)) {
        throw new TypeError(`${name}() got an unexpected keyword argument '${k}'`);
      }
      args[k] = v;
    }
  } else {
    if (f.params.length === 0 && !f.variadic) {
      throw new TypeError(`${name}() takes 0 positional arguments but 1 was given`);
    }
    args[f.params[0] ?? "arg0"] = params;
  }
  const missing = f.required.filter((p) => !(p in args));
  if (missing.length > 0) {
    throw new TypeError(
      `${name}() missing ${missing.length} required argument${missing.length === 1 ? "" : "s"}: ${
        missing.map((m) => `'${m}'`).join(", ")
      }`,
    );
  }
  return args;
}

/** Runs the helpers of one daemon. */
/** A helper as the runtime holds it: its names, and its definition once loaded. */
interface Slot {
  readonly name: string;
  readonly functions: readonly string[];
  def?: HelperDefinition;
  loading?: Promise<HelperDefinition> | undefined;
  readonly load: () => Promise<HelperDefinition>;
}

function isLazy(h: HelperDefinition | LazyHelper): h is LazyHelper {
  return typeof (h as LazyHelper).load === "function";
}

export class HelperRuntime {
  readonly #byName = new Map<string, Slot>();
  readonly #tables = new Map<string, HandleTable<unknown>>();
  readonly #settings: HelperSettings;
  readonly #clock: Clock;
  readonly #log: LogFn;
  readonly #closing = new AbortController();
  readonly #onHandle: ((event: "add" | "delete", id: string) => void) | undefined;

  /**
   * `helpers`: definitions, or lazy entries (helpers/registry.ts) loaded on first call.
   * `onHandle`: told of every handle id opened and closed (the worker pool's routing).
   */
  constructor(
    helpers: readonly (HelperDefinition | LazyHelper)[],
    settings: HelperSettings,
    clock: Clock,
    log: LogFn,
    onHandle?: (event: "add" | "delete", id: string) => void,
  ) {
    this.#onHandle = onHandle;
    for (const h of helpers) {
      const slot: Slot = isLazy(h) ? { name: h.name, functions: h.functions, load: h.load } : {
        name: h.name,
        functions: Object.keys(h.functions),
        def: h,
        load: () => Promise.resolve(h),
      };
      this.#byName.set(h.name, slot);
      for (const a of h.aliases ?? []) this.#byName.set(a, slot);
    }
    this.#settings = settings;
    this.#clock = clock;
    this.#log = log;
  }

  /** Wire names served, in load order (aliases included). */
  get moduleNames(): string[] {
    return [...this.#byName.keys()];
  }

  /** Wire name → function names, without loading anything. */
  functionNames(): Map<string, readonly string[]> {
    return new Map([...this.#byName].map(([n, slot]) => [n, slot.functions]));
  }

  /** The definitions loaded so far, each once. */
  #loaded(): HelperDefinition[] {
    return [...new Set(this.#byName.values())].flatMap((s) => (s.def ? [s.def] : []));
  }

  async #load(slot: Slot): Promise<HelperDefinition> {
    if (slot.def) return slot.def;
    slot.loading ??= slot.load().then((def) => (slot.def = def), (err) => {
      slot.loading = undefined;
      throw err;
    });
    return await slot.loading;
  }

  /** Handles currently open per table, e.g. `{ "crypto.ciphers": 2 }`. */
  handleCounts(): Record<string, number> {
    return Object.fromEntries([...this.#tables].map(([k, t]) => [k, t.size]));
  }

  /**
   * Builds the context of one call. `args`: the call's bound arguments; their secret values (a
   * secret-named field, the password part of an Oracle-style `user/password@db` username) are
   * replaced by `[REDACTED]` in whatever the helper logs, at every level.
   */
  makeContext(module: string, fnName: string, meta: CallMeta, args?: Args): CallContext {
    const pid = callerPidOf(meta.requestId);
    const secrets = args ? secretValues(args) : [];
    const raw = this.#log;
    const log: LogFn = secrets.length === 0 ? raw : (level, m) => {
      let text = m;
      for (const s of secrets) if (text.includes(s)) text = text.split(s).join("[REDACTED]");
      raw(level, text);
    };
    const prefix = `${module}.${fnName}: `;
    let cwd: Promise<string> | undefined;
    let environ: Promise<Map<string, string> | undefined> | undefined;
    const callerCwd = () =>
      cwd ??= pid === undefined
        ? Promise.resolve(Deno.cwd())
        : Deno.readLink(`/proc/${pid}/cwd`).catch(() => Deno.cwd());
    // The caller's signal (aborted on timeout or shutdown by the host), else the runtime's own.
    // No AbortSignal.any: a dependent signal per call would pile up on the long-lived one.
    const signal = meta.signal ?? this.#closing.signal;
    const helperName = this.#byName.get(module)?.name ?? module;
    return {
      module,
      function: fnName,
      requestId: meta.requestId,
      callerPid: pid,
      signal,
      clock: this.#clock,
      settings: this.#settings,
      log: {
        debug: (m) => log("debug", prefix + m),
        info: (m) => log("info", prefix + m),
        warn: (m) => log("warn", prefix + m),
        error: (m) => log("error", prefix + m),
      },
      callerCwd,
      resolvePath: async (path: string): Promise<string> => {
        const abs = path.startsWith("/")
          ? path
          : `${(await callerCwd()).replace(/\/+$/, "")}/${path}`;
        const guard = this.#settings.paths;
        if (!guard) return abs;
        const real = await checkPath(abs, guard);
        // With allowed directories, hand out the checked path itself, links resolved: a link
        // swapped after the check cannot lead the helper outside (only a race on a directory
        // between check and open remains). Otherwise the name as given, for the module's texts.
        return guard.allowedDirs.length > 0 ? real : abs;
      },
      async callerEnv(name: string): Promise<string | undefined> {
        environ ??= pid === undefined
          ? Promise.resolve(undefined)
          : Deno.readFile(`/proc/${pid}/environ`)
            .then((b) => {
              const m = new Map<string, string>();
              for (const kv of new TextDecoder().decode(b).split("\0")) {
                const i = kv.indexOf("=");
                if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
              }
              return m;
            })
            .catch(() => undefined);
        const env = await environ;
        return env ? env.get(name) : processEnvVar(name);
      },
      handles: <T>(
        name: string,
        opts: {
          prefix: string;
          idleTtlMs?: number;
          dispose?: (v: T, r: string) => void | Promise<void>;
          newId?: () => string;
          perClient?: false;
        },
      ) => {
        const key = `${helperName}.${name}`;
        let t = this.#tables.get(key) as HandleTable<T> | undefined;
        if (!t) {
          const { perClient, ...own } = opts;
          t = new HandleTable<T>({
            ...own,
            idleTtlMs: opts.idleTtlMs ?? this.#settings.handleTtlMs,
            perOwnerLimit: perClient === false ? undefined : this.#settings.maxHandlesPerClient,
            ownedByHandle: perClient === false,
            ...(this.#onHandle ? { onChange: this.#onHandle } : {}),
          }, this.#clock);
          this.#tables.set(key, t as HandleTable<unknown>);
        }
        // Handles are the opening client's own (by the PID it claims in request_id).
        return t.viewFor(pid);
      },
    };
  }

  /**
   * Calls `module.fnName` with wire params. `present` says whether the request had a `params` key.
   *
   * @throws {WireError} not available / not found / not implemented / `Error in m.f: …`
   */
  async call(
    module: string,
    fnName: string,
    params: unknown,
    present: boolean,
    meta: CallMeta,
  ): Promise<unknown> {
    const slot = this.#byName.get(module);
    if (!slot) {
      if (helperEntry(module)) throw notImplemented(module, fnName);
      throw moduleNotAvailable(module, this.moduleNames);
    }
    if (!slot.functions.includes(fnName)) {
      if (helperEntry(module)?.notBuilt.includes(fnName)) throw notImplemented(module, fnName);
      throw functionNotFound(module, fnName, slot.functions);
    }
    let helper: HelperDefinition;
    try {
      helper = await this.#load(slot);
    } catch (err) {
      this.#log(
        "error",
        `Could not load helper ${slot.name}: ${err instanceof Error ? err.message : err}`,
      );
      throw helperFailed(
        module,
        fnName,
        `cannot load the helper module: ${err instanceof Error ? err.message : err}`,
        err,
      );
    }
    const f = helper.functions[fnName];
    if (!f) throw functionNotFound(module, fnName, Object.keys(helper.functions));
    try {
      const args = bindParams(fnName, f, params, present);
      return await f.run(args, this.makeContext(module, fnName, meta, args));
    } catch (err) {
      if (err instanceof WireError) throw err;
      const text = err instanceof Error ? err.message : String(err);
      throw helperFailed(module, fnName, text, err);
    }
  }

  /** Closes idle handles in every table; logs each eviction with its reason. */
  async sweep(): Promise<number> {
    let n = 0;
    for (const [key, table] of this.#tables) {
      for (const { id, pid } of await table.sweepExited()) {
        this.#log("info", `Closed handle ${id} (${key}): its owner, PID ${pid}, has exited`);
        n++;
      }
      const closed = await table.sweep();
      const why = `unused for longer than ${table.idleTtlMs / 1000} s`;
      for (const id of closed) this.#log("info", `Closed idle handle ${id} (${key}): ${why}`);
      n += closed.length;
    }
    return n;
  }

  /** Runs every helper's `cleanupStale` hook (contract §11.3). */
  async cleanupStale(): Promise<void> {
    for (const h of this.#loaded()) {
      if (!h.cleanupStale) continue;
      try {
        await h.cleanupStale(
          this.makeContext(h.name, "cleanup_stale_resources", { requestId: "janitor" }),
        );
      } catch (err) {
        this.#log(
          "warn",
          `Error cleaning up ${h.name}: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }

  /** Aborts running calls, closes every handle and runs `shutdown` hooks. */
  async close(): Promise<void> {
    this.#closing.abort(new Error("daemon shutting down"));
    for (const table of this.#tables.values()) await table.closeAll();
    for (const h of this.#loaded()) {
      try {
        await h.shutdown?.(this.makeContext(h.name, "shutdown", { requestId: "shutdown" }));
      } catch (err) {
        this.#log(
          "warn",
          `Error shutting down ${h.name}: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }
}
