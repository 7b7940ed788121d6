/**
 * @module
 * The SSH layer shared by `sftp` and `openssh`: the connection target, one ssh2 connection plus
 * its SFTP channel, and per-operation timeouts that close a silent connection instead of waiting
 * forever. How a connection is made (authentication, host keys, algorithms) is `connect.ts`.
 */

/** Where and how to connect. */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Connect/handshake limit, and the inactivity limit of every later operation. */
  readonly timeoutMs: number;
  readonly password?: string | undefined;
  /** Explicit identity files (absolute). */
  readonly keyFiles: readonly string[];
  readonly passphrase?: string | undefined;
  /** Also try the caller's ~/.ssh/id_* keys (what `ssh` does). */
  readonly defaultKeys: boolean;
  /** `StrictHostKeyChecking`: "yes" refuses unknown hosts; anything else accepts them with a warning. */
  readonly strictHostKeys?: string | undefined;
  /** `UserKnownHostsFile`, absolute; default the caller's ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string | undefined;
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
  open(p: string, flags: string, cb: Cb<Uint8Array>): void;
  read(
    h: Uint8Array,
    buf: Uint8Array,
    off: number,
    len: number,
    pos: number,
    cb: (err: (Error & { code?: number }) | null | undefined, n: number) => void,
  ): void;
  close(h: Uint8Array, cb: Cb<void>): void;
  fastPut(local: string, remote: string, opts: XferOpts, cb: Cb<void>): void;
  fastGet(remote: string, local: string, opts: XferOpts, cb: Cb<void>): void;
  end(): void;
}
export interface Ssh2Client {
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
  const status = typeof err?.code === "number" ? SFTP_STATUS[err.code] : undefined;
  if (status) return status;
  return String(e);
}

/** A network error as a Perl programmer would recognise it. */
export function describeNetError(e: Error & { code?: string; level?: string }): string {
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
