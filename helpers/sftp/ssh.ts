/**
 * @module
 * The SSH layer shared by `sftp` and `openssh`: one ssh2 connection plus its SFTP channel, with
 * key and password authentication, legacy algorithms appended for old servers, the host key
 * policy, and per-operation timeouts that close a silent connection instead of waiting forever.
 *
 * Host key policy (helpers contract §2.6, a DEFECT-FIX of paramiko's AutoAddPolicy): the keys
 * listed for the host in the caller's `~/.ssh/known_hosts` and in `/etc/ssh/ssh_known_hosts` are
 * enforced (a different key is refused, as `ssh` does). A host listed nowhere is accepted with a
 * warning naming its fingerprint, unless the caller asked for `StrictHostKeyChecking=yes`.
 * Nothing is ever written to known_hosts.
 */

import { Buffer } from "node:buffer";
import { Client, utils } from "ssh2";
import type { CallContext } from "../types.ts";
import { algorithmsFor, fingerprint, lookupKnownHost } from "./known_hosts.ts";

/** Key exchange and cipher algorithms older servers need, tried after all modern ones. */
const LEGACY = {
  kex: [
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
  ],
  cipher: ["aes128-cbc", "aes256-cbc", "3des-cbc"], // aes192-cbc: not in Deno's node:crypto
  serverHostKey: ["ssh-dss"],
};

/** Identity files OpenSSH's `ssh` tries by default, in its order. */
const DEFAULT_KEYS = ["id_rsa", "id_ecdsa", "id_ed25519"];

/** Where and how to connect. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Connect/handshake limit, and the inactivity limit of every later operation. */
  readonly timeoutMs: number;
  readonly password?: string;
  /** Explicit identity files (absolute). */
  readonly keyFiles: readonly string[];
  readonly passphrase?: string;
  /** Also try the caller's ~/.ssh/id_* keys (what `ssh` does). */
  readonly defaultKeys: boolean;
  /** `StrictHostKeyChecking`: "yes" refuses unknown hosts; anything else accepts them with a warning. */
  readonly strictHostKeys?: string;
  /** `UserKnownHostsFile`, absolute; default the caller's ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string;
}

/** A failure the helpers report as text; `kind` tells auth failures from network ones. */
export class SshError extends Error {
  constructor(
    message: string,
    readonly kind: "auth" | "network" | "hostkey" | "timeout" | "remote" | "local",
  ) {
    super(message);
    this.name = "SshError";
  }
}

// ssh2 ships no types; these are the parts used here.
/** SFTP file attributes. */
export interface Attrs {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
}
export interface SftpEntry {
  filename: string;
  longname: string;
  attrs: Attrs;
}
type Cb<T> = (err: (Error & { code?: number }) | null | undefined, v: T) => void;
type XferOpts = { step?: (done: number, chunk: number, total: number) => void; mode?: number };
/** The ssh2 SFTP channel methods used by the helpers. */
export interface Sftp {
  realpath(p: string, cb: Cb<string>): void;
  stat(p: string, cb: Cb<Attrs>): void;
  readdir(p: string, opts: { full?: boolean }, cb: Cb<SftpEntry[]>): void;
  mkdir(p: string, cb: Cb<void>): void;
  unlink(p: string, cb: Cb<void>): void;
  rename(a: string, b: string, cb: Cb<void>): void;
  ext_openssh_rename(a: string, b: string, cb: Cb<void>): void;
  chmod(p: string, mode: number, cb: Cb<void>): void;
  setstat(p: string, attrs: Partial<Attrs>, cb: Cb<void>): void;
  fastPut(local: string, remote: string, opts: XferOpts, cb: Cb<void>): void;
  fastGet(remote: string, local: string, opts: XferOpts, cb: Cb<void>): void;
  end(): void;
}
interface Ssh2Client {
  on(ev: string, f: (...a: never[]) => void): Ssh2Client;
  connect(cfg: Record<string, unknown>): void;
  sftp(cb: Cb<Sftp>): void;
  end(): void;
  destroy(): void;
}

/** An open connection with its SFTP channel. */
export class SshConnection {
  closed = false;
  closeReason = "";
  #waiters = new Set<(reason: string) => void>();

