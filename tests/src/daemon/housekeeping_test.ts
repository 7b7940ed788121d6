/**
 * Tests of the daemon's housekeeping tasks (src/daemon/housekeeping.ts) run by a `Janitor` on a
 * real `DaemonContext` with a fake clock: periods, eviction lines with their reasons, one failing
 * task leaving the others running, and the log files' path check.
 */

import assert from "node:assert/strict";
import { Janitor } from "../../../src/janitor.ts";
import {
  checkResources,
  housekeepingTasks,
  logHealth,
  SAMPLE_MS,
} from "../../../src/daemon/housekeeping.ts";
import { openLogs } from "../../../src/log/mod.ts";
import { loadConfig } from "../../../src/config.ts";
import { protocolContext } from "../protocol/_context.ts";

Deno.test("housekeepingTasks() behaviour: stale connections are closed with their idle time, each logged", async () => {
  const { d, clock, lines, close } = protocolContext({
    CPAN_BRIDGE_STALE_TIMEOUT: "30",
    CPAN_BRIDGE_CLEANUP_INTERVAL: "60",
  });
  try {
    const closed: string[] = [];
    const idle = d.connections.open(clock.now(), () => closed.push("idle"));
    const busy = d.connections.open(clock.now(), () => closed.push("busy"));
    busy.busy = true; // being served: never stale
    const janitor = new Janitor(housekeepingTasks(d), clock, (m) => lines.push(`error: ${m}`));
    clock.advance(59_000);
    await janitor.tick();
    assert.deepEqual(closed, [], "before the cleanup period");
    clock.advance(1000);
    await janitor.tick();
    assert.deepEqual(closed, ["idle"]);
    assert.ok(
      lines.includes(
        `info: Closed stale connection ${idle.id}: idle for 60.0 s (stale timeout 30 s)`,
      ),
      lines.join("\n"),
    );
    assert.ok(lines.includes("info: Cleaned up 1 stale connections"));
    assert.equal(d.connections.size, 1);
    assert.equal(d.stats.lastCleanup, clock.now());
  } finally {
    await close();
  }
});

Deno.test("housekeepingTasks() behaviour: a failing handle sweep is logged; sampling, checks and the health line go on", async () => {
  const { d, clock, lines, close } = protocolContext({
    CPAN_BRIDGE_CLEANUP_INTERVAL: "1",
    CPAN_BRIDGE_RESOURCE_CHECK_INTERVAL: "1",
  });
  try {
    let sweeps = 0;
    // The real host, with a sweep that fails as a dead worker's would.
    const host = Object.assign(Object.create(d.host), {
      state: () => "ready" as const,
      sweep: () => {
        sweeps++;
        return Promise.reject(new Error("helper worker is gone"));
      },
    });
    const failing = { ...d, host, stopping: false };
    const janitor = new Janitor(
      housekeepingTasks(failing),
      clock,
      (m) => lines.push(`error: ${m}`),
    );
    const checkedBefore = d.stats.lastResourceCheck;
    for (let s = 0; s < 60; s++) {
      clock.advance(1000);
      await janitor.tick();
    }
    assert.equal(sweeps, 60);
    const errors = lines.filter((l) => l.startsWith("error: "));
    assert.equal(errors.length, 60);
    assert.equal(errors[0], "error: Background task idle handles failed: helper worker is gone");
    assert.equal(lines.filter((l) => l.startsWith("info: Health check - Uptime: 60s")).length, 1);
    assert.ok(d.stats.lastResourceCheck > checkedBefore, "the resource check stopped");
    assert.equal(d.stats.lastResourceCheck, clock.now());
  } finally {
    await close();
  }
});

Deno.test("housekeepingTasks() behaviour: periods of sampling, resource check and the health line", async () => {
  const { d, close } = protocolContext({
    CPAN_BRIDGE_CLEANUP_INTERVAL: "300",
    CPAN_BRIDGE_RESOURCE_CHECK_INTERVAL: "45",
  });
  try {
    const periods = Object.fromEntries(housekeepingTasks(d).map((t) => [t.name, t.periodMs]));
    assert.deepEqual(periods, {
      "resource sampling": SAMPLE_MS,
      "resource check": 45_000,
      "health line": 60_000,
      "stale connections": 300_000,
      "idle handles": 300_000,
      "log files": 10_000,
      "idle helper workers": 15_000,
    });
  } finally {
    await close();
  }
});

Deno.test("housekeepingTasks() behaviour: the janitor asks the host to stop idle helper workers every 15 s", async () => {
  const { d, clock, close } = protocolContext({});
  try {
    let checks = 0;
    const host = Object.assign(Object.create(d.host), { retireIdle: () => (checks++, 0) });
    const janitor = new Janitor(housekeepingTasks({ ...d, host }), clock, () => {});
    for (let s = 0; s < 60; s++) {
      clock.advance(1000);
      await janitor.tick();
    }
    assert.equal(checks, 4);
  } finally {
    await close();
  }
});

Deno.test("checkResources() and logHealth() behaviour: the contract's lines", async () => {
  const { d, clock, lines, close } = protocolContext({ CPAN_BRIDGE_MAX_MEMORY_MB: "1" });
  try {
    d.resources.sample();
    checkResources(d);
    assert.match(
      lines[0] ?? "",
      /^critical: RESOURCE VIOLATION: \['Memory usage [\d.]+MB exceeds limit 1MB'\]$/,
    );
    assert.match(
      lines[1] ?? "",
      /^critical: Memory: [\d.]+MB, CPU: [\d.]+%, Requests\/min: 0, Concurrent: 0$/,
    );
    clock.advance(61_400);
    d.stats.requestsProcessed = 7;
    d.stats.requestsFailed = 2;
    logHealth(d);
    assert.equal(
      lines[2],
      "info: Health check - Uptime: 61s, Requests: 7, Errors: 2, Active connections: 0/0 (current/peak)",
    );
  } finally {
    await close();
  }
});

Deno.test("Logs.checkPaths() behaviour: a log moved or removed from outside is reopened, and logged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-janitor-" });
  const logs = openLogs(loadConfig({ CPAN_BRIDGE_LOG_DIR: dir }), {});
  try {
    logs.daemon.info("first line");
    await logs.flush();
    assert.deepEqual(await logs.checkPaths?.(), []);
    await Deno.rename(`${dir}/cpan_daemon.log`, `${dir}/cpan_daemon.log.1`);
    // logrotate's "create": the old file moved away and a new one made at the path.
    await Deno.rename(`${dir}/cpan_security.log`, `${dir}/cpan_security.log.1`);
    await Deno.writeTextFile(`${dir}/cpan_security.log`, "");
    assert.deepEqual(await logs.checkPaths?.(), [
      { path: `${dir}/cpan_daemon.log`, reason: "moved or removed" },
      { path: `${dir}/cpan_security.log`, reason: "replaced" },
    ]);
    logs.daemon.info("second line");
    logs.security.info("security line");
    await logs.flush();
    assert.match(await Deno.readTextFile(`${dir}/cpan_daemon.log.1`), /first line\n$/);
    assert.match(await Deno.readTextFile(`${dir}/cpan_daemon.log`), /second line\n/);
    assert.match(await Deno.readTextFile(`${dir}/cpan_security.log`), /security line\n$/);
    assert.deepEqual(await logs.checkPaths?.(), []);
  } finally {
    await logs.close();
    await Deno.remove(dir, { recursive: true });
  }
});
