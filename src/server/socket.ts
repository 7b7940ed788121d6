/**
 * @module
 * Taking the socket path safely (contract §2.1, §12 D1, V4). DEFECT-FIX D1: a path whose daemon
 * answers a ping is never taken over; only a dead socket is removed. DEFECT-FIX V4: the socket is
 * bound inside a private 0700 directory, given its mode and group, then renamed into place, so
 * it never exists with looser permissions. At shutdown it is removed only if it is still ours.
 */

import { StartupError } from "../errors.ts";
import { ownerName, resolveGid } from "../users.ts";

/** Sends `test.ping` to a socket path; true when a daemon answers with success. */
export async function probeDaemon(path: string, timeoutMs = 2000): Promise<boolean> {
  let conn: Deno.UnixConn | undefined;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = await Deno.connect({ transport: "unix", path });
    await conn.write(new TextEncoder().encode('{"module":"test","function":"ping","params":{}}'));
    await conn.closeWrite();
    const text = await new Response(conn.readable).text();
    conn = undefined;
    return JSON.parse(text)?.success === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

/**
 * For client commands: undefined when the socket at `path` is the caller's own (or absent);
 * otherwise who owns it, and the refusal text unless `allow` (CPAN_BRIDGE_ALLOW_FOREIGN_DAEMON).
 */
export function foreignDaemon(
  path: string,
  allow: boolean,
): { owner: string; refusal?: string } | undefined {
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(path);
  } catch {
    return undefined;
  }
  const me = Deno.uid();
  if (me === null || st.uid === me) return undefined;
  const owner = ownerName(st.uid!);
  return allow ? { owner } : {
    owner,
    refusal: `Refusing the daemon at ${path}: its socket is owned by ${owner}, not by you (${
      ownerName(me)
    }); another user's daemon could read everything you send it. Set CPAN_BRIDGE_ALLOW_FOREIGN_DAEMON=1 to use it anyway`,
  };
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : p.slice(0, i);
}

/** The socket a daemon listens on. */
export interface BoundSocket {
  readonly listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly path: string;
  /** True while the path still names our socket (not replaced or removed). */
  isOurs(): boolean;
  /** Removes the socket file if it is still ours. Returns true if removed. */
  remove(): boolean;
}

/**
 * Binds the daemon socket at `path`.
 *
 * @throws {StartupError} when a live daemon owns the path, or the path is not a socket
 */
export async function bindSocket(path: string, mode: number, group: string): Promise<BoundSocket> {
  let existing: Deno.FileInfo | undefined;
  try {
    existing = await Deno.lstat(path);
  } catch { /* free */ }
  if (existing) {
    if (!existing.isSocket) {
      throw new StartupError(
        `Cannot listen on ${path}: it exists and is not a socket; remove it or choose another --socket`,
      );
    }
    const me = Deno.uid();
    const foreign = me !== null && existing.uid !== me ? existing.uid! : undefined;
    if (await probeDaemon(path)) {
      throw new StartupError(
        foreign !== undefined
          ? `Cannot listen on ${path}: a daemon of another user, ${
            ownerName(foreign)
          }, is running there (its socket answered a ping); it is not yours: do not use it, choose another --socket`
          : `Cannot listen on ${path}: another cpan-bridge daemon is running there (it answered a ping); stop it first (cpan-bridge stop --socket ${path}) or choose another --socket`,
      );
    }
    if (foreign !== undefined) {
      throw new StartupError(
        `Cannot listen on ${path}: a dead socket owned by ${
          ownerName(foreign)
        } is there, not the daemon's user's (${
          ownerName(me!)
        }); remove it (as that user or root) or choose another --socket`,
      );
    }
    await Deno.remove(path); // stale, ours: nobody answers
  }
  const dir = dirname(path);
  const privateDir = await Deno.makeTempDir({ dir, prefix: ".cpan-bridge-" });
  const tmp = `${privateDir}/s`;
  let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  try {
    await Deno.chmod(privateDir, 0o700);
    listener = Deno.listen({ transport: "unix", path: tmp });
    try {
      await Deno.chmod(tmp, mode);
      if (group) await Deno.chown(tmp, null, resolveGid(group));
      await Deno.rename(tmp, path);
    } catch (err) {
      listener.close();
      throw err;
    }
  } finally {
    try {
      await Deno.remove(privateDir, { recursive: true });
    } catch { /* gone */ }
  }
  const ino = (await Deno.lstat(path)).ino;
  const isOurs = () => {
    try {
      return Deno.lstatSync(path).ino === ino;
    } catch {
      return false;
    }
  };
  return {
    listener,
    path,
    isOurs,
    remove: () => {
      if (!isOurs()) return false;
      try {
        Deno.removeSync(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}
