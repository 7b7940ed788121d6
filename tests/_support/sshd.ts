/**
 * @module
 * SSH test servers: Debian's OpenSSH sshd started in the foreground on a loopback high port with a
 * generated host key and sshd_config in a temp dir, a throwaway unix user with a password and an
 * authorized ed25519 key, plus a TCP relay in front of it that can freeze or cut every connection
 * (a server that stops mid-transfer) and a silent listener (a server that never greets). Also a
 * script, so the Perl tests can start the same servers: `deno run -A tests/_support/sshd.ts`
 * prints one JSON line with the addresses and runs until stdin closes.
 */

import {
  closedPort,
  ensureUser,
  type FakeServer,
  freePort,
  run,
  startSilentServer,
} from "./net.ts";
import { waitFor } from "./wait.ts";

/** The sshd test user (created once with useradd; the password is only valid for these tests). */
export const SSH_USER = "cbtest";
export const SSH_PASS = "cb-ssh-test-pw";

/** A running sshd. */
export interface SshdServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** An unencrypted OpenSSH ed25519 private key authorized for `user`. */
  readonly keyPath: string;
  /** A PEM RSA private key authorized for `user`. */
  readonly rsaKeyPath: string;
  /** A fresh directory owned by `user`, for uploads. */
  readonly root: string;
  /** The server's host key line, as in known_hosts ("ssh-ed25519 AAAA…"). */
  readonly hostKey: string;
  /** The temp dir with the config, keys and sshd.log. */
  readonly dir: string;
  stop(): Promise<void>;
}

/** Creates the unix test user when missing and (re)sets its password. */
function ensureSshUser(): Promise<void> {
  return ensureUser(SSH_USER, SSH_PASS, { createHome: true });
}

/** True when something on the port sends an SSH banner. */
async function bannerOk(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const buf = new Uint8Array(64);
      const n = await c.read(buf);
      return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("SSH-2.0");
    } finally {
      c.close();
    }
  } catch {
    return false;
  }
}

