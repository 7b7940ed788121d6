/**
 * @module
 * `waitFor()`, the tests' one poll with a deadline: it returns the condition's first truthy value,
 * and its timeout error names what it waited for and carries the log's last lines.
 */

import assert from "node:assert/strict";
import { LOG_TAIL_LINES, readLogTail, waitFor } from "./wait.ts";

Deno.test("waitFor() behaviour: returns the first truthy value of the condition", async () => {
  let n = 0;
  const v = await waitFor(() => ++n >= 3 && `after ${n}`, {
    what: "three checks",
    deadlineMs: 5000,
  });
  assert.equal(v, "after 3");
});

Deno.test("waitFor() behaviour: the timeout error names what was awaited and the log tail", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    await Deno.writeTextFile(`${dir}/cpan_daemon.log`, lines.join("\n") + "\n");
    const err = await waitFor(() => false, { what: "never", deadlineMs: 30, logTail: { dir } })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.match(err.message, /^Timed out after 30 ms waiting for never\n/);
    assert.ok(err.message.endsWith(lines.slice(-LOG_TAIL_LINES).join("\n")), err.message);
    assert.ok(!err.message.includes(`line ${99 - LOG_TAIL_LINES}\n`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("waitFor() behaviour: an error thrown by the condition ends the wait at once", async () => {
  await assert.rejects(
    waitFor(() => {
      throw new Error("daemon exited");
    }, { what: "x", deadlineMs: 60_000 }),
    /daemon exited/,
  );
});

Deno.test("readLogTail() behaviour: reads a path or a function, and says when it cannot", async () => {
  assert.equal(await readLogTail(() => "a\nb\nc\n", 2), "b\nc");
  assert.match(await readLogTail("/nonexistent/cpan_daemon.log"), /^\(log not readable: /);
});
