import assert from "node:assert/strict";
import {
  claimedPid,
  JsonEndScanner,
  readRequest,
  writeAll,
  WriteDeadline,
  writeReply,
} from "../../../src/wire/framing.ts";
import { WireError as WireErrorClass } from "../../../src/errors.ts";
import type { WireError } from "../../../src/errors.ts";

const enc = new TextEncoder();

function scanAll(parts: string[]): boolean {
  const s = new JsonEndScanner();
  let done = false;
  for (const p of parts) done = s.feed(enc.encode(p));
  return done;
}

Deno.test("JsonEndScanner finds the end of an object split anywhere", () => {
  const text = '{"module":"test","function":"ping","params":{"a":"}{\\"]","b":[1,{"c":2}]}}';
  for (let cut = 1; cut < text.length; cut++) {
    const s = new JsonEndScanner();
    assert.equal(s.feed(enc.encode(text.slice(0, cut))), false, `complete too early at ${cut}`);
    assert.equal(s.feed(enc.encode(text.slice(cut))), true, `not complete after cut ${cut}`);
  }
});

Deno.test("JsonEndScanner waits for EOF when data follows the first value", () => {
  assert.equal(scanAll(['{"a":1}{"b":2}']), false);
  assert.equal(scanAll(['{"a":1}  \n']), true);
  assert.equal(scanAll(["[1,2]"]), true);
  assert.equal(scanAll(['"str"']), true);
  assert.equal(scanAll(["123"]), false); // a number may go on: ends at whitespace or EOF
  assert.equal(scanAll(["123 "]), true);
});

Deno.test("JsonEndScanner handles escapes across chunk boundaries", () => {
  assert.equal(scanAll(['{"a":"x\\', '"', '}"}']), true);
  assert.equal(scanAll(['{"a":"x\\\\', '"}']), true);
});

/** An in-memory reader yielding the given chunks, then EOF (or hanging when `hang`). */
function reader(chunks: Uint8Array[], hang = false) {
  let i = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (i >= chunks.length) return hang ? new Promise(() => {}) : Promise.resolve(null);
      const c = chunks[i++]!;
      p.set(c);
      return Promise.resolve(c.length);
    },
  };
}

Deno.test("readRequest() returns at the end of the JSON value without waiting for EOF", async () => {
  const r = reader([enc.encode('{"module":"test",'), enc.encode('"function":"ping"}')], true);
  const bytes = await readRequest(r, { maxBytes: 1000, idleMs: 5000 });
  assert.equal(new TextDecoder().decode(bytes), '{"module":"test","function":"ping"}');
});

Deno.test("readRequest() rejects a request of exactly maxBytes", async () => {
  const body = enc.encode(`{"a":"${"x".repeat(92)}"}`); // 100 bytes
  await assert.rejects(
    readRequest(reader([body]), { maxBytes: 100, idleMs: 1000 }),
    (e: WireError) => {
      assert.equal(e.message, "Request too large: 100 bytes (max: 100)");
      assert.equal(e.errorType, "ValueError");
      return true;
    },
  );
  const ok = await readRequest(reader([body]), { maxBytes: 101, idleMs: 1000 });
  assert.equal(ok.length, 100);
});

Deno.test("readRequest() reports an empty request and a silent client", async () => {
  await assert.rejects(
    readRequest(reader([]), { maxBytes: 100, idleMs: 1000 }),
    /Empty request received/,
  );
  await assert.rejects(
    readRequest(reader([enc.encode('{"a":')], true), { maxBytes: 100, idleMs: 50 }),
    /Request timeout - data transmission too slow/,
  );
});

Deno.test("writeAll() loops over partial writes", async () => {
  const got: number[] = [];
  const w = {
    write(p: Uint8Array) {
      const n = Math.min(3, p.length);
      got.push(...p.subarray(0, n));
      return Promise.resolve(n);
    },
  };
  const data = enc.encode("0123456789abcdef");
  await writeAll(w, data);
  assert.deepEqual(new Uint8Array(got), data);
});

/** A reader that yields one byte every `everyMs`, never finishing the request. */
function trickle(everyMs: number) {
  return {
    read(p: Uint8Array): Promise<number | null> {
      return new Promise((r) =>
        setTimeout(() => {
          p[0] = 0x20;
          r(1);
        }, everyMs)
      );
    },
  };
}