  constructor(readonly client: Ssh2Client, readonly sftp: Sftp, readonly target: SshTarget) {
    client.on("close", () => this.#markClosed("connection closed by the server"));
    client.on("error", (e: Error) => this.#markClosed(describeNetError(e)));
  }

  #markClosed(reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    for (const w of this.#waiters) w(reason);
  }

  /** Closes the connection (idempotent). */
  close(reason = "disconnected"): void {
    if (this.closed) return;
    this.#markClosed(reason);
    try {
      this.client.end();
    } catch { /* already gone */ }
    // A silent peer never acknowledges the end; drop the socket too.
    try {
      this.client.destroy();
    } catch { /* already gone */ }
  }

  /**
   * Runs one SFTP operation with an inactivity limit: `start` gets a `touch` to call whenever data
   * moves. If nothing moves for `timeoutMs`, or the call is aborted, the connection is closed (so
   * the server can never hold the helper) and the operation fails with a `timeout` error.
   */
  op<T>(
    what: string,
    signal: AbortSignal | undefined,
    start: (touch: () => void) => Promise<T>,
  ): Promise<T> {
    if (this.closed) {
      return Promise.reject(new SshError(`not connected (${this.closeReason})`, "network"));
    }
    const ms = this.target.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(onClose);
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (e: SshError) => {
        done();
        reject(e);
      };
      const touch = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const msg = `${what}: no answer from ${this.target.host}:${this.target.port} within ${
            ms / 1000
          } s`;
          fail(new SshError(`${msg}; connection closed`, "timeout"));
          this.close(msg);
        }, ms);
      };
      const onClose = (reason: string) =>
        fail(new SshError(`connection lost (${reason})`, "network"));
      const onAbort = () => {
        fail(
          new SshError(
            `${what}: call aborted (daemon time limit or shutdown); connection closed`,
            "timeout",
          ),
        );
        this.close("call aborted by the daemon");
      };
      this.#waiters.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
      touch();
      start(touch).then((v) => {
        done();
        resolve(v);
      }, (e) => fail(e instanceof SshError ? e : new SshError(sftpMessage(e), "remote")));
    });
  }
}

/** Promisifies one callback-style SFTP call. */
export function call<T>(f: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/** SFTP status codes, for a status reply that carries no text. */
const SFTP_STATUS: Record<number, string> = {
  2: "No such file",
  3: "Permission denied",
  4: "Failure",
  5: "Bad message",
  8: "Operation unsupported",
};

/**
 * The text of an SFTP or ssh2 error. A status reply gives the server's own text ("No such
 * file", "Failure" from OpenSSH), which is what Net::SFTP::Foreign appends to its messages.
 */
export function sftpMessage(e: unknown): string {
  const err = e as { code?: unknown; message?: string };
  if (err?.message) return err.message;
  if (typeof err?.code === "number" && SFTP_STATUS[err.code]) return SFTP_STATUS[err.code];
  return String(e);
}

/** A network error as a Perl programmer would recognise it. */
function describeNetError(e: Error & { code?: string; level?: string }): string {
  switch (e.code) {
    case "ECONNREFUSED":
      return "Connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "Name or service not known";
    case "EHOSTUNREACH":
      return "No route to host";
    case "ECONNRESET":
      return "Connection reset by peer";
  }
  return e.message;
}

/** The caller's default identity files that exist. */
async function defaultKeyFiles(ctx: CallContext): Promise<string[]> {
  const home = await ctx.callerEnv("HOME");
  if (!home) return [];
  const found: string[] = [];
  for (const k of DEFAULT_KEYS) {
    try {
      if ((await Deno.stat(`${home}/.ssh/${k}`)).isFile) found.push(`${home}/.ssh/${k}`);
    } catch { /* absent */ }
  }
  return found;
}

/** Reads and parses a key file; a usable key or an explanation. */
async function loadKey(
  file: string,
  passphrase?: string,
): Promise<{ key: Buffer } | { error: string }> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(file);
  } catch (e) {
    return {
      error: `Cannot read key file ${file}: ${
        e instanceof Deno.errors.NotFound ? "No such file" : (e as Error).message
      }`,
    };
  }
  const parsed = utils.parseKey(Buffer.from(data), passphrase) as unknown;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (first instanceof Error) {
    const hint = /encrypted|passphrase/i.test(first.message) ? " (is a passphrase needed?)" : "";
    return { error: `Cannot use key file ${file}: ${first.message}${hint}` };
  }
  return { key: Buffer.from(data) };
}

/**
 * Connects, authenticates and opens the SFTP channel. Throws `SshError` with an actionable text.
 * Passwords and key contents never reach the log.
 */
