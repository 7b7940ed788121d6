/**
 * @module
 * Hostile wire input for robustness runs: a seeded generator of bad requests (mutated bytes,
 * truncated and over-long JSON, invalid UTF-8, NUL bytes, deep nesting, huge numbers, duplicate
 * keys, wrong types for every field, unknown names, params of every JSON type) and the ways a
 * client can deliver them (byte at a time, no half-close, closing before reading, vanishing).
 * Used by tests/robustness/fuzz_wire_test.ts, scripts/fuzz_wire.ts and scripts/soak.ts.
 */

/** A deterministic PRNG (mulberry32): the same seed gives the same cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How the client sends a case. */
export type Delivery =
  | "normal" // write all, half-close, read to EOF
  | "bytewise" // one byte per write, then half-close
  | "no-half-close" // write all, never half-close, read to EOF (a complete JSON value)
  | "close-early" // write, then close without reading: no reply expected
  | "vanish"; // connect and close at once: no reply expected

/** One generated case. */
export interface WireCase {
  readonly kind: string;
  readonly body: Uint8Array;
  readonly delivery: Delivery;
}

const enc = new TextEncoder();
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const FIELDS = [
  "module",
  "function",
  "params",
  "timestamp",
  "request_id",
  "perl_caller",
  "client_version",
];

/** Raw JSON texts of values of every type and size, including hostile ones. */
function valueText(r: () => number): string {
  const n = Math.floor(r() * 16);
  switch (n) {
    case 0:
      return "null";
    case 1:
      return pick(r, ["true", "false"]);
    case 2:
      return pick(r, ["0", "-1", "3.14", "-0", "1e308", "1e400", "-1e400", "5e-324"]);
    case 3:
      return "123456789012345678901234567890123456789"; // beyond 2^53
    case 4:
      return JSON.stringify("x".repeat(Math.floor(r() * 30_000)));
    case 5:
      return '"a\\u0000b\\ud800c"'; // escaped NUL and a lone surrogate
    case 6:
      return "[]";
    case 7:
      return "{}";
    case 8:
      return `[${Array.from({ length: 1_500 }, (_, i) => i).join(",")}]`;
    case 9: {
      const d = 1 + Math.floor(r() * 200);
      return "[".repeat(d) + "]".repeat(d);
    }
    case 10:
      return JSON.stringify({ password: "hunter2", nested: { list: [1, "two", null] } });
    case 11:
      return JSON.stringify("<script>alert(1)</script> ../../etc/passwd ${HOME} OR 1=1");
    case 12:
      return JSON.stringify("café ☺ 世界 🌍");
    case 13:
      return JSON.stringify("Ã©Ã¨ â\u0098º"); // double-encoded text
    case 14:
      return JSON.stringify(Object.fromEntries(
        Array.from({ length: 60 }, (_, i) => [`k${i}`, i]),
      ));
    default:
      return JSON.stringify(
        pick(r, ["", " ", "test", "ping", "__import__", "eval", "a".repeat(60)]),
      );
  }
}

const NAMES = [
  "test",
  "system",
  "datetime_helper",
  "crypto",
  "xpath",
  "database",
  "nope_mod",
  "os",
  "__import__",
  "Eval",
  "a_b_c",
  "x".repeat(51),
  "1abc",
  "ab-c",
  "ping",
  "now",
  "metrics",
  "health",
  "echo",
  "shutdown_x",
  "",
];

/** A request object, as text, with each field a random name or value. */
function requestText(r: () => number): string {
  const parts: string[] = [];
  for (const f of FIELDS) {
    if (r() < 0.25) continue; // missing field
    const v = (f === "module" || f === "function") && r() < 0.6
      ? JSON.stringify(pick(r, NAMES))
      : valueText(r);
    parts.push(`${JSON.stringify(f)}:${v}`);
  }
  if (r() < 0.1) parts.push(`"extra_key":${valueText(r)}`);
  if (r() < 0.1) parts.push(`"module":"test"`); // duplicate key
  return `{${parts.join(",")}}`;
}

