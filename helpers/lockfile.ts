/**
 * @module
 * `lockfile`: serves LockFileHelper.pm, which replaces LockFile::Simple 0.208 (helpers contract
 * §3.7). Wrapped results. Lock files are interoperable with real LockFile::Simple processes:
 * - the file holds the locking process's stamp, `"<pid>\n"` (`"<pid>:<hostname>\n"` with -nfs),
 *   where the PID is the Perl CALLER's (`ctx.callerPid`), as LockFile::Simple writes `$$`; so
 *   -stale detection by anyone (`kill 0, $pid`) sees the right process;
 * - the file is created read-only (0444, LockFile::Simple's umask 0333), atomically: O_EXCL, or
 *   with -nfs a hard link() of a private temp file (the NFS-safe idiom; LockFile::Simple itself
 *   tests `-f` then opens, which can race), and the stamp is read back as LockFile::Simple does;
 * - the name is `<file>.lock` (-ext) or -format / the pattern with %f (path), %D (dir), %F (base),
 *   %p (caller PID), %%; `$VAR`/`${VAR}` are expanded from the CALLER's environment (the Python
 *   helper's extension, used by `test_env_expansion`); relative paths are relative to the caller.
 * - before each attempt: -stale breaks a lock whose PID is dead (on this host), -hold breaks a lock
 *   older than `hold` seconds (`max_age` overrides `hold`; 0 disables).
 * `trylock` makes one attempt; `lock` retries -max times every -delay seconds with async waits
 * (never blocking the daemon), bounded by `max_wait` and the daemon's call timeout.
 * Deviations: missing parent directories of the lock file are created (the Python helper did, and
 * the wrapper's tests rely on it); warnings go to the daemon log instead of the caller's STDERR.
 * Handles never expire by idle time (a lock may be held for hours); the janitor drops the
 * managers of callers that have exited, releasing their locks only with -autoclean (as
 * LockFile::Manager does at exit), else leaving the files for -stale/-hold to break.
 */

import process from "node:process";
import { dirname } from "node:path";
import { defineHelper, failure, fn, wrapped } from "./types.ts";
import type { Args, CallContext } from "./types.ts";
import type { HandleTable } from "../src/handles.ts";

/** A manager's configuration (LockFile::Simple->make). */
export interface LockConfig {
  max: number;
  delay: number;
  hold: number;
  ext: string;
  nfs: boolean;
  stale: boolean;
  autoclean: boolean;
  format: string | undefined;
  warn: boolean;
  /** Upper bound of a blocking `lock`, seconds (the wrapper's -max_wait); 0 = none. */
  maxWait: number;
}

interface Manager {
  readonly config: LockConfig;
  /** The Perl process that made the manager. */
  readonly ownerPid: number;
  /** filename → lock_id (LockFile::Simple's lock_by_file). */
  readonly byFile: Map<string, string>;
}

interface Lock {
  readonly managerId: string;
  readonly filename: string;
  /** As computed from the pattern (reported back). */
  readonly lockfile: string;
  /** Resolved against the caller's cwd. */
  readonly path: string;
  readonly stamp: string;
  readonly pid: number;
}

const DEFAULTS: LockConfig = {
  max: 30,
  delay: 2,
  hold: 3600,
  ext: ".lock",
  nfs: false,
  stale: false,
  autoclean: false,
  format: undefined,
  warn: true,
  maxWait: 0,
};

function managers(ctx: CallContext): HandleTable<Manager> {
  return ctx.handles<Manager>("managers", {
    prefix: "lockmgr",
    idleTtlMs: 0,
    newId: () => crypto.randomUUID(),
  });
}

function locks(ctx: CallContext): HandleTable<Lock> {
  return ctx.handles<Lock>("locks", {
    prefix: "lock",
    idleTtlMs: 0,
    newId: () => crypto.randomUUID(),
  });
}

function errText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (e instanceof Deno.errors.AlreadyExists) return "File exists";
  return e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/, "") : String(e);
}

/** True when a process with this PID exists (`kill 0, $pid`; EPERM means it exists). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== "" && v !== "0";
}

function numberOf(v: unknown, name: string): number | string {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : `Invalid value for -${name}: ${String(v)}`;
}

/** Builds a configuration from make()'s options (with or without LockFile::Simple's dashes). */
export function configOf(args: Args): LockConfig | string {
  const c: LockConfig = { ...DEFAULTS };
  let maxAge: unknown;
  for (const [rawKey, v] of Object.entries(args)) {
    if (v === undefined || v === null) continue;
    const key = rawKey.replace(/^-/, "");
    switch (key) {
      case "max":
      case "delay":
      case "hold":
      case "max_wait": {
        const n = numberOf(v, key);
        if (typeof n === "string") return n;
        if (key === "max_wait") c.maxWait = n;
        else c[key] = n;
        break;
      }
      case "max_age":
        maxAge = v;
        break;
      case "nfs":
      case "stale":
      case "autoclean":
      case "warn":
        c[key] = truthy(v);
        break;
      case "ext":
        c.ext = String(v);
        break;
      case "format":
        c.format = String(v);
        break;
      case "wmin":
      case "wafter":
      case "wfunc":
      case "efunc":
        break; // Warnings go to the daemon log; code refs cannot cross the wire.
      default:
        return `Unknown LockFile::Simple option: -${key}`;
    }
  }
  if (maxAge !== undefined) {
    const n = numberOf(maxAge, "max_age");
    if (typeof n === "string") return n;
    c.hold = n;
  }
  return c;
}