/** Starts `/usr/sbin/sshd -D -e` on 127.0.0.1 with password and key auth for SSH_USER. */
export async function startSshd(extraConfig: string[] = []): Promise<SshdServer> {
  await ensureSshUser();
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = await Deno.makeTempDir({ prefix: "cb_sshd_" });
  await Deno.chmod(dir, 0o755); // the user must read authorized_keys (StrictModes off)
  await Promise.all([
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/host_ed25519`]),
    run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", `${dir}/host_rsa`]),
    run("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "cbtest",
      "-f",
      `${dir}/client_ed25519`,
    ]),
    run("ssh-keygen", [
      "-q",
      "-t",
      "rsa",
      "-b",
      "2048",
      "-m",
      "PEM",
      "-N",
      "",
      "-f",
      `${dir}/client_rsa`,
    ]),
  ]);
  const pubs = await Promise.all(
    ["client_ed25519", "client_rsa"].map((k) => Deno.readTextFile(`${dir}/${k}.pub`)),
  );
  await Deno.writeTextFile(`${dir}/authorized_keys`, pubs.join(""), { mode: 0o644 });
  const root = `${dir}/home`;
  await Deno.mkdir(root);
  await run("chown", [SSH_USER, root]);
  const hostKey = (await Deno.readTextFile(`${dir}/host_ed25519.pub`)).split(" ").slice(0, 2).join(
    " ",
  );
  let lastErr = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    const conf = [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${dir}/host_ed25519`,
      `HostKey ${dir}/host_rsa`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      "StrictModes no",
      "PasswordAuthentication yes",
      "PubkeyAuthentication yes",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin no",
      `AllowUsers ${SSH_USER}`,
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "MaxStartups 100",
      "LoginGraceTime 30",
      ...extraConfig,
      "",
    ].join("\n");
    await Deno.writeTextFile(`${dir}/sshd_config`, conf);
    const log = await Deno.open(`${dir}/sshd.log`, { create: true, append: true });
    const child = new Deno.Command("/usr/sbin/sshd", {
      args: ["-D", "-e", "-f", `${dir}/sshd_config`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const logging = child.stderr.pipeTo(log.writable).catch(() => {});
    let exited = false;
    child.status.then(() => (exited = true));
    try {
      await waitFor(async () => exited || await bannerOk(port), {
        deadlineMs: 10_000,
        what: `sshd on port ${port}`,
      });
    } catch (e) {
      lastErr = String(e);
    }
    if (!exited && !lastErr) {
      return {
        host: "127.0.0.1",
        port,
        user: SSH_USER,
        password: SSH_PASS,
        keyPath: `${dir}/client_ed25519`,
        rsaKeyPath: `${dir}/client_rsa`,
        root,
        hostKey,
        dir,
        async stop() {
          try {
            child.kill("SIGTERM");
          } catch { /* exited */ }
          await child.status;
          await logging;
          // Session children of sshd -D outlive the listener; they end when their client goes.
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        },
      };
    }
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await logging;
    lastErr ||= await Deno.readTextFile(`${dir}/sshd.log`);
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  throw new Error(`sshd did not start: ${lastErr}`);
}

/** A TCP relay to `target` that can stop forwarding (freeze) or drop every connection (cut). */
export interface Relay extends FakeServer {
  /** Bytes relayed server → client so far, over all connections. */
  readonly downBytes: number;
  /** Stops forwarding in both directions; connections stay open and silent. */
  freeze(): void;
  /**
   * Freezes as soon as `downBytes` reaches `bytes` (the chunk that reaches it is still
   * forwarded): a transfer stalled mid-way, at once, without polling.
   */
  freezeAtDown(bytes: number): void;
  /** Closes every connection at once (the server "dies"). */
  cut(): void;
}

/** Starts a relay on 127.0.0.1 in front of `targetPort`. */
export function startRelay(targetPort: number): Relay {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  let frozen = false;
  let down = 0;
  let freezeAt = Infinity;
  const pump = async (from: Deno.Conn, to: Deno.Conn, count: boolean) => {
    const buf = new Uint8Array(32 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if (frozen) continue;
        if (count) down += n;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
        if (down >= freezeAt) frozen = true;
      }
    } catch { /* closed */ }
    if (!frozen) {
      for (const c of [from, to]) {
        try {
          c.close();
        } catch { /* closed */ }
        open.delete(c);
      }
    }
  };
  const loop = (async () => {
    try {
      for await (const c of l) {
        open.add(c);
        tasks.push((async () => {
          let s: Deno.Conn;
          try {
            s = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
          } catch {
            c.close();
            open.delete(c);
            return;
          }
          open.add(s);
          await Promise.all([pump(c, s, false), pump(s, c, true)]);
        })());
      }
    } catch { /* closed */ }
  })();
  const closeAll = () => {
    for (const c of open) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    open.clear();
  };
  return {
    host: "127.0.0.1",
    port: (l.addr as Deno.NetAddr).port,
    get downBytes() {
      return down;
    },
    freeze() {
      frozen = true;
    },
    freezeAtDown(bytes) {
      freezeAt = bytes;
    },
    cut() {
      closeAll();
    },
    async stop() {
      l.close();
      closeAll();
      await loop;
      await Promise.all(tasks);
    },
  };
}

/** A silent server (accepts, never sends the SSH banner) and a port that refuses connections. */
export { closedPort, type FakeServer, startSilentServer };

if (import.meta.main) {
  const sshd = await startSshd();
  const relay = startRelay(sshd.port);
  const cutRelay = startRelay(sshd.port);
  const silent = startSilentServer();
  // The Perl tests freeze or cut the relay by writing a line to our stdin.
  // deno-lint-ignore no-console
  console.log(JSON.stringify({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    password: sshd.password,
    key: sshd.keyPath,
    rsa_key: sshd.rsaKeyPath,
    root: sshd.root,
    host_key: sshd.hostKey,
    relay_port: relay.port,
    cut_relay_port: cutRelay.port,
    silent_port: silent.port,
    closed_port: closedPort(),
  }));
  // Commands on stdin: "freeze" (relay_port), "cut" (cut_relay_port); EOF stops everything.
  const dec = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += dec.decode(chunk);
    let i;
    while ((i = pending.indexOf("\n")) >= 0) {
      const cmd = pending.slice(0, i).trim();
      pending = pending.slice(i + 1);
      if (cmd === "freeze") relay.freeze();
      if (cmd === "cut") cutRelay.cut();
      // deno-lint-ignore no-console
      console.log(`ok ${cmd}`);
    }
  }
  await Promise.all([relay.stop(), cutRelay.stop(), silent.stop(), sshd.stop()]);
}