const PING = '{"module":"test","function":"ping","params":{}}';
const VALID = [
  PING,
  '{"module":"test","function":"echo","params":{"a":[1,2,{"b":null}]}}',
  '{"module":"datetime_helper","function":"now","params":{},"request_id":"1_1_1"}',
  '{"module":"system","function":"metrics"}',
];

/** Byte-level mutation of a valid request. */
function mutate(r: () => number, base: string): { kind: string; body: Uint8Array } {
  const b = enc.encode(base);
  const at = Math.floor(r() * b.length);
  switch (Math.floor(r() * 8)) {
    case 0:
      return { kind: "truncated", body: b.subarray(0, at) };
    case 1: {
      const out = new Uint8Array(b);
      out[at] = Math.floor(r() * 256);
      return { kind: "byte-flip", body: out };
    }
    case 2: {
      const bad = pick(r, [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]);
      return {
        kind: "invalid-utf8",
        body: concat(b.subarray(0, at), new Uint8Array(bad), b.subarray(at)),
      };
    }
    case 3:
      return {
        kind: "nul-byte",
        body: concat(b.subarray(0, at), new Uint8Array([0]), b.subarray(at)),
      };
    case 4:
      return {
        kind: "trailing-garbage",
        body: concat(b, enc.encode(pick(r, ["x", "{}", " ]", "\n{"]))),
      };
    case 5:
      return { kind: "doubled", body: concat(b, b) };
    case 6:
      return { kind: "whitespace", body: enc.encode(`\n\t  ${base}  \r\n`) };
    default:
      return {
        kind: "over-long",
        body: enc.encode(base.replace(/}$/, `,"params":${valueText(r)}}`)),
      };
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Structural extremes. */
function extreme(r: () => number): { kind: string; body: Uint8Array } {
  switch (Math.floor(r() * 7)) {
    case 0:
      return {
        kind: "deep-10000",
        body: enc.encode(
          `{"module":"test","function":"ping","params":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
        ),
      };
    case 1:
      return { kind: "deep-unbalanced", body: enc.encode(`{"params":${'{"a":'.repeat(10_000)}1`) };
    case 2:
      return {
        kind: "top-level-scalar",
        body: enc.encode(pick(r, ["1", '"str"', "null", "[]", "true"])),
      };
    case 3:
      return {
        kind: "huge-number",
        body: enc.encode(`{"module":"test","function":"ping","params":{"n":1${"0".repeat(5000)}}}`),
      };
    case 4:
      return { kind: "empty", body: new Uint8Array() };
    case 5:
      return {
        kind: "long-string-1MB",
        body: enc.encode(
          `{"module":"test","function":"ping","params":{"s":"${"y".repeat(1_000_000)}"}}`,
        ),
      };
    default:
      return {
        kind: "random-bytes",
        body: Uint8Array.from({ length: 1 + Math.floor(r() * 2000) }, () => Math.floor(r() * 256)),
      };
  }
}

/** The `i`-th case of a run seeded with `seed` (cheap to regenerate for a report). */
export function generateCase(r: () => number): WireCase {
  const x = r();
  let c: { kind: string; body: Uint8Array };
  if (x < 0.4) c = { kind: "fields", body: enc.encode(requestText(r)) };
  else if (x < 0.8) c = mutate(r, pick(r, VALID));
  else c = extreme(r);
  const y = r();
  let delivery: Delivery = "normal";
  if (y < 0.04 && c.body.length <= 400) delivery = "bytewise";
  else if (y < 0.07) delivery = "close-early";
  else if (y < 0.09) delivery = "vanish";
  else if (y < 0.12 && c.kind === "fields") delivery = "no-half-close";
  return { kind: c.kind, body: c.body, delivery };
}

/** What came back for one case. */
export interface Outcome {
  /** "reply" (a JSON envelope), "none" (no reply expected), or a failure to investigate. */
  readonly status: "reply" | "none" | "no-reply" | "not-json" | "bad-envelope";
  readonly success?: boolean;
  /** `error_type: error` with numbers and quoted text normalised, for counting distinct classes. */
  readonly errorClass?: string;
  readonly detail?: string;
}

/** Normalises an error text to its class: numbers → N, quoted text → '…'. */
export function errorClass(type: unknown, error: unknown): string {
  const e = String(error)
    .split("; ")[0]!
    .replace(/0x[0-9a-f]+/gi, "0xNN")
    .replace(/'[^']*'/g, "'…'")
    .replace(/params(\[\d+\]|\.\w+)+/g, "params…")
    .replace(/\d+(\.\d+)?/g, "N")
    .replace(/(not allowed|detected|Error in [\w.]+): .*/, "$1")
    .slice(0, 80);
  return `${type}: ${e}`;
}

/** Sends one case on a fresh connection and checks what comes back. */
export async function runCase(socket: string, c: WireCase, timeoutMs = 15_000): Promise<Outcome> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch (err) {
    return { status: "no-reply", detail: `connect: ${err instanceof Error ? err.message : err}` };
  }
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    if (c.delivery === "vanish") {
      conn.close();
      return { status: "none" };
    }
    if (c.delivery === "bytewise") {
      for (let i = 0; i < c.body.length; i++) await conn.write(c.body.subarray(i, i + 1));
    } else {
      let off = 0;
      while (off < c.body.length) off += await conn.write(c.body.subarray(off));
    }
    if (c.delivery === "close-early") {
      conn.close();
      return { status: "none" };
    }
    if (c.delivery !== "no-half-close") await conn.closeWrite();
    const text = await new Response(conn.readable).text();
    if (text === "") return { status: "no-reply", detail: "empty reply" };
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text);
    } catch {
      return { status: "not-json", detail: text.slice(0, 200) };
    }
    if (typeof v.success !== "boolean") {
      return { status: "bad-envelope", detail: text.slice(0, 200) };
    }
    if (v.success) return { status: "reply", success: true };
    if (typeof v.error !== "string" || v.error === "" || typeof v.error_type !== "string") {
      return { status: "bad-envelope", detail: text.slice(0, 200) };
    }
    return { status: "reply", success: false, errorClass: errorClass(v.error_type, v.error) };
  } catch (err) {
    // The daemon refused mid-write (e.g. request too large, then closed): read what it said.
    return { status: "no-reply", detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Pings every `everyMs` from its own client; records the worst latency and any failure. */
export function startPinger(socket: string, everyMs = 200) {
  const stats = { count: 0, worstMs: 0, failures: [] as string[] };
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      const o = await runCase(
        socket,
        { kind: "ping", body: enc.encode(PING), delivery: "normal" },
        2000,
      );
      const ms = performance.now() - t0;
      stats.count++;
      stats.worstMs = Math.max(stats.worstMs, ms);
      if (o.status !== "reply" || o.success !== true) {
        stats.failures.push(`${o.status} ${o.detail ?? ""}`);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stats,
    async stop() {
      running = false;
      await done;
      return stats;
    },
  };
}

/** Runs `n` cases from `seed`, `concurrency` at a time; returns the tally. */
export async function fuzz(socket: string, seed: number, n: number, concurrency = 8) {
  const r = rng(seed);
  const cases = Array.from({ length: n }, () => generateCase(r));
  const tally = {
    cases: n,
    replies: 0,
    successes: 0,
    noReplyExpected: 0,
    classes: new Map<string, number>(),
    kinds: new Map<string, number>(),
    problems: [] as Array<{ index: number; kind: string; delivery: string; outcome: Outcome }>,
  };
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index]!;
      tally.kinds.set(c.kind, (tally.kinds.get(c.kind) ?? 0) + 1);
      const o = await runCase(socket, c);
      if (o.status === "none") tally.noReplyExpected++;
      else if (o.status === "reply") {
        tally.replies++;
        if (o.success) tally.successes++;
        else tally.classes.set(o.errorClass!, (tally.classes.get(o.errorClass!) ?? 0) + 1);
      } else if (o.status === "no-reply" && c.body.length >= 1_000_000) {
        // Large bodies refused mid-write are allowed to see a reset: counted, not a failure.
        tally.noReplyExpected++;
      } else tally.problems.push({ index, kind: c.kind, delivery: c.delivery, outcome: o });
    }
  }));
  return tally;
}