/** LockFile::Simple `lockfile()`: %f path, %D dir, %F base name, %p PID, %% a percent sign. */
export function expandFormat(format: string, file: string, pid: number): string {
  const m = /^(.*)\/(.*)$/s.exec(file);
  const base = m && m[2] !== "" ? m[2]! : file;
  const dir = m && m[1] !== "" ? m[1]! : ".";
  return format
    .replaceAll("%%", "\x01")
    .replaceAll("%", "\x02")
    .replaceAll("\x02f", file)
    .replaceAll("\x02D", dir)
    .replaceAll("\x02F", base)
    .replaceAll("\x02p", String(pid))
    .replaceAll("\x02", "%")
    .replaceAll("\x01", "%");
}

/** Expands `$VAR` and `${VAR}` like Python's os.path.expandvars (unknown names stay as they are). */
async function expandVars(s: string, ctx: CallContext): Promise<string> {
  const re = /\$(\w+)|\$\{([^}]+)\}/g;
  let out = "";
  let last = 0;
  for (const m of s.matchAll(re)) {
    const value = await ctx.callerEnv(m[1] ?? m[2]!);
    out += s.slice(last, m.index) + (value ?? m[0]);
    last = m.index! + m[0].length;
  }
  return out + s.slice(last);
}

async function readStamp(path: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(path);
    const nl = text.indexOf("\n");
    return nl >= 0 ? text.slice(0, nl) : text;
  } catch {
    return undefined;
  }
}

/** LockFile::Simple `_acs_stale`: removes the lock when its PID (on this host) is dead. */
async function breakStale(ctx: CallContext, c: LockConfig, file: string, path: string) {
  const stamp = await readStamp(path);
  if (stamp === undefined) return;
  const m = c.nfs ? /^(\d+):(\S+)/.exec(stamp) : /^(\d+)$/.exec(stamp);
  if (!m) return;
  const pid = Number(m[1]);
  if (c.nfs && m[2] !== Deno.hostname()) return;
  if (pidAlive(pid)) return;
  try {
    await Deno.remove(path);
    ctx.log.warn(`UNLOCKED ${file} (stale lock by PID ${pid}${c.nfs ? ` on ${m[2]}` : ""})`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      ctx.log.warn(`cannot unlink stale ${path}: ${errText(e)}`);
    }
  }
}

/** LockFile::Simple `_acs_check`: removes a lock file older than `hold` seconds. */
async function breakOld(ctx: CallContext, c: LockConfig, file: string, path: string) {
  let mtime: Date | null;
  try {
    mtime = (await Deno.stat(path)).mtime;
  } catch {
    return;
  }
  if (!mtime || (Date.now() - mtime.getTime()) / 1000 <= c.hold) return;
  try {
    await Deno.remove(path);
    if (c.warn) {
      ctx.log.warn(`UNLOCKED ${file} (lock older than ${c.hold} second${c.hold === 1 ? "" : "s"})`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) ctx.log.warn(`cannot unlink ${path}: ${errText(e)}`);
  }
}

type Attempt = { ok: true } | { ok: false; busy: boolean; error: string };

/** Creates the lock file with its stamp, atomically; `busy` when it already exists. */
async function create(path: string, stamp: string, nfs: boolean): Promise<Attempt> {
  const data = new TextEncoder().encode(`${stamp}\n`);
  await Deno.mkdir(dirname(path), { recursive: true }).catch(() => {});
  if (!nfs) {
    try {
      const f = await Deno.open(path, { createNew: true, write: true, mode: 0o444 });
      try {
        await f.write(data);
      } finally {
        f.close();
      }
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) {
        return { ok: false, busy: true, error: "Lock file exists" };
      }
      return { ok: false, busy: false, error: errText(e) };
    }
  } else {
    // NFS: O_EXCL is unreliable; link() a private file, and trust its link count if link() lies.
    const tmp = `${dirname(path)}/.${crypto.randomUUID()}.lcktmp`;
    try {
      await Deno.writeFile(tmp, data, { createNew: true, mode: 0o444 });
    } catch (e) {
      return { ok: false, busy: false, error: errText(e) };
    }
    try {
      await Deno.link(tmp, path);
    } catch (e) {
      const linked = await Deno.stat(tmp).then((s) => s.nlink === 2, () => false);
      if (!linked) {
        await Deno.remove(tmp).catch(() => {});
        if (e instanceof Deno.errors.AlreadyExists) {
          return { ok: false, busy: true, error: "Lock file exists" };
        }
        return { ok: false, busy: false, error: errText(e) };
      }
    }
    await Deno.remove(tmp).catch(() => {});
  }
  // Check the lock, as LockFile::Simple does: exactly our stamp.
  const text = await Deno.readTextFile(path).catch(() => "");
  if (text !== `${stamp}\n`) return { ok: false, busy: true, error: "Lock file exists" };
  return { ok: true };
}