export async function connectSsh(t: SshTarget, ctx: CallContext): Promise<SshConnection> {
  const methods: Record<string, unknown>[] = [];
  const tried: string[] = [];
  for (const file of t.keyFiles) {
    const k = await loadKey(file, t.passphrase);
    if ("error" in k) throw new SshError(k.error, "local");
    methods.push({ type: "publickey", username: t.user, key: k.key, passphrase: t.passphrase });
    tried.push(`publickey ${file}`);
  }
  if (t.defaultKeys && t.keyFiles.length === 0) {
    for (const file of await defaultKeyFiles(ctx)) {
      const k = await loadKey(file, t.passphrase);
      if ("error" in k) {
        ctx.log.debug(`skipping default key: ${k.error}`);
        continue;
      }
      methods.push({ type: "publickey", username: t.user, key: k.key, passphrase: t.passphrase });
      tried.push(`publickey ${file}`);
    }
  }
  if (t.password !== undefined && t.password !== "") {
    methods.push({ type: "password", username: t.user, password: t.password });
    tried.push("password");
  }
  if (methods.length === 0) {
    throw new SshError(
      "No authentication method provided: give a password or a key file (no ~/.ssh/id_* key found either)",
      "local",
    );
  }

  const home = await ctx.callerEnv("HOME");
  const files = [
    t.knownHostsFile ?? (home ? `${home}/.ssh/known_hosts` : ""),
    "/etc/ssh/ssh_known_hosts",
  ]
    .filter(Boolean);
  const known = await lookupKnownHost(files, t.host, t.port);
  const knownTypes = [...known.keys.keys()];
  let hostKeyProblem = "";
  const hostVerifier = (key: Buffer): boolean => {
    const blob = key.toString("base64");
    const fp = fingerprint(key);
    if (known.revoked.has(blob)) {
      hostKeyProblem = `Host key ${fp} of ${t.host}:${t.port} is marked @revoked in known_hosts`;
      return false;
    }
    if (knownTypes.length > 0) {
      for (const set of known.keys.values()) if (set.has(blob)) return true;
      hostKeyProblem = `Host key verification failed: the key of ${t.host}:${t.port} (${fp}) ` +
        `does not match ${known.files.join(" or ")}. If the server's key really changed, ` +
        `update known_hosts (ssh-keygen -R ${t.host}).`;
      return false;
    }
    if (t.strictHostKeys === "yes") {
      hostKeyProblem = `Host key verification failed: ${t.host}:${t.port} (${fp}) is not in ` +
        `known_hosts and StrictHostKeyChecking=yes`;
      return false;
    }
    ctx.log.warn(`${t.host}:${t.port} is not in known_hosts; accepting its host key ${fp}`);
    return true;
  };

  const client = new Client() as unknown as Ssh2Client;
  const sftp = await new Promise<Sftp>((resolve, reject) => {
    let settled = false;
    const fail = (e: SshError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      try {
        client.destroy();
      } catch { /* gone */ }
      reject(e);
    };
    const timer = setTimeout(
      () =>
        fail(
          new SshError(
            `Timed out after ${t.timeoutMs / 1000} s connecting to ${t.host}:${t.port}`,
            "timeout",
          ),
        ),
      t.timeoutMs,
    );
    const onAbort = () =>
      fail(new SshError("call aborted (daemon time limit or shutdown)", "timeout"));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    client.on("error", (e: Error & { level?: string }) => {
      if (hostKeyProblem) return fail(new SshError(hostKeyProblem, "hostkey"));
      if (e.level === "client-authentication") {
        return fail(
          new SshError(
            `Authentication failed for ${t.user}@${t.host} (tried ${tried.join(", ")})`,
            "auth",
          ),
        );
      }
      fail(new SshError(`${t.host}:${t.port}: ${describeNetError(e)}`, "network"));
    });
    client.on(
      "close",
      () =>
        fail(
          new SshError(
            hostKeyProblem || `${t.host}:${t.port}: connection closed by the server`,
            hostKeyProblem ? "hostkey" : "network",
          ),
        ),
    );
    client.on("ready", () => {
      client.sftp((err, s) => {
        if (err) {
          return fail(
            new SshError(`SFTP subsystem unavailable on ${t.host}: ${err.message}`, "remote"),
          );
        }
        if (settled) return s.end();
        settled = true;
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
        resolve(s);
      });
    });
    client.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      readyTimeout: t.timeoutMs,
      authHandler: methods,
      hostVerifier,
      algorithms: {
        kex: { append: LEGACY.kex },
        cipher: { append: LEGACY.cipher },
        // Known keys first, so the negotiated key is one known_hosts can vouch for.
        serverHostKey: knownTypes.length > 0
          ? knownTypes.flatMap(algorithmsFor)
          : { append: LEGACY.serverHostKey },
        compress: ["none"], // zlib does not work on Deno (deno-compat 1a)
      },
    });
  });
  return new SshConnection(client, sftp, t);
}
