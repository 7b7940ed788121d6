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

/**
 * The daemon's runtime tuning, the same wherever it is launched: `selfCommand()` and `detach()`
 * here, `scripts/cpan-bridge`, the single binary (`scripts/build_binary.sh`) and the tests'
 * daemons (`tests/_support/daemon.ts`); `tests/src/client/commands/daemon_test.ts` fails when
 * one of them differs (docs/performance.md has the measurements).
 * - `--max-semi-space-size=1`: a 1 MiB young generation keeps the heap flat under load.
 * - `--expose-gc`: V8's `gc()`, for the heap trim (`src/heap_trim.ts`, in the daemon and in each
 *   helper worker), which collects the garbage of large requests instead of leaving it until the
 *   heap's next limit.
 * - `--memory-pool-timeout=1`: V8 keeps the pages a collection freed in a pool and unmaps them
 *   once they are this many seconds old (8 by default), so under steady traffic with collections
 *   now and then freed heap pages go back after 1 s instead of 8 (a thorough collection when
 *   traffic stops gives back the pool at once, see `src/heap_trim.ts`).
 */
export const DAEMON_V8_FLAGS =
  "--v8-flags=--max-semi-space-size=1,--expose-gc,--memory-pool-timeout=1";

/**
 * - `MALLOC_MMAP_THRESHOLD_=65536`: glibc maps each buffer of 64 KiB or more on its own and
 *   unmaps it when freed. Without it the 64 KiB chunks of large requests came from the main
 *   malloc arena and left it fragmented: after 10 MiB requests every 2 s for a minute the daemon
 *   kept 82 MB of RSS (24 MB of it free malloc memory, given back only by `malloc_trim`); 58 MB
 *   with it. A value already in the environment is kept, by every launcher.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: "65536" };

/** `DAEMON_ENV` without the variables `env` already sets (an operator's own value wins). */
export function daemonEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(DAEMON_ENV)) if (env[k] === undefined) out[k] = v;
  return out;
}

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
      DAEMON_V8_FLAGS,
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
    env: { ...daemonEnv(env), [CONFIG_KEYS.detached.env]: "1" },
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