interface Target {
  manager: Manager;
  managerId: string;
  filename: string;
  lockfile: string;
  path: string;
  stamp: string;
  pid: number;
}

async function targetOf(
  args: Args,
  ctx: CallContext,
): Promise<Target | { failure: Record<string, unknown> }> {
  const managerId = String(args.manager_id);
  const manager = managers(ctx).get(args.manager_id);
  if (!manager) return { failure: failure(`Invalid manager ID: ${managerId}`) };
  const filename = args.filename;
  if (typeof filename !== "string" || filename === "") {
    return { failure: failure("Filename required for lock") };
  }
  const pid = ctx.callerPid ?? Deno.pid;
  const pattern = typeof args.lockfile_pattern === "string" && args.lockfile_pattern !== ""
    ? args.lockfile_pattern
    : manager.config.format;
  const raw = pattern === undefined
    ? filename + manager.config.ext
    : expandFormat(pattern, filename, pid);
  const lockfile = await expandVars(raw, ctx);
  const path = await ctx.resolvePath(lockfile);
  const stamp = manager.config.nfs ? `${pid}:${Deno.hostname()}` : String(pid);
  return { manager, managerId, filename, lockfile, path, stamp, pid };
}

async function attempt(ctx: CallContext, t: Target): Promise<Attempt> {
  const c = t.manager.config;
  if (c.stale) await breakStale(ctx, c, t.filename, t.path);
  if (c.hold) await breakOld(ctx, c, t.filename, t.path);
  return await create(t.path, t.stamp, c.nfs);
}

function locked(ctx: CallContext, t: Target) {
  const lock: Lock = {
    managerId: t.managerId,
    filename: t.filename,
    lockfile: t.lockfile,
    path: t.path,
    stamp: t.stamp,
    pid: t.pid,
  };
  const id = locks(ctx).add(lock);
  t.manager.byFile.set(t.filename, id);
  return wrapped({ lock_id: id, filename: t.filename, lockfile: t.lockfile, pid: t.pid });
}

function make(args: Args, ctx: CallContext) {
  const config = configOf(args);
  if (typeof config === "string") return failure(config);
  const id = managers(ctx).add({ config, ownerPid: ctx.callerPid ?? Deno.pid, byFile: new Map() });
  return wrapped({
    manager_id: id,
    nfs: config.nfs,
    hold: config.hold,
    max: config.max,
    delay: config.delay,
    stale: config.stale,
    autoclean: config.autoclean,
    format: config.format ?? null,
  });
}

