/**
 * @module
 * `lockfile`: serves LockFileHelper.pm, which replaces LockFile::Simple 0.208 (helpers contract
 * §3.7). Wrapped results. Lock files are interoperable with real LockFile::Simple processes:
 * - the file holds the Perl CALLER's stamp, `"<pid>\n"` (`"<pid>:<hostname>\n"` with -nfs), so
 *   -stale detection by anyone (`kill 0, $pid`) sees the right process; created read-only (0444)
 *   and atomically (O_EXCL, or link() with -nfs), then read back as LockFile::Simple does;
 * - the name is `<file>.lock` (-ext) or -format / the pattern with %f, %D, %F, %p, %%, taken as
 *   Perl bytes; relative names are relative to the caller's cwd. Nothing else is expanded
 *   (`${VAR}` stays literal) and a missing directory makes the lock fail, as in LockFile::Simple.
 * - before each attempt: -stale breaks a lock whose PID is dead (on this host), -hold breaks a
 *   lock older than `hold` seconds (`max_age` overrides `hold`; 0 disables).
 * Ids carry their state (ids.ts), so `release`, `trylock` and stale-breaking work after a daemon
 * restart; `release` unlinks only a file holding the caller's own stamp, and like LockFile::Simple
 * answers `released: false` (not an error) when the file is gone or not ours.
 * `trylock` makes one attempt; `lock` retries -max times every -delay seconds with async waits,
 * bounded by `max_wait` and the daemon's call timeout. Handles never expire by idle time; the
 * janitor drops the managers of exited callers, releasing their locks only with -autoclean.
 */

