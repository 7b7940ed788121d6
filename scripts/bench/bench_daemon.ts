/**
 * @module
 * The daemon a memory benchmark measures: `cpan-bridge daemon` (the binary in CPAN_BRIDGE_BIN, or
 * main.ts) on a socket in a temporary directory, and its RSS from /proc.
 */

import { cliCommand, cliEnv } from "../../tests/_support/daemon.ts";
import { waitFor } from "../../tests/_support/wait.ts";
import { probeDaemon } from "../../src/server/socket.ts";

export interface BenchDaemon {
  readonly dir: string;
  readonly sock: string;
  readonly pid: number;
  /** VmRSS in MB. */
  rssMb(): number;
  /** VmHWM (peak RSS) in MB. */
  peakMb(): number;
  /** SIGTERM, wait, remove the directory. */
  stop(): Promise<void>;
}

/** Starts the daemon with `env` added and waits (bounded) until it answers a ping. */
export async function startBenchDaemon(
  prefix: string,
  env: Record<string, string>,
): Promise<BenchDaemon> {
  const dir = await Deno.makeTempDir({ prefix });
  const sock = `${dir}/bridge.sock`;
  const [cmd, ...pre] = cliCommand();
  const daemon = new Deno.Command(cmd ?? "deno", {
    args: [...pre, "daemon", "--socket", sock, "--log-dir", dir],
    env: cliEnv(env),
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitFor(() => probeDaemon(sock, 500), { what: `daemon on ${sock}`, logTail: { dir } });
  const status = (field: string) => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      Deno.readTextFileSync(`/proc/${daemon.pid}/status`),
    );
    return Number(m?.[1] ?? "0") / 1024;
  };
  return {
    dir,
    sock,
    pid: daemon.pid,
    rssMb: () => status("VmRSS"),
    peakMb: () => status("VmHWM"),
    async stop() {
      daemon.kill("SIGTERM");
      await daemon.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
