/**
 * @module
 * `openssh`: serves OpenSSHHelper.pm, which replaces Net::OpenSSH, only `scp_put` (helpers
 * contract §3.10). Wrapped results; one connection per `connection_id` (a UUID), closed after the
 * daemon's handle idle TTL; calls on one connection run one at a time. As in Python, the upload
 * goes over SFTP (no `scp` needed on the server). A failed connect is not an error: `new` returns
 * `connected:false` and `get_error` says why, as Net::OpenSSH's `->error` does.
 */

import { str } from "./types.ts";

import { basename, posix } from "node:path";
import type { HandleTable } from "./types.ts";
import { defineHelper, failure, fn, perlPath, wrapped } from "./types.ts";
import type { Args, CallContext } from "./types.ts";
import { type Attrs, call, type SshConnection } from "./sftp/ssh.ts";
import { connectSsh } from "./sftp/connect.ts";
import { parseSshArgs } from "./sftp/options.ts";

/** One Net::OpenSSH object's server side. */
interface SshSession {
  readonly conn: SshConnection | undefined;
  readonly label: string;
  readonly home: string;
  lastError: string | null;
}

function connections(ctx: CallContext): HandleTable<SshSession> {
  return ctx.handles<SshSession>("connections", {
    prefix: "openssh",
    newId: () => crypto.randomUUID(),
    dispose: (s, reason) => s.conn?.close(reason),
  });
}

/**
 * A path as Net::OpenSSH hands it to scp: the Perl string's bytes. ssh2 and Deno name files by a
 * string's UTF-8, so this is `perlPath`; `null` when the bytes are not UTF-8 and cannot be sent.
 */
const pathArg = (v: unknown): string | null | undefined => {
  const s = str(v);
  return s === undefined ? undefined : perlPath(s) ?? null;
};
const notUtf8 = (what: string, v: unknown) =>
  `${what} name "${
    String(v).replace(/[\u0080-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`)
  }" is not UTF-8 bytes, which this daemon cannot send`;
const message = (e: unknown) => e instanceof Error ? e.message : String(e);

async function newConnection(args: Args, ctx: CallContext) {
  if (!str(args.host) || !str(args.user)) {
    return failure("Net::OpenSSH: host and user are required");
  }
  const parsed = await parseSshArgs(args, ctx, { port: 22, timeoutS: 30 });
  const table = connections(ctx);
  if ("error" in parsed) {
    const id = table.add({
      conn: undefined,
      label: str(args.host)!,
      home: "",
      lastError: parsed.error,
    });
    return wrapped({ connection_id: id, connected: false, error: parsed.error });
  }
  const t = parsed.target;
  const label = `${t.user}@${t.host}:${t.port}`;
  try {
    const conn = await connectSsh({ ...t, defaultKeys: true }, ctx);
    const home = await conn.op(
      "realpath",
      ctx.signal,
      () => call<string>((cb) => conn.sftp.realpath(".", cb)),
    );
    const id = table.add({ conn, label, home, lastError: null });
    ctx.log.info(`SSH connection ${id} to ${label}`);
    return wrapped({ connection_id: id, connected: true });
  } catch (e) {
    const error = `Unable to connect to ${label}: ${message(e)}`;
    const id = table.add({ conn: undefined, label, home: "", lastError: error });
    return wrapped({ connection_id: id, connected: false, error });
  }
}

/** `perm` as Perl sends it: a number (0644 arrives as 420) or an octal string ("0644", "755"). */
function parsePerm(v: unknown): number | undefined | "bad" {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v <= 0o7777 ? v : "bad";
  const s = String(v).trim();
  return /^0?[0-7]{3,4}$/.test(s) ? parseInt(s, 8) : "bad";
}

async function scpPut(args: Args, ctx: CallContext) {
  const id = str(args.connection_id) ?? "";
  const table = connections(ctx);
  if (!table.get(id)) return failure(`Invalid connection ID: ${id} (unknown or disconnected)`);
  return await table.withLock(id, async (s) => {
    const fail = (e: string) => {
      s.lastError = e;
      return wrapped(false);
    };
    if (!s.conn || s.conn.closed) {
      return fail(
        `Not connected to ${s.label}: ${s.conn?.closeReason ?? s.lastError ?? "connect failed"}`,
      );
    }
    const conn = s.conn;
    const opts = (args.options && typeof args.options === "object" ? args.options : {}) as Record<
      string,
      unknown
    >;
    const perm = parsePerm(opts.perm);
    if (perm === "bad") {
      return fail(`Invalid perm option: ${String(opts.perm)} (use e.g. 0644 or "0644")`);
    }
    const localArg = pathArg(args.local_file);
    if (localArg === null) return fail(notUtf8("Local file", args.local_file));
    if (!localArg) return fail("Local file not found: no local_file given");
    const local = await ctx.resolvePath(localArg);
    try {
      if (!(await Deno.stat(local)).isFile) {
        return fail(`Local file not found: ${local} is not a regular file`);
      }
    } catch {
      return fail(`Local file not found: ${local}`);
    }
    const remoteArg = pathArg(args.remote_file);
    if (remoteArg === null) return fail(notUtf8("Remote file", args.remote_file));
    let target = posix.resolve(s.home, remoteArg || ".");
    try {
      await conn.op("scp_put", ctx.signal, async (touch) => {
        // scp semantics: a directory target receives the file under its own name.
        const st = await call<Attrs>((cb) => conn.sftp.stat(target, cb)).catch(() => undefined);
        if (st && (st.mode & 0o170000) === 0o040000) target = posix.join(target, basename(local));
        await call<void>((cb) => conn.sftp.fastPut(local, target, { step: touch }, cb));
      });
    } catch (e) {
      return fail(`Upload failed: ${local} -> ${target}: ${message(e)}`);
    }
    if (perm !== undefined) {
      try {
        await conn.op(
          "chmod",
          ctx.signal,
          () => call<void>((cb) => conn.sftp.chmod(target, perm, cb)),
        );
      } catch (e) {
        return fail(`File uploaded but chmod failed: ${target}: ${message(e)}`);
      }
    }
    ctx.log.info(`${s.label}: scp_put ${local} -> ${target}`);
    s.lastError = null;
    return wrapped(true);
  });
}

function getError(args: Args, ctx: CallContext) {
  const id = str(args.connection_id) ?? "";
  const s = connections(ctx).get(id);
  return s
    ? wrapped(s.lastError)
    : failure(`Invalid connection ID: ${id} (unknown or disconnected)`);
}

async function disconnect(args: Args, ctx: CallContext) {
  const id = str(args.connection_id) ?? "";
  const table = connections(ctx);
  if (table.get(id)) {
    await table.withLock(id, () => {});
    await table.delete(id, "disconnect");
  }
  return wrapped(true);
}

const disconnectFn = fn(["connection_id"], disconnect);

export const opensshHelper = defineHelper({
  name: "openssh",
  replaces: "OpenSSHHelper.pm (Net::OpenSSH, scp_put only)",
  functions: {
    new: fn(["host", "user", "port", "timeout", "password", "key_path"], newConnection, {
      variadic: true,
    }),
    scp_put: fn(["connection_id", "local_file", "remote_file", "options"], scpPut),
    get_error: fn(["connection_id"], getError),
    disconnect: disconnectFn,
    cleanup_connection: disconnectFn,
  },
});
