/**
 * Tests of `recoverRotation()` / `LogFile` start-up: what a SIGKILL during a gzip rotation leaves
 * (`<log>.rotating`, an empty or partial `<log>.1.gz`) is recovered, and a kill of a real daemon
 * mid-rotation loses no rotated line.
 */

import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { LogFile } from "../../../src/log/file_sink.ts";

const OPTS = { maxBytes: 1000, keep: 3, compress: true, maxQueued: 100 };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("LogFile() start-up recovers <log>.rotating into <log>.1.gz when .1.gz is empty", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cpan_daemon.log`;
  try {
    await Deno.writeTextFile(`${path}.rotating`, "old line 1\nold line 2\n");
    await Deno.writeFile(`${path}.1.gz`, new Uint8Array()); // what SIGKILL left
    await Deno.writeTextFile(`${path}.1.gz.tmp`, "partial");
    const f = new LogFile(path, OPTS);
    await f.close();
    assert.match(f.recovered ?? "", /^recovered .*\.rotating, left by an interrupted rotation/);
    await assert.rejects(() => Deno.lstat(`${path}.rotating`), Deno.errors.NotFound);
    await assert.rejects(() => Deno.lstat(`${path}.1.gz.tmp`), Deno.errors.NotFound);
    assert.equal(text(gunzipSync(await Deno.readFile(`${path}.1.gz`))), "old line 1\nold line 2\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogFile() start-up drops <log>.rotating when .1.gz already holds its lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/cpan_daemon.log`;
  try {
    await Deno.writeTextFile(`${path}.rotating`, "same\n");
    await Deno.writeFile(`${path}.1.gz`, gzipSync(new TextEncoder().encode("same\n")));
    const f = new LogFile(path, OPTS);
    await f.close();
    assert.match(f.recovered ?? "", /^removed .*was complete/);
    await assert.rejects(() => Deno.lstat(`${path}.rotating`), Deno.errors.NotFound);
    assert.equal(text(gunzipSync(await Deno.readFile(`${path}.1.gz`))), "same\n");
    // Nothing to do the next time.
    const g = new LogFile(path, OPTS);
    await g.close();
    assert.equal(g.recovered, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogFile rotation with compress: every rotated line is in a complete .gz", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/l.log`;
  try {
    const f = new LogFile(path, OPTS);
    for (let i = 0; i < 80; i++) f.write(`line ${i} ${"x".repeat(60)}\n`);
    await f.close();
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.ok(!names.some((n) => n.endsWith(".tmp") || n.endsWith(".rotating")), names.join());
    let all = "";
    for (const k of [3, 2, 1]) {
      all += text(gunzipSync(await Deno.readFile(`${path}.${k}.gz`)));
    }
    all += await Deno.readTextFile(path);
    assert.match(all, /line 79 /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LogFile.write() behaviour: the queue is bounded in characters as well as in lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const maxQueuedChars = 100_000;
    const f = new LogFile(`${dir}/x.log`, {
      ...OPTS,
      maxBytes: 0,
      maxQueued: 10_000,
      maxQueuedChars,
    });
    const line = `${"m".repeat(16_383)}\n`; // the longest line the loggers pass (16 KiB)
    // A synchronous burst: nothing is written until it ends, so everything kept is queued.
    for (let i = 0; i < 1000; i++) f.write(line);
    const queued = f.stats().queued;
    assert.ok(queued * line.length <= maxQueuedChars, `${queued} lines of 16 KiB queued`);
    assert.ok(queued >= 1);
    await f.close();
    const s = f.stats();
    // What was kept: the queue, plus the first line, which the writer took at once.
    assert.ok(s.written === queued || s.written === queued + 1, `${s.written} written`);
    assert.equal(s.written + s.dropped, 1000, "every line is either written or counted");
    // One line longer than the bound is still written when the queue is empty.
    const g = new LogFile(`${dir}/y.log`, { ...OPTS, maxBytes: 0, maxQueuedChars: 10 });
    g.write(line);
    await g.close();
    assert.equal(g.stats().written, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