Deno.test("readRequest() fails a request still trickling in at the total deadline", async () => {
  const t0 = performance.now();
  await assert.rejects(
    readRequest(trickle(20), { maxBytes: 1_000_000, idleMs: 5000, deadlineMs: 300 }),
    (e: WireError) => {
      assert.equal(
        e.message,
        "Request timeout - request not received in full within 0.3 s (CPAN_BRIDGE_REQUEST_DEADLINE)",
      );
      assert.equal(e.errorType, "ValueError");
      return true;
    },
  );
  const took = performance.now() - t0;
  assert.ok(took >= 280 && took < 2000, `${took} ms`);
  // Without a deadline only the idle timeout applies; a silent client still gets that one.
  await assert.rejects(
    readRequest(reader([enc.encode('{"a":')], true), {
      maxBytes: 100,
      idleMs: 50,
      deadlineMs: 10_000,
    }),
    /Request timeout - data transmission too slow/,
  );
});

Deno.test("writeAll() fails with a clear error when the reader does not read by the deadline", async () => {
  let calls = 0;
  const w = {
    write(p: Uint8Array): Promise<number> {
      if (calls++ === 0) return Promise.resolve(Math.min(4, p.length));
      return new Promise(() => {}); // the client stopped reading
    },
  };
  const deadline = new WriteDeadline(100);
  await assert.rejects(writeAll(w, enc.encode("0123456789"), deadline), (e: WireError) => {
    assert.equal(
      e.message,
      "Reply not read within 0.1 s (CPAN_BRIDGE_WRITE_TIMEOUT): 4 of 10 bytes sent",
    );
    assert.equal(e.errorType, "TimeoutError");
    return true;
  });
  deadline.clear();
});

Deno.test("claimedPid() finds the top-level request_id PID in any key order", () => {
  const pid = (s: string) => claimedPid(enc.encode(s));
  assert.equal(pid('{"module":"m","request_id":"1795882837_4242_7","params":{}}'), 4242);
  assert.equal(pid('{"params":{"x":"}{"},"request_id" : "1_99_0","module":"m"}'), 99);
  assert.equal(pid('{"params":{"request_id":"1_5_1"},"module":"m"}'), undefined); // nested
  assert.equal(pid('{"params":"\\"request_id\\":\\"1_5_1\\"","module":"m"}'), undefined);
  assert.equal(pid('{"module":"request_id","function":"1_2_3"}'), undefined); // a value
  assert.equal(pid('{"request_id":"not-a-pid"}'), undefined);
  assert.equal(pid('{"request_id":"1_0_1"}'), undefined);
  assert.equal(pid("{}"), undefined);
});

Deno.test("readRequest() behaviour: each read failure carries its kind, so no caller reads the text", async () => {
  const kindOf = (p: Promise<unknown>) =>
    p.then(
      () => "resolved",
      (e: unknown) => (e instanceof WireErrorClass ? e.kind : "not a WireError"),
    );
  const body = enc.encode(`{"a":"${"x".repeat(92)}"}`);
  assert.equal(
    await kindOf(readRequest(reader([body]), { maxBytes: 100, idleMs: 1000 })),
    "too_large",
  );
  assert.equal(await kindOf(readRequest(reader([]), { maxBytes: 100, idleMs: 1000 })), "empty");
  assert.equal(
    await kindOf(readRequest(reader([enc.encode('{"a":')], true), { maxBytes: 100, idleMs: 30 })),
    "timeout",
  );
  assert.equal(
    await kindOf(readRequest(trickle(10), { maxBytes: 1000, idleMs: 5000, deadlineMs: 60 })),
    "timeout_no_request",
  );
  const deadline = new WriteDeadline(30);
  const stuck = { write: (): Promise<number> => new Promise(() => {}) };
  assert.equal(await kindOf(writeAll(stuck, enc.encode("x"), deadline)), "write_timeout");
  deadline.clear();
});

