/**
 * @module
 * Finding the daemon's process for a report, also one that bound its socket in place (the Python
 * daemon), by the socket's inode.
 */

import assert from "node:assert/strict";
import { daemonPid } from "../../../../src/client/report/process_facts.ts";

Deno.test("daemonPid() finds a daemon that bound its socket in place (the Python daemon) by its inode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-pid-" });
  const path = `${dir}/py.sock`;
  const l = Deno.listen({ transport: "unix", path });
  try {
    assert.equal(await daemonPid(path), Deno.pid);
    assert.equal(await daemonPid(`${dir}/nothing.sock`), undefined);
  } finally {
    l.close();
    await Deno.remove(dir, { recursive: true });
  }
});
