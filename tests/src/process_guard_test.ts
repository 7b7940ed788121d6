/**
 * Tests of `guardProcess()`: an unhandled rejection and an uncaught error event become log lines,
 * and the process goes on (without the guard, Deno ends the process on either).
 */

import assert from "node:assert/strict";
import { guardProcess } from "../../src/process_guard.ts";
import { waitFor } from "../_support/wait.ts";

Deno.test("guardProcess() logs an unhandled rejection and the process survives", async () => {
  const lines: string[] = [];
  const unguard = guardProcess((m) => lines.push(m));
  try {
    void Promise.reject(new Error("Http: Too many open files"));
    void Promise.reject("x".repeat(10_000));
    await waitFor(() => lines.length === 2, { what: "two log lines", deadlineMs: 5000 });
    assert.match(lines[0]!, /^Unhandled promise rejection \(survived\): Error: Http: Too many/);
    // Echoed values are bounded.
    assert.ok(lines[1]!.length < 2100, `line of ${lines[1]!.length} chars`);
    assert.match(lines[1]!, /\(10000 chars\)$/);
  } finally {
    unguard();
  }
});

Deno.test("guardProcess() in a child process: a rejection is logged, the process exits 0", async () => {
  const code = `
    import { guardProcess } from ${
    JSON.stringify(new URL("../../src/process_guard.ts", import.meta.url).href)
  };
    guardProcess((m) => console.error(m));
    Promise.reject(new Error("boom"));
    setTimeout(() => { throw new Error("timer boom"); }, 10);
    setTimeout(() => console.log("still alive"), 200);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "still alive");
  assert.match(stderr, /Unhandled promise rejection \(survived\): Error: boom/);
  assert.match(stderr, /Uncaught error \(survived\): Error: timer boom/);
});
