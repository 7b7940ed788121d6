import assert from "node:assert/strict";
import { processStartTime } from "../../../src/sdk/processes.ts";

Deno.test("processStartTime() is the process's start time, undefined once it has exited or is a zombie", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const start = processStartTime(child.pid);
    assert.match(start ?? "", /^\d+$/);
    assert.equal(processStartTime(child.pid), start, "the same process, the same start time");
    // A zombie: killed but not yet reaped (Deno reaps it when its status is awaited).
    child.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (processStartTime(child.pid) !== undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(processStartTime(child.pid), undefined);
  } finally {
    await child.status;
  }
  assert.equal(processStartTime(2 ** 22 + 12345), undefined, "above pid_max: no such process");
});
