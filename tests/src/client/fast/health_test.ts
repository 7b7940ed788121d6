/**
 * @module
 * runHealth(): the monitoring probe answered by the small module, and the same bytes and exit
 * codes as runCli (src/cli.ts) prints for each case, through main.ts and through runCli.
 */
import assert from "node:assert/strict";
import { checkHealth, runHealth, stripShim } from "../../../../src/client/fast/health.ts";
import { ROOT, startTestDaemon } from "../../../_support/daemon.ts";

function collect() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

/** Runs `args` through `entry` (a script path) in a child process with exactly `env`. */
async function run(entry: string, args: string[], env: Record<string, string>) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", entry, ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** The figures of a health line or JSON change from call to call; the words must not. */
const shape = (s: string) => s.replace(/\d+(\.\d+)?(e[-+]?\d+)?/g, "N");

Deno.test({
  name: "runHealth() exit codes and lines: healthy, degraded, unreachable, bad setting",
  fn: async () => {
    {
      await using d = await startTestDaemon();
      const c = collect();
      assert.equal(await runHealth({ json: false, socket: d.socket }, {}, c.io), 0);
      assert.match(c.out[0] ?? "", /^CPAN-BRIDGE OK - healthy \| requests=\d+c errors=/);
      assert.deepEqual(c.err, []);
      const j = collect();
      assert.equal(await runHealth({ json: true }, { CPAN_BRIDGE_SOCKET: d.socket }, j.io), 0);
      const parsed = JSON.parse(j.out[0] ?? "");
      assert.equal(parsed.overall_status, "healthy");
      assert.equal("success" in parsed || "result" in parsed, false);
    }
    {
      await using d = await startTestDaemon({ CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "1" });
      const c = collect();
      assert.equal(await checkHealth(d.socket, false, c.io), 1);
      assert.match(c.out[0] ?? "", /^CPAN-BRIDGE WARNING - degraded: Elevated memory usage/);
    }
    const gone = collect();
    assert.equal(
      await runHealth({ json: false, socket: "/tmp/cpan-bridge-no-such.sock" }, {}, gone.io),
      3,
    );
    assert.match(gone.out[0] ?? "", /^CPAN-BRIDGE UNKNOWN - unreachable: Cannot reach the daemon/);
    const bad = collect();
    assert.equal(
      await runHealth({ json: false }, { CPAN_BRIDGE_MAX_CONNECTIONS: "x" }, bad.io),
      78,
    );
    assert.deepEqual(bad.out, []);
    assert.match(bad.err[0] ?? "", /^cpan-bridge: Cannot use CPAN_BRIDGE_MAX_CONNECTIONS/);
  },
});

Deno.test("stripShim() removes the ops-shim copies only", () => {
  assert.deepEqual(stripShim({ success: true, result: {}, overall_status: "healthy" }), {
    overall_status: "healthy",
  });
});

Deno.test({
  name: "main.ts answers --version and --health with the bytes and exit codes of runCli",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-fast-" });
    try {
      const slow = `${dir}/slow.ts`;
      await Deno.writeTextFile(
        slow,
        `import { runCli } from ${JSON.stringify(`${ROOT}/src/cli.ts`)};\n` +
          "Deno.exit(await runCli(Deno.args));\n",
      );
      await using d = await startTestDaemon();
      const base = { PATH: "/usr/bin:/bin", HOME: dir, TMPDIR: dir };
      const cases: Array<[string[], Record<string, string>, number]> = [
        [["--version"], base, 0],
        [["-v"], base, 0],
        [["--health", "--socket", d.socket], base, 0],
        [["--socket=" + d.socket, "--json", "--health"], base, 0],
        [["--health"], { ...base, CPAN_BRIDGE_SOCKET: d.socket }, 0],
        [["--health"], { ...base, CPAN_BRIDGE_SOCKET: `${dir}/none.sock` }, 3],
        [["--health", "--json", "--socket", `${dir}/none.sock`], base, 3],
        [["--health", "--socket", dir], base, 3],
        [["--health"], { ...base, CPAN_BRIDGE_MAX_CONNECTIONS: "0" }, 78],
        [["--health", "--json"], { ...base, CPAN_BRIDGE_SOCKET_MODE: "9" }, 78],
      ];
      for (const [args, env, code] of cases) {
        const fast = await run(`${ROOT}/main.ts`, args, env);
        const full = await run(slow, args, env);
        const what = `${JSON.stringify(args)} ${JSON.stringify(env)}`;
        assert.equal(fast.code, code, `${what}: ${fast.stdout}${fast.stderr}`);
        assert.equal(full.code, code, `${what}: ${full.stdout}${full.stderr}`);
        assert.equal(shape(fast.stdout), shape(full.stdout), what);
        assert.equal(fast.stderr, full.stderr, what);
        const said = code === 78 ? fast.stderr : fast.stdout;
        assert.ok(said.endsWith("\n") && said.split("\n").length === 2, what);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
