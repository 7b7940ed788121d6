/**
 * @module
 * `cpan-bridge report`: the last lines of a log, every section of a report after a failed connect
 * without a secret, and the private report file.
 */

import assert from "node:assert/strict";
import { realHost } from "../../../../src/client/doctor/mod.ts";
import { buildReport, tailLines } from "../../../../src/client/report/mod.ts";
import { daemonPid } from "../../../../src/client/report/process_facts.ts";
import { rawJson } from "../../../_support/raw.ts";
import { runCli, startTestDaemon } from "../../../_support/daemon.ts";

const SECRET = "Sup3r-S3cret-pw";

Deno.test("tailLines() returns the last lines of a file", async () => {
  const f = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(
      f,
      Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n") + "\n",
    );
    assert.equal(await tailLines(f, 3), "line 497\nline 498\nline 499");
    assert.equal(await tailLines(f, 0), "");
  } finally {
    await Deno.remove(f);
  }
});

Deno.test("buildReport() after a failed connect has every section and no secret", async () => {
  await using td = await startTestDaemon({ CPAN_BRIDGE_DEBUG: "1" });
  for (
    const [dsn, username] of [
      ["dbi:Pg:dbname=x;host=127.0.0.1;port=1", "scott"],
      ["dbi:Oracle:orcl", `scott/${SECRET}@orcl`],
    ]
  ) {
    const r = await rawJson(td.socket, {
      module: "database",
      function: "connect",
      params: { dsn, username, password: SECRET, options: {} },
      request_id: `${Math.floor(Date.now() / 1000)}_${Deno.pid}_1`,
    });
    assert.notEqual((r.result as Record<string, unknown> | undefined)?.success, true);
  }
  const host = realHost(
    { CPAN_BRIDGE_SOCKET: td.socket, CPAN_BRIDGE_LOG_DIR: td.dir, PATH: "/usr/bin:/bin" },
    { scriptDir: td.dir, selfPaths: [] },
  );
  const text = await buildReport({ host, lines: 50 });
  assert.doesNotMatch(text, new RegExp(SECRET));
  const toc = text.split("\n\n")[1]!;
  for (
    const title of [
      "Version and build",
      "Configuration",
      "Doctor",
      "Health",
      "Metrics",
      "Performance and recent errors",
      "Connections",
      "Daemon process",
      "Daemon log",
      "Security log",
    ]
  ) {
    assert.match(toc, new RegExp(`\\d+\\. ${title}`));
    assert.match(text, new RegExp(`^\\d+\\. ${title}.*\\n=+$`, "m"));
  }
  assert.match(text, /"overall_status"/);
  assert.match(text, /database\.connect|connect/);
  assert.match(text, new RegExp(`^pid ${Deno.pid}, uid`, "m")); // the in-process daemon is us
  assert.equal(await daemonPid(td.socket), Deno.pid);
});

Deno.test("cpan-bridge report writes a private file, and says so when the daemon is down", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-cli-" });
  try {
    const out = `${dir}/r.txt`;
    const env = {
      PATH: "/usr/bin:/bin",
      CPAN_BRIDGE_SOCKET: `${dir}/none.sock`,
      CPAN_BRIDGE_LOG_DIR: dir,
    };
    const r = await runCli(["report", "--output", out, "--lines", "5"], { env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Report written to/);
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600);
    assert.match(await Deno.readTextFile(out), /^unreachable: Cannot reach the daemon/m);
    const flagged = await runCli(
      ["report", "--output", `${dir}/f.txt`, "--socket", `${dir}/flag.sock`],
      { env, cwd: dir },
    );
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(await Deno.readTextFile(`${dir}/f.txt`), /^socket .*\/flag\.sock$/m);
    const again = await runCli(["report", "--output", out], { env, cwd: dir });
    assert.equal(again.code, 73, "an existing file must not be overwritten");
    assert.match(again.stderr, /Cannot write the report: .* exists/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
