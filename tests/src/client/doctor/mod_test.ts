import assert from "node:assert/strict";
import { realHost, runDoctor } from "../../../../src/client/doctor/mod.ts";
import type { DoctorHost, Finding } from "../../../../src/client/doctor/mod.ts";
import { runCli, startTestDaemon } from "../../../_support/daemon.ts";

/** A host in a fresh directory: its own socket path, log dir, script dir and /proc. */
async function fixture(env: Record<string, string> = {}, over: Partial<DoctorHost> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "doctor-" });
  const proc = `${dir}/proc`;
  await Deno.mkdir(`${proc}/self`, { recursive: true });
  await Deno.writeTextFile(`${proc}/self/limits`, "Max open files            4096  4096  files\n");
  const base = {
    PATH: "/usr/bin:/bin",
    CPAN_BRIDGE_SOCKET: `${dir}/bridge.sock`,
    CPAN_BRIDGE_LOG_DIR: dir,
    ...env,
  };
  const host: DoctorHost = {
    ...realHost(base, { scriptDir: dir, selfPaths: [`${dir}/cpan-bridge`] }),
    procDir: proc,
    cwd: dir,
    ...over,
  };
  return {
    dir,
    host,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function of(findings: Finding[], check: string): Finding[] {
  return findings.filter((f) => f.check === check);
}

Deno.test("doctor config names an unknown variable's likely meaning and refuses a bad value", async () => {
  await using f = await fixture({
    CPAN_BRIDGE_SOKET_MODE: "0600",
    CPAN_BRIDGE_MAX_CONNECTIONS: "many",
  });
  const c = of(await runDoctor(f.host), "config");
  assert.equal(c.length, 2);
  assert.equal(c[0]!.status, "fail");
  assert.match(c[0]!.message, /CPAN_BRIDGE_MAX_CONNECTIONS.*expected a whole number/);
  assert.equal(c[1]!.status, "warn");
  assert.match(c[1]!.message, /did you mean CPAN_BRIDGE_SOCKET_MODE\?/);
});

Deno.test("doctor config knows the client's own variables", async () => {
  await using f = await fixture({ CPAN_BRIDGE_FALLBACK: "0", CPAN_BRIDGE_DAEMON_TIMEOUT: "30" });
  assert.deepEqual(of(await runDoctor(f.host), "config").map((x) => x.status), ["ok"]);
});

Deno.test("doctor socket fails on a plain file, a world-writable or a foreign-owned socket", async () => {
  await using f = await fixture({}, { call: () => Promise.reject(new Error("not a daemon")) });
  const path = f.host.config.socketPath;
  await Deno.writeTextFile(path, "not a socket");
  assert.equal(of(await runDoctor(f.host), "socket")[0]!.status, "fail");
  await Deno.remove(path);

  const l = Deno.listen({ transport: "unix", path });
  try {
    await Deno.chmod(path, 0o666);
    assert.ok(of(await runDoctor(f.host), "socket").some((x) => x.status === "fail"));
    await Deno.chmod(path, 0o660);
    const shared = of(await runDoctor(f.host), "socket");
    assert.ok(shared.some((x) => x.status === "warn" && /group/.test(x.message)));
    await Deno.chmod(path, 0o600);
    assert.deepEqual(of(await runDoctor(f.host), "socket").map((x) => x.status), ["ok"]);
    const foreign = of(await runDoctor({ ...f.host, uid: f.host.uid + 1 }), "socket");
    assert.equal(foreign[0]!.status, "fail");
    assert.match(foreign[0]!.message, /not to you/);
  } finally {
    l.close();
  }
});

Deno.test("doctor daemon tells cpan-bridge, the Python daemon and a stale socket apart", async () => {
  await using td = await startTestDaemon();
  await using f = await fixture({ CPAN_BRIDGE_SOCKET: td.socket });
  const live = of(await runDoctor(f.host), "daemon");
  assert.equal(live[0]!.status, "ok");
  assert.match(live[0]!.message, /^cpan-bridge \S+ answers/);

  const python = of(
    await runDoctor({
      ...f.host,
      call: () =>
        Promise.resolve({
          success: true,
          result: { message: "pong", daemon_version: "1.0.0", python_version: "3.11.7 (main)" },
        }),
    }),
    "daemon",
  );
  assert.equal(python[0]!.status, "warn");
  assert.match(python[0]!.message, /Python daemon answers/);

  const stale = of(
    await runDoctor({ ...f.host, call: () => Promise.reject(new Error("Connection refused")) }),
    "daemon",
  );
  assert.equal(stale[0]!.status, "warn");
  assert.match(stale[0]!.message, /nothing answers/);
});

Deno.test("doctor python-daemon finds cpan_daemon.py under a Python interpreter", async () => {
  await using f = await fixture();
  assert.equal(of(await runDoctor(f.host), "python-daemon")[0]!.status, "ok");
  await Deno.mkdir(`${f.host.procDir}/4242`);
  await Deno.writeTextFile(
    `${f.host.procDir}/4242/cmdline`,
    "/usr/bin/python3\0/opt/app/python_helpers/cpan_daemon.py\0",
  );
  await Deno.mkdir(`${f.host.procDir}/4243`);
  await Deno.writeTextFile(
    `${f.host.procDir}/4243/cmdline`,
    "/usr/local/bin/cpan-bridge\0cpan_daemon.py\0",
  );
  const found = of(await runDoctor(f.host), "python-daemon");
  assert.equal(found[0]!.status, "warn");
  assert.match(found[0]!.message, /pid 4242 /);
  assert.doesNotMatch(found[0]!.message, /4243/);
});

Deno.test("doctor scripts follows the client's search order for cpan_bridge.py and cpan_daemon.py", async () => {
  await using f = await fixture();
  assert.deepEqual(of(await runDoctor(f.host), "scripts").map((x) => x.status), ["fail", "warn"]);
  await Deno.mkdir(`${f.dir}/python_helpers`);
  await Deno.writeTextFile(`${f.dir}/python_helpers/cpan_bridge.py`, "");
  await Deno.writeTextFile(`${f.dir}/other_daemon`, "");
  const env = { ...f.host.env, CPAN_BRIDGE_DAEMON_SCRIPT: `${f.dir}/other_daemon` };
  const found = of(await runDoctor({ ...f.host, env }), "scripts");
  assert.deepEqual(found.map((x) => x.status), ["ok", "ok"]);
  assert.match(found[1]!.message, /other_daemon/);
});

Deno.test("doctor launcher says whether auto-start reaches this binary", async () => {
  await using f = await fixture();
  const self = `${f.dir}/cpan-bridge`;
  await Deno.writeTextFile(self, "#!/bin/sh\n");
  await Deno.chmod(self, 0o755);
  const status = async (env: Record<string, string>) =>
    of(await runDoctor({ ...f.host, env, selfPaths: [await Deno.realPath(self)] }), "launcher")
      .map((x) => x.status);
  assert.deepEqual(await status({ PATH: "/usr/bin", PYTHON_EXECUTABLE: self }), ["ok"]);
  assert.deepEqual(await status({ PATH: "/usr/bin", PYTHON_EXECUTABLE: "/bin/sh" }), ["warn"]);
  assert.deepEqual(await status({ PATH: "", PYTHON_EXECUTABLE: `${f.dir}/missing` }), ["fail"]);
  assert.deepEqual(await status({ PATH: `${f.dir}/empty` }), ["warn"]);
});

Deno.test("doctor logs and descriptors fail on an unwritable log dir and a low open-file limit", async () => {
  await using f = await fixture({ CPAN_BRIDGE_LOG_DIR: "/dev/null/logs" });
  assert.equal(of(await runDoctor(f.host), "logs")[0]!.status, "fail");
  assert.equal(of(await runDoctor(f.host), "descriptors")[0]!.status, "ok");
  await Deno.writeTextFile(`${f.host.procDir}/self/limits`, "Max open files  50  50  files\n");
  const d = of(await runDoctor(f.host), "descriptors");
  assert.equal(d[0]!.status, "warn");
  assert.match(d[0]!.message, /limit 50 .*MAX_CONNECTIONS=100/);
});

Deno.test("doctor unpack checks the binary's cache directory", async () => {
  await using f = await fixture({ CPAN_BRIDGE_CACHE_DIR: "/dev/null/cache" });
  assert.equal(of(await runDoctor(f.host), "unpack")[0]!.status, "fail");
  const env = { ...f.host.env, CPAN_BRIDGE_CACHE_DIR: `${f.dir}/cache/new` };
  assert.equal(of(await runDoctor({ ...f.host, env }), "unpack")[0]!.status, "ok");
});

Deno.test("cpan-bridge doctor --json prints the findings and exits 2 on a failure, 0 when all is ok", async () => {
  const dir = await Deno.makeTempDir({ prefix: "doctor-cli-" });
  try {
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: dir,
      CPAN_BRIDGE_SOCKET: `${dir}/s.sock`,
      CPAN_BRIDGE_LOG_DIR: dir,
    };
    const bad = await runCli(["doctor", "--json", "--script-dir", dir], {
      env: { ...env, CPAN_BRIDGE_MAX_CONNECTIONS: "lots" },
      cwd: dir,
    });
    assert.equal(bad.code, 2, bad.stderr); // a bad setting is a finding, not exit 78
    const findings = JSON.parse(bad.stdout) as Finding[];
    assert.ok(findings.some((x) => x.check === "scripts" && x.status === "fail"));
    assert.ok(findings.some((x) => x.check === "config" && /MAX_CONNECTIONS/.test(x.message)));

    await Deno.mkdir(`${dir}/python_helpers`);
    await Deno.writeTextFile(`${dir}/python_helpers/cpan_bridge.py`, "");
    await Deno.writeTextFile(`${dir}/python_helpers/cpan_daemon.py`, "");
    const self = new URL("../../../../scripts/cpan-bridge", import.meta.url).pathname;
    const good = await runCli(["doctor", "--script-dir", dir], {
      env: { ...env, PYTHON_EXECUTABLE: self },
      cwd: dir,
    });
    assert.equal(good.code, 0, good.stdout);
    assert.match(good.stdout, /^ok +launcher .*this cpan-bridge/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