import { defineHelper, failure, fn, perlPath, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { HandleOwnerError } from "../types.ts";
import type { HandleTable } from "../types.ts";
import { configOf } from "./config.ts";
import type { LockConfig } from "./config.ts";
import { lockId, managerId, parseLockId, parseManagerId } from "./ids.ts";
import type { LockRef } from "./ids.ts";
import { breakOld, breakStale, createLock, expandFormat, pidAlive, unlinkIfOurs } from "./files.ts";
import type { Attempt } from "./files.ts";

export { configOf } from "./config.ts";
export { expandFormat, pidAlive } from "./files.ts";
export { lockId, managerId, parseLockId, parseManagerId } from "./ids.ts";

interface Manager {
  readonly config: LockConfig;
  /** The Perl process that made the manager. */
  readonly ownerPid: number;
  /** filename → lock_id (LockFile::Simple's lock_by_file), for the locks taken since start. */
  readonly byFile: Map<string, string>;
}

function managers(ctx: CallContext): HandleTable<Manager> {
  return ctx.handles<Manager>("managers", { prefix: "lockmgr", idleTtlMs: 0 });
}

function locks(ctx: CallContext): HandleTable<LockRef> {
  return ctx.handles<LockRef>("locks", { prefix: "lock", idleTtlMs: 0 });
}

/**
 * `get` of the caller's view of a table; an entry another client process opened reads as
 * `"foreign"` (a forked child using its parent's Perl object), never as a throw.
 */
function own<T>(t: HandleTable<T>, id: unknown): T | undefined | "foreign" {
  try {
    return t.get(id);
  } catch (e) {
    if (e instanceof HandleOwnerError) return "foreign";
    throw e;
  }
}

/**
 * The manager an id names: known since start, or decoded from the id (after a restart, or in a
 * forked child using its parent's manager: then it is used without being registered).
 */
function managerOf(ctx: CallContext, id: unknown): Manager | undefined {
  const t = managers(ctx);
  const known = own(t, id);
  if (known && known !== "foreign") return known;
  const ref = parseManagerId(id);
  if (!ref) return undefined;
  const m: Manager = { ...ref, byFile: new Map() };
  if (known !== "foreign") t.add(m, id as string);
  return m;
}

function stampOf(pid: number, nfs: boolean): string {
  return nfs ? `${pid}:${Deno.hostname()}` : String(pid);
}

interface Target {
  manager: Manager;
  ref: LockRef;
  pid: number;
}

async function targetOf(
  args: Args,
  ctx: CallContext,
): Promise<Target | { failure: Record<string, unknown> }> {
  const mid = String(args.manager_id);
  const manager = managerOf(ctx, args.manager_id);
  if (!manager) return { failure: failure(`Invalid manager ID: ${mid}`) };
  // Perl: undef . ".lock" is ".lock", as is "" (LockFile::Simple locks ".lock" in the cwd).
  const filename = args.filename === undefined || args.filename === null
    ? ""
    : String(args.filename);
  const pid = ctx.callerPid ?? Deno.pid;
  const pattern = typeof args.lockfile_pattern === "string" && args.lockfile_pattern !== ""
    ? args.lockfile_pattern
    : manager.config.format;
  const lockfile = pattern === undefined
    ? filename + manager.config.ext
    : expandFormat(pattern, filename, pid);
  const name = perlPath(lockfile);
  if (name === undefined) {
    return {
      failure: failure(
        `Could not acquire lock on ${filename}: the lock file name is not valid UTF-8 bytes, ` +
          `which this daemon cannot use as a path`,
      ),
    };
  }
  const path = await ctx.resolvePath(name);
  const stamp = stampOf(pid, manager.config.nfs);
  return { manager, pid, ref: { path, stamp, filename, lockfile, managerId: mid } };
}

async function attempt(ctx: CallContext, t: Target): Promise<Attempt> {
  const c = t.manager.config;
  if (c.stale) await breakStale(ctx, c, t.ref.filename, t.ref.path);
  if (c.hold) await breakOld(ctx, c, t.ref.filename, t.ref.path);
  return await createLock(t.ref.path, t.ref.stamp, c.nfs);
}

function locked(ctx: CallContext, t: Target) {
  const id = lockId(t.ref);
  const table = locks(ctx);
  if (!table.has(id)) table.add(t.ref, id);
  t.manager.byFile.set(t.ref.filename, id);
  return wrapped({ lock_id: id, filename: t.ref.filename, lockfile: t.ref.lockfile, pid: t.pid });
}

function make(args: Args, ctx: CallContext) {
  const config = configOf(args);
  if (typeof config === "string") return failure(config);
  const ownerPid = ctx.callerPid ?? Deno.pid;
  const id = managerId({ config, ownerPid });
  managers(ctx).add({ config, ownerPid, byFile: new Map() }, id);
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
  if (t.manager.byFile.has(t.ref.filename)) {
    return failure(`Could not acquire lock on ${t.ref.filename}: already locked by this manager`);
  }
  const a = await attempt(ctx, t);
  if (!a.ok) return failure(`Could not acquire lock on ${t.ref.filename}: ${a.error}`);
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
  const file = t.ref.filename;
  if (t.manager.byFile.has(file)) {
    return failure(
      `Could not acquire lock on ${file}: file ${file} already locked by this manager`,
    );
  }
  const start = ctx.clock.now();
  // Give up before the daemon's call timeout, so the caller gets an answer, not a retry.
  let budget = Math.max(0, ctx.settings.helperTimeoutMs - 2000);
  if (c.maxWait > 0) budget = Math.min(budget, c.maxWait * 1000);
  let tries = 0;
  let lastWarn = 0;
  for (let left = Math.max(1, Math.floor(c.max)); left > 0; left--) {
    tries++;
    const a = await attempt(ctx, t);
    if (a.ok) return locked(ctx, t);
    if (!a.busy) return failure(`Could not acquire lock on ${file}: ${a.error}`);
    const waited = ctx.clock.now() - start;
    if (left === 1 || waited + c.delay * 1000 > budget) break;
    try {
      await sleep(c.delay * 1000, ctx.signal);
    } catch {
      return failure(`Could not acquire lock on ${file}: cancelled (${String(ctx.signal.reason)})`);
    }
    const secs = Math.round((ctx.clock.now() - start) / 1000);
    if (c.warn && ((!lastWarn && secs > 15) || secs - lastWarn > 20)) {
      const still = lastWarn ? "still waiting" : "waiting";
      ctx.log.warn(`${still} for ${file} lock ${lastWarn ? "after" : "since"} ${secs} seconds`);
      lastWarn = secs;
    }
  }
  const secs = ((ctx.clock.now() - start) / 1000).toFixed(1);
  return failure(
    `Could not acquire lock on ${file}: Lock file exists (gave up after ${tries} attempts, ${secs} s)`,
  );
}

async function forget(ctx: CallContext, id: string, ref: LockRef) {
  const m = own(managers(ctx), ref.managerId);
  if (m && m !== "foreign" && m.byFile.get(ref.filename) === id) m.byFile.delete(ref.filename);
  if (own(locks(ctx), id) !== "foreign") await locks(ctx).delete(id, "released");
}

/**
 * LockFile::Lock `release`: unlinks the file if it holds the CALLER's stamp (LockFile::Simple
 * computes it from `$$` at unlock time). A missing or foreign file gives `released: false`.
 */
async function release(args: Args, ctx: CallContext) {
  const known = own(locks(ctx), args.lock_id);
  const ref = (known === "foreign" ? undefined : known) ?? parseLockId(args.lock_id);
  if (!ref) return failure("Invalid lock ID or lock already released");
  const id = String(args.lock_id);
  await forget(ctx, id, ref);
  const nfs = ref.stamp.includes(":");
  const stamp = ctx.callerPid === undefined ? ref.stamp : stampOf(ctx.callerPid, nfs);
  const u = await unlinkIfOurs(ref.path, stamp, ref.filename);
  if (!u.unlocked) ctx.log.warn(u.warning);
  return wrapped({
    lock_id: id,
    released: u.unlocked,
    filename: ref.filename,
    lockfile: ref.lockfile,
    ...(u.unlocked ? {} : { warning: u.warning }),
  });
}

/** LockFile::Simple `unlock($file)`: releases this manager's lock on a file. */
async function unlock(args: Args, ctx: CallContext) {
  const m = managerOf(ctx, args.manager_id);
  if (!m) return failure(`Invalid manager ID: ${String(args.manager_id)}`);
  const id = m.byFile.get(String(args.filename));
  if (!id) return failure(`file ${String(args.filename)} not currently locked`);
  return await release({ lock_id: id }, ctx);
}

async function releaseAll(ctx: CallContext, mid: string, m: Manager, removeFiles: boolean) {
  let released = 0;
  for (const id of [...m.byFile.values()]) {
    const ref = locks(ctx).get(id);
    if (!ref) continue;
    await forget(ctx, id, ref);
    if (removeFiles && (await unlinkIfOurs(ref.path, ref.stamp, ref.filename)).unlocked) {
      released++;
    }
  }
  await managers(ctx).delete(mid, "cleaned up");
  return released;
}

async function cleanupManager(args: Args, ctx: CallContext) {
  const id = String(args.manager_id);
  const m = own(managers(ctx), args.manager_id);
  const released = m && m !== "foreign" ? await releaseAll(ctx, id, m, true) : 0;
  return wrapped({ manager_id: id, cleaned_up: true, released });
}

/** Janitor hook: forgets managers whose Perl process has exited (autoclean removes their files). */
async function cleanupStale(ctx: CallContext) {
  const t = managers(ctx);
  for (const id of t.ids()) {
    const m = t.get(id);
    if (!m || (await pidAlive(m.ownerPid))) continue;
    const n = await releaseAll(ctx, id, m, m.config.autoclean);
    const what = m.config.autoclean ? `, ${n} lock(s) released` : "";
    ctx.log.info(`Lock manager of exited PID ${m.ownerPid} dropped${what}`);
  }
}

const MAKE_PARAMS = [
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
];

export const lockfileHelper = defineHelper({
  name: "lockfile",
  replaces: "LockFileHelper.pm (LockFile::Simple)",
  functions: {
    make: fn(MAKE_PARAMS, make, { variadic: true }),
    trylock: fn(["manager_id", "filename", "lockfile_pattern"], trylock),
    lock: fn(["manager_id", "filename", "lockfile_pattern"], lock),
    unlock: fn(["manager_id", "filename"], unlock),
    release: fn(["lock_id"], release),
    cleanup_manager: fn(["manager_id"], cleanupManager),
  },
  cleanupStale,
});

export default lockfileHelper;