async function trylock(args: Args, ctx: CallContext) {
  const t = await targetOf(args, ctx);
  if ("failure" in t) return t.failure;
  if (t.manager.byFile.has(t.filename)) {
    return failure(`Could not acquire lock on ${t.filename}: already locked by this manager`);
  }
  const a = await attempt(ctx, t);
  if (!a.ok) return failure(`Could not acquire lock on ${t.filename}: ${a.error}`);
  return locked(ctx, t);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** LockFile::Simple `lock()`: up to -max attempts, -delay seconds apart, without blocking. */
async function lock(args: Args, ctx: CallContext) {
  const t = await targetOf(args, ctx);
  if ("failure" in t) return t.failure;
  const c = t.manager.config;
  if (t.manager.byFile.has(t.filename)) {
    return failure(
      `Could not acquire lock on ${t.filename}: file ${t.filename} already locked by this manager`,
    );
  }
  const start = Date.now();
  // Give up before the daemon's call timeout, so the caller gets an answer, not a retry.
  let budget = Math.max(0, ctx.settings.helperTimeoutMs - 2000);
  if (c.maxWait > 0) budget = Math.min(budget, c.maxWait * 1000);
  let tries = 0;
  let lastWarn = 0;
  for (let left = Math.max(1, Math.floor(c.max)); left > 0; left--) {
    tries++;
    const a = await attempt(ctx, t);
    if (a.ok) return locked(ctx, t);
    if (!a.busy) return failure(`Could not acquire lock on ${t.filename}: ${a.error}`);
    const waited = Date.now() - start;
    if (left === 1 || waited + c.delay * 1000 > budget) break;
    try {
      await sleep(c.delay * 1000, ctx.signal);
    } catch {
      return failure(
        `Could not acquire lock on ${t.filename}: cancelled (${String(ctx.signal.reason)})`,
      );
    }
    const secs = Math.round((Date.now() - start) / 1000);
    if (c.warn && ((!lastWarn && secs > 15) || secs - lastWarn > 20)) {
      ctx.log.warn(
        `${lastWarn ? "still waiting" : "waiting"} for ${t.filename} lock ${
          lastWarn ? "after" : "since"
        } ${secs} seconds`,
      );
      lastWarn = secs;
    }
  }
  const secs = ((Date.now() - start) / 1000).toFixed(1);
  return failure(
    `Could not acquire lock on ${t.filename}: Lock file exists (gave up after ${tries} attempts, ${secs} s)`,
  );
}

/** Removes the lock file if it still holds our stamp (LockFile::Simple `_acs_unlock`). */
async function unlinkIfOurs(l: Lock): Promise<string | undefined> {
  const stamp = await readStamp(l.path);
  if (stamp === undefined) return `no lockfile found for ${l.filename} (${l.lockfile})`;
  if (stamp !== l.stamp) {
    return `cannot unlock ${l.filename}: lock not owned (${l.lockfile} holds ${stamp})`;
  }
  try {
    await Deno.remove(l.path);
  } catch (e) {
    return `cannot unlock ${l.filename}: ${errText(e)}`;
  }
  return undefined;
}

async function forget(ctx: CallContext, id: string, l: Lock) {
  const m = managers(ctx).get(l.managerId);
  if (m && m.byFile.get(l.filename) === id) m.byFile.delete(l.filename);
  await locks(ctx).delete(id, "released");
}

async function release(args: Args, ctx: CallContext) {
  const id = String(args.lock_id);
  const l = locks(ctx).get(args.lock_id);
  if (!l) return failure("Invalid lock ID or lock already released");
  await forget(ctx, id, l);
  const err = await unlinkIfOurs(l);
  if (err) return failure(err);
  return wrapped({ lock_id: id, released: true, filename: l.filename, lockfile: l.lockfile });
}

/** LockFile::Simple `unlock($file)`: releases this manager's lock on a file. */
async function unlock(args: Args, ctx: CallContext) {
  const m = managers(ctx).get(args.manager_id);
  if (!m) return failure(`Invalid manager ID: ${String(args.manager_id)}`);
  const id = m.byFile.get(String(args.filename));
  if (!id) return failure(`file ${String(args.filename)} not currently locked`);
  return await release({ lock_id: id }, ctx);
}

async function releaseAll(ctx: CallContext, managerId: string, m: Manager, removeFiles: boolean) {
  let released = 0;
  for (const id of [...m.byFile.values()]) {
    const l = locks(ctx).get(id);
    if (!l) continue;
    await forget(ctx, id, l);
    if (removeFiles && (await unlinkIfOurs(l)) === undefined) released++;
  }
  await managers(ctx).delete(managerId, "cleaned up");
  return released;
}

async function cleanupManager(args: Args, ctx: CallContext) {
  const id = String(args.manager_id);
  const m = managers(ctx).get(args.manager_id);
  const released = m ? await releaseAll(ctx, id, m, true) : 0;
  return wrapped({ manager_id: id, cleaned_up: true, released });
}

/** Janitor hook: forgets managers whose Perl process has exited (autoclean removes their files). */
async function cleanupStale(ctx: CallContext) {
  const t = managers(ctx);
  for (const id of t.ids()) {
    const m = t.get(id);
    if (!m || pidAlive(m.ownerPid)) continue;
    const n = await releaseAll(ctx, id, m, m.config.autoclean);
    ctx.log.info(
      `Lock manager ${id} of exited PID ${m.ownerPid} dropped${
        m.config.autoclean ? `, ${n} lock(s) released` : ""
      }`,
    );
  }
}

export const lockfileHelper = defineHelper({
  name: "lockfile",
  replaces: "LockFileHelper.pm (LockFile::Simple)",
  functions: {
    make: fn(
      [
        "nfs",
        "hold",
        "max_age",
        "delay",
        "max_wait",
        "max",
        "stale",
        "autoclean",
        "format",
        "ext",
        "warn",
      ],
      make,
      {
        variadic: true,
      },
    ),
    trylock: fn(["manager_id", "filename", "lockfile_pattern"], trylock),
    lock: fn(["manager_id", "filename", "lockfile_pattern"], lock),
    unlock: fn(["manager_id", "filename"], unlock),
    release: fn(["lock_id"], release),
    cleanup_manager: fn(["manager_id"], cleanupManager),
  },
  cleanupStale,
});

export default lockfileHelper;
