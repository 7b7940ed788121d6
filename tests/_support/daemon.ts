/**
 * @module
 * Test daemons: `startTestDaemon()` runs one in this process on a private socket (fast, for
 * wire tests); `spawnDaemon()` runs the real entry point as a child process (signals, exit codes).
 * Both wait for readiness by polling a ping with a deadline, never by sleeping.
 */

import { loadConfig } from "../../src/config.ts";
import { helperSettings } from "../../src/helper_settings.ts";
import { type RunningDaemon, startDaemon } from "../../src/daemon.ts";
import { probeDaemon } from "../../src/server/socket.ts";
import { systemClock } from "../../src/sdk/clock.ts";
import { InProcessHost } from "../../src/host/in_process.ts";
import { WorkerHost } from "../../src/host/worker_host.ts";
import { REGISTRY } from "../../helpers/registry.ts";
import type { HelperDefinition } from "../../helpers/types.ts";
import { waitFor } from "./wait.ts";
import { DAEMON_ENV, DAEMON_V8_FLAGS } from "../../src/client/commands/daemon.ts";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

type HostLog = (level: "debug" | "info" | "warn" | "error", m: string) => void;

export interface TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly daemon: RunningDaemon;
  readLog(name?: "cpan_daemon.log" | "cpan_security.log"): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Extra helpers for a test daemon (robustness tests load tests/_support/fault_helper.ts). */
export interface TestDaemonOptions {
  /** Run these helpers, after the registry's, on the daemon's own thread (InProcessHost). */
  readonly helpers?: readonly HelperDefinition[];
  /** Load these module URLs (default export: a helper) into the helper Worker, after the registry's. */
  readonly helperModules?: readonly string[];
}

/** Starts an in-process daemon with environment-style settings. */
export async function startTestDaemon(
  env: Record<string, string> = {},
  opts: TestDaemonOptions = {},
): Promise<TestDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-test-" });
  const socket = `${dir}/bridge.sock`;
  const config = loadConfig({ ...env, CPAN_BRIDGE_SOCKET: socket, CPAN_BRIDGE_LOG_DIR: dir });
  const settings = helperSettings(config, {});
  const ascii = config.encoding === "repair";
  const host = opts.helpers
    ? (log: HostLog) =>
      new InProcessHost([...REGISTRY, ...opts.helpers!], settings, systemClock, log, ascii)
    : opts.helperModules
    ? (log: HostLog) => new WorkerHost(settings, log, ascii, opts.helperModules)
    : undefined;
  const daemon = await startDaemon(config, host ? { env: {}, host } : { env: {} });
  await daemon.context.host.ready;
  const stop = async () => {
    await daemon.stop("test finished");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    dir,
    socket,
    daemon,
    readLog: (name = "cpan_daemon.log") => Deno.readTextFile(`${dir}/${name}`),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A daemon running as a child process (the real CLI entry point). */
export interface SpawnedDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly child: Deno.ChildProcess;
  /** Sends a signal and waits for the exit status. */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  readonly status: Promise<Deno.CommandStatus>;
}

/**
 * The command that runs cpan-bridge: $CPAN_BRIDGE_BIN or `deno run -A main.ts` with the
 * production V8 flags; run it with {@linkcode cliEnv} (the rest of the production tuning), as
 * scripts/cpan-bridge and the binary do.
 */
export function cliCommand(): string[] {
  const bin = Deno.env.get("CPAN_BRIDGE_BIN");
  return bin ? [bin] : [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--quiet",
    DAEMON_V8_FLAGS,
    `${ROOT}/main.ts`,
  ];
}

/** The environment additions of a {@linkcode cliCommand} run: the production `DAEMON_ENV`, then `env`. */
export function cliEnv(env: Record<string, string> = {}): Record<string, string> {
  return { ...DAEMON_ENV, ...env };
}

/** Runs the CLI to completion; returns exit code and output. */
export async function runCli(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
) {
  const [cmd, ...pre] = cliCommand();
  const child = new Deno.Command(cmd!, {
    args: [...pre, ...args],
    env: cliEnv(opts.env),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Spawns `cpan-bridge daemon` and waits until it answers a ping. */
export async function spawnDaemon(
  opts: { env?: Record<string, string>; args?: string[]; dir?: string; socket?: string } = {},
): Promise<SpawnedDaemon> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "cpan-bridge-e2e-" });
  const socket = opts.socket ?? `${dir}/bridge.sock`;
  const [cmd, ...pre] = cliCommand();
  const child = new Deno.Command(cmd!, {
    args: [...pre, "daemon", "--socket", socket, "--log-dir", dir, ...(opts.args ?? [])],
    env: cliEnv(opts.env),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const status = child.status;
  let exited = false;
  status.then(() => (exited = true));
  await waitFor(async () => {
    if (exited) {
      throw new Error(`daemon exited during start-up: ${await new Response(child.stderr).text()}`);
    }
    return await probeDaemon(socket, 1000);
  }, { what: `daemon on ${socket}`, logTail: { dir } });
  return {
    dir,
    socket,
    child,
    status,
    kill: async (signal: Deno.Signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* exited */ }
      const s = await status;
      await child.stderr.cancel().catch(() => {});
      return s;
    },
  };
}
