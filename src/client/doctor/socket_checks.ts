/**
 * @module
 * Doctor checks of the socket the unchanged client will use: what is at the path, whose it is,
 * whether a daemon answers there (which implementation, which version), and whether an old
 * Python `cpan_daemon.py` is still running on the host.
 */

import { type Check, fail, type Finding, ok, warn } from "./types.ts";

const CHECK = "socket";

function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/** What is at the socket path, whose, with which mode. */
export const socketCheck: Check = {
  name: CHECK,
  async run(host) {
    const path = host.config.socketPath;
    let st: Deno.FileInfo;
    try {
      st = await Deno.lstat(path);
    } catch {
      return [
        ok(CHECK, `${path}: nothing there yet; the client starts a daemon on first use`),
      ];
    }
    if (!st.isSocket) {
      return [
        fail(
          CHECK,
          `${path} is not a socket (${st.isSymlink ? "a symlink" : "a file or directory"})`,
          `remove it, or point CPAN_BRIDGE_SOCKET at another path; the client only connects to a socket file`,
        ),
      ];
    }
    const out: Finding[] = [];
    const mode = st.mode ?? 0;
    if (st.uid !== host.uid) {
      out.push(fail(
        CHECK,
        `${path} belongs to uid ${st.uid}, not to you (uid ${host.uid}): your calls, and any password in them, would go to that user's daemon`,
        `use a socket of your own: export CPAN_BRIDGE_SOCKET=/run/user/${host.uid}/cpan_bridge.sock (or one per user under /tmp)`,
      ));
    } else {out.push(
        ok(CHECK, `${path}: socket owned by you (uid ${st.uid}), mode ${modeText(mode)}`),
      );}
    if (mode & 0o002) {
      out.push(fail(
        CHECK,
        `${path} is writable by every local user (mode ${modeText(mode)})`,
        `start the daemon with --socket-mode 0600 (or 0660 with --socket-group for a trusted group)`,
      ));
    } else if (mode & 0o020) {
      out.push(warn(
        CHECK,
        `${path} is shared with group ${st.gid} (mode ${
          modeText(mode)
        }): every member acts with the daemon user's file authority`,
        `only share with a group you trust as the daemon user; otherwise run one daemon per user (CPAN_BRIDGE_SOCKET per user)`,
      ));
    }
    return out;
  },
};

/** Whether a daemon answers at the path, and which. */
export const daemonCheck: Check = {
  name: "daemon",
  async run(host) {
    const path = host.config.socketPath;
    try {
      if (!(await Deno.lstat(path)).isSocket) return [];
    } catch {
      return [];
    }
    let ping: Record<string, unknown>;
    try {
      ping = await host.call(path, "test", "ping", 2000);
    } catch (err) {
      return [warn(
        "daemon",
        `nothing answers at ${path} within 2 s (${(err as Error).message})`,
        `a stale socket: the next client call starts a new daemon; or start one yourself: cpan-bridge daemon`,
      )];
    }
    const r = (ping.result ?? {}) as Record<string, unknown>;
    const runtime = String(r.python_version ?? "");
    const m = /cpan-bridge (\S+)/.exec(runtime);
    if (!m) {
      return [warn(
        "daemon",
        `the Python daemon answers at ${path} (Python ${runtime.split(" ")[0] || "?"}, daemon ${
          String(r.daemon_version ?? "?")
        })`,
        `stop it (pkill -f cpan_daemon.py) and start cpan-bridge in its place: cpan-bridge daemon`,
      )];
    }
    return [ok(
      "daemon",
      `cpan-bridge ${m[1]} answers at ${path} (protocol ${String(r.daemon_version ?? "?")}, up ${
        Number(r.uptime ?? 0).toFixed(0)
      } s)`,
    )];
  },
};

/** An old `cpan_daemon.py` under a Python interpreter, still running on the host. */
export const pythonDaemonCheck: Check = {
  name: "python-daemon",
  async run(host) {
    const found: string[] = [];
    let scanned = 0;
    for await (const e of Deno.readDir(host.procDir)) {
      if (!/^\d+$/.test(e.name) || ++scanned > 100_000) continue;
      let argv: string[];
      try {
        argv = (await Deno.readTextFile(`${host.procDir}/${e.name}/cmdline`)).split("\0");
      } catch {
        continue;
      }
      const python = /(^|\/)python[0-9.]*$/.test(argv[0] ?? "");
      if (python && argv.slice(1).some((a) => /cpan_daemon\.py$/.test(a))) {
        found.push(`${e.name} (${argv.filter((a) => a !== "").join(" ")})`);
      }
    }
    if (found.length === 0) return [ok("python-daemon", "no Python cpan_daemon.py is running")];
    return [warn(
      "python-daemon",
      `the Python daemon is still running: pid ${found.join(", pid ")}`,
      `stop it before switching (pkill -f 'python.*cpan_daemon.py'); two daemons on one socket path replace each other's socket`,
    )];
  },
};
