/**
 * @module
 * Lock files as LockFile::Simple 0.208 makes them: the name (`lockfile()` macros), the stamp
 * `"<pid>\n"` (`"<pid>:<host>\n"` with -nfs) created read-only and atomically, the -stale and
 * -hold checks, and `_acs_unlock` (unlink only a file holding exactly our stamp). Names are Perl
 * strings: their bytes (`perlBytes`) are the file name, as Perl's `open` uses them.
 */

import process from "node:process";
import type { LockConfig } from "./config.ts";
import type { CallContext } from "../types.ts";
import { perlErrno } from "../types.ts";

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

/**
 * True when a process with this PID exists, LockFile::Simple's `kill 0, $pid` (a zombie counts,
 * EPERM counts): /proc/<pid>, else a signal 0. When neither may be looked at (Deno refuses both
 * without --allow-all / --allow-run), the process counts as alive.
 */
export async function pidAlive(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && (await procMounted())) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // ESRCH: no such process. EPERM: it exists. Anything else (no permission to look, e.g. Deno's
    // NotCapable): unknown, so alive; a lock that cannot be checked is never broken as stale.
    return (e as { code?: string }).code !== "ESRCH";
  }
}

async function procMounted(): Promise<boolean> {
  return await Deno.stat("/proc/self").then(() => true, () => false);
}

/** The whole content of a (small) lock file, or undefined when it cannot be read. */
export async function readLockFile(path: string): Promise<string | undefined> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    if (!(await f.stat()).isFile) return undefined;
    const buf = new Uint8Array(4096); // a stamp is a PID and a host name
    const n = await f.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } catch {
    return undefined;
  } finally {
    f.close();
  }
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl >= 0 ? text.slice(0, nl) : text;
}

/** LockFile::Simple `_acs_stale`: removes the lock when its PID (on this host) is dead. */
export async function breakStale(ctx: CallContext, c: LockConfig, file: string, path: string) {
  const text = await readLockFile(path);
  if (text === undefined) return;
  const stamp = firstLine(text);
  const m = c.nfs ? /^(\d+):(\S+)/.exec(stamp) : /^(\d+)$/.exec(stamp);
  if (!m) return;
  const pid = Number(m[1]);
  if (c.nfs && m[2] !== Deno.hostname()) return;
  if (await pidAlive(pid)) return;
  try {
    await Deno.remove(path);
    ctx.log.warn(`UNLOCKED ${file} (stale lock by PID ${pid}${c.nfs ? ` on ${m[2]}` : ""})`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      ctx.log.warn(`cannot unlink stale ${path}: ${perlErrno(e)}`);
    }
  }
}

/** LockFile::Simple `_acs_check`: removes a lock file older than `hold` seconds. */
export async function breakOld(ctx: CallContext, c: LockConfig, file: string, path: string) {
  let mtime: Date | null;
  try {
    mtime = (await Deno.stat(path)).mtime;
  } catch {
    return;
  }
  if (!mtime || (ctx.clock.now() - mtime.getTime()) / 1000 <= c.hold) return;
  try {
    await Deno.remove(path);
    if (c.warn) {
      ctx.log.warn(`UNLOCKED ${file} (lock older than ${c.hold} second${c.hold === 1 ? "" : "s"})`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      ctx.log.warn(`cannot unlink ${path}: ${perlErrno(e)}`);
    }
  }
}

/** One attempt's outcome; `busy` when someone holds the lock. */
export type Attempt = { ok: true } | { ok: false; busy: boolean; error: string };

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * Creates the lock file with its stamp, atomically (O_EXCL, or with -nfs a hard link of a
 * private file). A missing directory is an error, as for LockFile::Simple: it is not created.
 */
export async function createLock(path: string, stamp: string, nfs: boolean): Promise<Attempt> {
  const data = new TextEncoder().encode(`${stamp}\n`);
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
      return { ok: false, busy: false, error: perlErrno(e) };
    }
  } else {
    // NFS: O_EXCL is unreliable; link() a private file, and trust its link count if link() lies.
    const tmp = `${dirOf(path)}/.${crypto.randomUUID()}.lcktmp`;
    try {
      await Deno.writeFile(tmp, data, { createNew: true, mode: 0o444 });
    } catch (e) {
      return { ok: false, busy: false, error: perlErrno(e) };
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
        return { ok: false, busy: false, error: perlErrno(e) };
      }
    }
    await Deno.remove(tmp).catch(() => {});
  }
  // Check the lock, as LockFile::Simple does: exactly our stamp.
  if ((await readLockFile(path)) !== `${stamp}\n`) {
    return { ok: false, busy: true, error: "Lock file exists" };
  }
  return { ok: true };
}

/** `_acs_unlock`'s outcome: unlocked, or why not (LockFile::Simple then returns 0). */
export type Unlock = { unlocked: true } | { unlocked: false; warning: string };

/** Removes the lock file if it holds exactly `stamp` (LockFile::Simple `_acs_unlock`). */
export async function unlinkIfOurs(path: string, stamp: string, file: string): Promise<Unlock> {
  const text = await readLockFile(path);
  if (text === undefined) return { unlocked: false, warning: `no lockfile found for ${file}` };
  if (firstLine(text) !== stamp) {
    return { unlocked: false, warning: `cannot unlock ${file}: lock not owned` };
  }
  try {
    await Deno.remove(path);
  } catch (e) {
    return { unlocked: false, warning: `cannot unlock ${file}: ${perlErrno(e)}` };
  }
  return { unlocked: true };
}
