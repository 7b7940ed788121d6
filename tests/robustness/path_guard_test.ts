/**
 * The shared-socket safeguards (docs/operations.md, "Shared sockets"): through any helper, the
 * daemon's own socket, lock and logs are refused, symbolic links included; with
 * CPAN_BRIDGE_ALLOWED_PATHS only the listed directories are usable; a socket others can reach is
 * announced in the daemon log.
 */

import assert from "node:assert/strict";
import { checkPath, PathRefusedError } from "../../src/sdk/path_guard.ts";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson } from "../_support/raw.ts";
import { waitFor } from "../_support/wait.ts";

const rid = () => `${Math.floor(Date.now() / 1000)}_${Deno.pid}_7`;

function xmlIn(socket: string, source: string) {
  return rawJson(socket, {
    module: "xml",
    function: "xml_in",
    params: { source, source_type: "file", options: {} },
    request_id: rid(),
  });
}

function xmlOut(socket: string, file: string) {
  return rawJson(socket, {
    module: "xml",
    function: "xml_out",
    params: { data: { a: "overwritten" }, options: { OutputFile: file } },
    request_id: rid(),
  });
}

function refusal(r: Record<string, unknown>): string {
  const inner = r.result as Record<string, unknown> | undefined;
  assert.notEqual(inner?.success ?? r.success, true, JSON.stringify(r));
  return String(inner?.error ?? r.error ?? "");
}

Deno.test("helpers refuse the daemon's own socket, lock and logs, also through a symlink", async () => {
  await using td = await startTestDaemon();
  const log = `${td.dir}/cpan_daemon.log`;
  const before = await Deno.readTextFile(log);
  assert.match(refusal(await xmlOut(td.socket, log)), /this daemon's own socket, lock or log/);
  assert.match(
    refusal(await xmlOut(td.socket, `${td.dir}/cpan_security.log.1`)),
    /own socket, lock or log/,
  );
  assert.match(refusal(await xmlIn(td.socket, `${td.socket}.lock`)), /own socket, lock or log/);
  const other = await Deno.makeTempDir();
  try {
    await Deno.symlink(log, `${other}/innocent.xml`);
    assert.match(
      refusal(await xmlOut(td.socket, `${other}/innocent.xml`)),
      /own socket, lock or log/,
    );
    // An ordinary file next to them is fine.
    const ok = await xmlOut(td.socket, `${other}/fine.xml`);
    assert.equal((ok.result as Record<string, unknown>).success ?? ok.success, true);
  } finally {
    await Deno.remove(other, { recursive: true });
  }
  assert.ok((await Deno.readTextFile(log)).startsWith(before), "the daemon log was rewritten");
});

Deno.test("CPAN_BRIDGE_ALLOWED_PATHS limits helpers to the listed directories", async () => {
  const allowed = await Deno.makeTempDir({ prefix: "allowed-" });
  const outside = await Deno.makeTempDir({ prefix: "outside-" });
  try {
    await Deno.writeTextFile(`${allowed}/in.xml`, "<opt><w>in</w></opt>");
    await Deno.writeTextFile(`${outside}/out.xml`, "<opt><w>out</w></opt>");
    await Deno.symlink(`${outside}/out.xml`, `${allowed}/link.xml`);
    await using td = await startTestDaemon({
      CPAN_BRIDGE_ALLOWED_PATHS: `/nonexistent:${allowed}`,
    });
    const ok = await xmlIn(td.socket, `${allowed}/in.xml`);
    assert.equal(JSON.stringify(ok).includes('"in"'), true, JSON.stringify(ok));
    assert.match(
      refusal(await xmlIn(td.socket, `${outside}/out.xml`)),
      /outside CPAN_BRIDGE_ALLOWED_PATHS/,
    );
    assert.match(
      refusal(await xmlIn(td.socket, `${allowed}/link.xml`)),
      /outside CPAN_BRIDGE_ALLOWED_PATHS/,
    );
    assert.match(
      refusal(await xmlIn(td.socket, `${allowed}/../${outside.split("/").pop()}/out.xml`)),
      /outside/,
    );
  } finally {
    await Deno.remove(allowed, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a socket shared with a group is announced at start-up with the safeguards", async () => {
  await using td = await startTestDaemon({ CPAN_BRIDGE_SOCKET_MODE: "0660" });
  // The log is written asynchronously: wait (bounded) for the line rather than read once.
  await waitFor(async () => /Socket mode 0660/.test(await td.readLog()), {
    what: "the shared-socket warning in the daemon log",
    deadlineMs: 10_000,
  });
  assert.match(
    await td.readLog(),
    /WARNING.*Socket mode 0660: members of group .* this daemon user's authority.*one daemon per user/,
  );
  await using quiet = await startTestDaemon();
  await waitFor(async () => /Unix domain socket created/.test(await quiet.readLog()), {
    what: "the socket line in the quiet daemon's log",
    deadlineMs: 10_000,
  });
  assert.doesNotMatch(await quiet.readLog(), /Socket mode/);
});

Deno.test("checkPath() compares resolved paths and treats rotated copies as the file", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const guard = { protectedPaths: [`${dir}/d.log`], allowedDirs: [] };
    await assert.rejects(checkPath(`${dir}/d.log.3.gz`, guard), PathRefusedError);
    await assert.rejects(checkPath(`${dir}/./sub/../d.log`, guard), PathRefusedError);
    await checkPath(`${dir}/d.logger`, guard);
    await checkPath(`${dir}/new/deep/file`, { protectedPaths: [], allowedDirs: [dir] });
    // What was checked is what a helper gets: the path with its links resolved.
    await Deno.writeTextFile(`${dir}/target`, "x");
    await Deno.symlink(`${dir}/target`, `${dir}/link`);
    assert.equal(
      await checkPath(`${dir}/link`, { protectedPaths: [], allowedDirs: [dir] }),
      `${dir}/target`,
    );
    await assert.rejects(
      checkPath("/etc/passwd", { protectedPaths: [], allowedDirs: [dir] }),
      PathRefusedError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
