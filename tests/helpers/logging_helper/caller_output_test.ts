/**
 * @module
 * Output to a caller's `>`/`>>` file held as Perl buffers it (8192-byte chunks until the caller
 * exits), bounded by HOLD_LIMITS, and written at daemon shutdown.
 */

import assert from "node:assert/strict";
import { makeTestContext } from "../../_support/context.ts";
import { waitFor } from "../../_support/wait.ts";
import { heldBytesTotal, HOLD_LIMITS } from "../../../helpers/logging_helper/caller_output.ts";
import { call, callerWith, printsOnCue, redirected } from "./_callers.ts";

Deno.test("CallerOutputs.write() holds stdout of a > or >> file in Perl's 8192-byte chunks until the caller exits", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const clobber = callerWith(`> ${dir}/clobber`);
  const append = callerWith(`>> ${dir}/append`);
  try {
    const line = "x".repeat(99);
    for (const [p, name] of [[clobber, "clobber"], [append, "append"]] as const) {
      await redirected(p, `${dir}/${name}`);
      const ctx = { ...t.ctx, callerPid: p.pid };
      const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
      for (let i = 0; i < 100; i++) {
        assert.equal((await call("log_info", { logger_id: id, message: line }, ctx)).success, true);
      }
      const size = (await Deno.stat(`${dir}/${name}`)).size;
      assert.equal(size, 8192, name);
    }
    clobber.kill();
    append.kill();
    for (const name of ["clobber", "append"]) {
      await waitFor(
        async () => (await Deno.stat(`${dir}/${name}`)).size === 10_000,
        { deadlineMs: 5000, what: `10000 bytes in ${name}` },
      );
      assert.equal(await Deno.readTextFile(`${dir}/${name}`), `${line}\n`.repeat(100));
    }
  } finally {
    for (const p of [clobber, append]) {
      try {
        p.kill();
      } catch { /* exited */ }
      await p.status;
    }
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() output held at daemon shutdown is written; other users are refused", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const p = callerWith(`> ${dir}/held`);
  const other = new Deno.Command("perl", {
    args: ["-e", "$( = $) = 65534; $< = $> = 65534; sleep 30"],
  }).spawn();
  try {
    await redirected(p, `${dir}/held`);
    const ctx = { ...t.ctx, callerPid: p.pid };
    const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
    await call("log_info", { logger_id: id, message: "kept" }, ctx);
    await t.close();
    assert.equal(await Deno.readTextFile(`${dir}/held`), "kept\n");
    const t2 = makeTestContext({ cwd: dir });
    try {
      const octx = { ...t2.ctx, callerPid: other.pid };
      await waitFor(async () => {
        const s = await Deno.readTextFile(`/proc/${other.pid}/status`);
        return /^Uid:\s+65534/m.test(s);
      }, { deadlineMs: 5000, what: "the other caller to run as uid 65534" });
      const oid = (await call("init_logger", {}, octx)).result.logger_id;
      assert.match(
        (await call("log_info", { logger_id: oid, message: "x" }, octx)).error,
        /runs as another user/,
      );
    } finally {
      await t2.close();
    }
  } finally {
    for (const c of [p, other]) {
      try {
        c.kill();
      } catch { /* exited */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() lines held at daemon shutdown are not overwritten by the caller", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const { p, cue } = printsOnCue(`${dir}/out`);
  try {
    const ctx = { ...t.ctx, callerPid: p.pid };
    const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
    await waitFor(async () => (await Deno.readLink(`/proc/${p.pid}/exe`)).includes("perl"), {
      deadlineMs: 5000,
      what: "the caller to exec perl",
    });
    assert.equal(
      (await call("log_info", { logger_id: id, message: "held line" }, ctx)).success,
      true,
    );
    assert.equal(await Deno.readTextFile(`${dir}/out`), "", "held while the caller runs");
    await t.close();
    await cue();
    await p.status;
    assert.equal(await Deno.readTextFile(`${dir}/out`), "held line\nown\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() stops holding after HOLD_LIMITS.holdMs and beyond HOLD_LIMITS.totalBytes", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const a = callerWith(`> ${dir}/a`);
  const b = callerWith(`> ${dir}/b`);
  const saved = { ...HOLD_LIMITS };
  try {
    HOLD_LIMITS.totalBytes = 1000;
    HOLD_LIMITS.holdMs = 300;
    const line = "y".repeat(599);
    const ids = [];
    for (const [p, name] of [[a, "a"], [b, "b"]] as const) {
      await redirected(p, `${dir}/${name}`);
      const ctx = { ...t.ctx, callerPid: p.pid };
      ids.push((await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id);
    }
    const before = heldBytesTotal();
    await call("log_info", { logger_id: ids[0], message: line }, { ...t.ctx, callerPid: a.pid });
    assert.equal(heldBytesTotal() - before, 600, "a's line is held");
    assert.equal((await Deno.stat(`${dir}/a`)).size, 0);
    await call("log_info", { logger_id: ids[1], message: line }, { ...t.ctx, callerPid: b.pid });
    assert.equal(
      (await Deno.stat(`${dir}/b`)).size,
      600,
      "b's line went out: the bound was reached",
    );
    assert.equal(heldBytesTotal() - before, 600);
    const t0 = Date.now();
    await waitFor(async () => (await Deno.stat(`${dir}/a`)).size === 600, {
      deadlineMs: 5000,
      what: "a's held line in a",
    });
    assert.ok(
      Date.now() - t0 < 2000,
      "a's held line went out after the hold limit, a still running",
    );
    await call("log_info", { logger_id: ids[0], message: "later" }, { ...t.ctx, callerPid: a.pid });
    assert.equal(await Deno.readTextFile(`${dir}/a`), `${line}\nlater\n`, "later lines at once");
    assert.equal(heldBytesTotal(), before);
  } finally {
    Object.assign(HOLD_LIMITS, saved);
    for (const p of [a, b]) {
      try {
        p.kill();
      } catch { /* exited */ }
      await p.status;
    }
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
