/**
 * @module
 * Starting the daemon: `daemon` runs it in the foreground until it stops (with the HTTP monitor
 * when `CPAN_BRIDGE_HTTP` is set), and the drop-in start `<binary> …/cpan_daemon.py` re-runs this
 * program detached in its own session (contract §12 D4), as `CPANBridge.pm` expects of the
 * Python daemon.
 */

import { SELF_EXTRACTING } from "../../build_info.ts";
import { CONFIG_KEYS, readSetting } from "../../config.ts";
import { startDaemon } from "../../daemon.ts";
import type { ConfiguredInput } from "./types.ts";

/** How to run this same program again (deno run … main.ts, or the compiled binary). */
export function selfCommand(env: Readonly<Record<string, string>>): string[] {
  // The self-extracting binary runs an unpacked runtime; its launcher names the binary itself.
  const packed = SELF_EXTRACTING ? readSetting(env, "selfBinary") : "";
  if (packed) return [packed];
  const exe = Deno.execPath();
  if (/\/deno$/.test(exe) && Deno.mainModule.startsWith("file:")) {
    return [
      exe,
      "run",
      "--allow-all",
      "--quiet",
      "--v8-flags=--max-semi-space-size=1",
      decodeURIComponent(new URL(Deno.mainModule).pathname),
    ];
  }
  return [exe];
}

/** True in the copy that {@link detach} started (it must not detach again). */
export function isDetached(argv: readonly string[], env: Readonly<Record<string, string>>) {
  return argv.includes("--detached") || readSetting(env, "detached");
}

/** Re-runs the daemon in its own session with no inherited stdio (contract §12 D4); exit 0. */
export function detach(argv: readonly string[], env: Readonly<Record<string, string>>): number {
  const [cmd = "", ...rest] = selfCommand(env);
  const setsid = ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  }) ?? "setsid";
  const child = new Deno.Command(setsid, {
    args: [cmd, ...rest, ...argv, "--detached"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { [CONFIG_KEYS.detached.env]: "1" },
  }).spawn();
  child.unref();
  return 0;
}

/**
 * `daemon [cpan_daemon.py] [options]`: runs the daemon until it stops. An optional label such as
 * `cpan_daemon.py` only shows in `ps`, so the guide's `pgrep -f cpan_daemon` /
 * `pkill -f cpan_daemon.py` find a daemon started this way too.
 */
export async function daemon({ io, positionals, env, config }: ConfiguredInput): Promise<number> {
  const label = positionals[1];
  if (positionals.length > 2 || (label !== undefined && !/cpan_daemon/.test(label))) {
    io.err(
      "cpan-bridge: daemon takes options only (and an optional cpan_daemon.py label); see --help",
    );
    return 64;
  }
  const running = await startDaemon(config, {
    env,
    handleSignals: true,
    executable: Deno.execPath(),
  });
  let http: { close(): Promise<void> } | undefined;
  if (config.httpListen) {
    const { startMonitorServer } = await import("../../http/server.ts");
    http = await startMonitorServer(running.context, config.httpListen).catch(async (err) => {
      await running.stop(`HTTP monitor could not start: ${err.message}`);
      throw err;
    });
  }
  await running.finished;
  await http?.close();
  return 0;
}