Deno.test("writeReply() behaviour: a reply written at once arms no deadline; the rest is raced", async () => {
  class CountingDeadline extends WriteDeadline {
    asked = 0;
    override get expired(): Promise<"expired"> {
      this.asked++;
      return super.expired;
    }
  }
  const got: number[] = [];
  const all = { write: (p: Uint8Array) => (got.push(...p), Promise.resolve(p.length)) };
  const quick = new CountingDeadline(1000);
  assert.equal(await writeReply(all, [enc.encode("abc")], quick), 3);
  assert.equal(quick.asked, 0);
  quick.clear();
  // Several parts: only the first write is not raced.
  const parts = new CountingDeadline(1000);
  assert.equal(await writeReply(all, [enc.encode("de"), enc.encode("fg")], parts), 4);
  assert.equal(parts.asked, 1);
  parts.clear();
  assert.equal(new TextDecoder().decode(new Uint8Array(got)), "abcdefg");
  // A first write that takes part, then a client that stops reading: the deadline applies.
  let calls = 0;
  const stuck = {
    write(p: Uint8Array): Promise<number> {
      return calls++ === 0 ? Promise.resolve(Math.min(4, p.length)) : new Promise(() => {});
    },
  };
  const slow = new WriteDeadline(50);
  await assert.rejects(writeReply(stuck, [enc.encode("0123456789")], slow), (e: WireError) => {
    assert.equal(
      e.message,
      "Reply not read within 0.05 s (CPAN_BRIDGE_WRITE_TIMEOUT): 4 of 10 bytes sent",
    );
    assert.equal(e.kind, "write_timeout");
    return true;
  });
  slow.clear();
});

Deno.test("readRequest() behaviour: a short idle deadline set while a long one is pending fires on time", async () => {
  const silent = () => reader([enc.encode('{"a":')], true);
  const long = readRequest(silent(), { maxBytes: 100, idleMs: 400 });
  const t0 = performance.now();
  await assert.rejects(
    readRequest(silent(), { maxBytes: 100, idleMs: 40 }),
    /Request timeout - data transmission too slow/,
  );
  const short = performance.now() - t0;
  assert.ok(short >= 35 && short < 350, `${short} ms`); // not held back to the long one's 400 ms
  await assert.rejects(long, /Request timeout - data transmission too slow/);
  assert.ok(performance.now() - t0 >= 350, "the long one still waits its own time");
});

/** A reader that hands out `body` as fast as the buffers allow; records each buffer and its size. */
function streamReader(body: Uint8Array, seen: Array<{ buf: Uint8Array; size: number }>) {
  let off = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      seen.push({ buf: p, size: p.length });
      if (off >= body.length) return Promise.resolve(null);
      const n = Math.min(p.length, body.length - off);
      p.set(body.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
}

Deno.test("readRequest() behaviour: a request read in many chunks comes back whole, and each 64 KiB chunk's memory is freed at once", async () => {
  const body = enc.encode(
    JSON.stringify({ module: "test", function: "echo", params: { s: "é\u20ac".repeat(60_000) } }),
  );
  const seen: Array<{ buf: Uint8Array; size: number }> = [];
  const got = await readRequest(streamReader(body, seen), { maxBytes: 1 << 24, idleMs: 5000 });
  assert.ok(got.length === body.length && got.every((b, i) => b === body[i]), "the same bytes");
  const chunks = seen.filter((s) => s.size === 64 * 1024);
  assert.ok(chunks.length >= 4, `${chunks.length} chunks of 64 KiB`);
  assert.ok(chunks.every((s) => s.buf.buffer.byteLength === 0), "each chunk's buffer detached");

  // Refused: the chunks read before the cap are freed too, and the pool's buffer still works.
  const refused: Array<{ buf: Uint8Array; size: number }> = [];
  await assert.rejects(
    readRequest(streamReader(body, refused), { maxBytes: 200_000, idleMs: 5000, drainMs: 500 }),
    /Request too large/,
  );
  const before = refused.filter((s) => s.size === 64 * 1024);
  assert.ok(before.length >= 2 && before.every((s) => s.buf.buffer.byteLength === 0));
  const small = await readRequest(reader([enc.encode('{"a":1}')]), { maxBytes: 100, idleMs: 1000 });
  assert.equal(new TextDecoder().decode(small), '{"a":1}');
});
