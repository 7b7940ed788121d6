/**
 * Tests of `disableCoreDumps()` through the real daemon: started with an unlimited core-dump
 * limit, the daemon's own limit reads 0 (soft and hard) in /proc/<pid>/limits.
 */

import assert from "node:assert/strict";
import { cliCommand } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { probeDaemon } from "../../src/server/socket.ts";

Deno.test({
  name: "disableCoreDumps() at daemon start: RLIMIT_CORE 0 even when started unlimited",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-core-" });
    const socket = `${dir}/bridge.sock`;
    const [cmd, ...pre] = cliCommand();
    const child = new Deno.Command("prlimit", {
      args: ["--core=unlimited", cmd!, ...pre, "daemon", "--socket", socket, "--log-dir", dir],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(() => probeDaemon(socket, 1000), { what: "daemon up" });
      // prlimit execs the daemon: the child's PID is the daemon's.
      const limits = await Deno.readTextFile(`/proc/${child.pid}/limits`);
      const line = limits.split("\n").find((l) => l.startsWith("Max core file size"));
      assert.match(line ?? "", /^Max core file size\s+0\s+0\s+bytes/, line);
    } finally {
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
