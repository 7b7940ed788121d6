/**
 * @module
 * The naive Deno server (scripts/bench_naive_deno.ts) moved step by step towards what the daemon
 * does for a ping, to find which step costs what (docs/performance.md, "ping vs the naive Deno
 * server"). STEPS is a comma-separated list of what to add to the naive server (accept, read to
 * EOF into a fresh 8 KiB buffer, write the fixed reply, close):
 *
 *   daemon    a real daemon started in this process, idle beside the variant listener (its helper
 *             worker, janitor, logs, monitors, its own accept loop on another socket)
 *   framing   the daemon's read path, `readRequest` (pooled buffer and copy, JsonEndScanner, the
 *             shared idle deadline raced against each read; stops at the JSON end, not at EOF)
 *   parse     decode and parse the request as `dispatch()` does (`decodeUtf8`, `parseRequestJson`)
 *   validate  parse, then `validateRequest()` (what `dispatch()` does before the built-in)
 *   dispatch  `dispatch()` per request (decode, parse, validate, the built-in, the reply JSON,
 *             the statistics); its reply is dropped unless `built`
 *   built     write the reply `dispatch()` built, encoded as the daemon does, instead of the file's
 *   twice     `dispatch()` a second time right after the first (reply dropped): the cost of the
 *             same work with warm caches, against the first call's cost right after a wake-up
 *   copy      write a fresh copy of the fixed reply per request (`slice()`)
 *   encode    write the fixed reply's text encoded per request (`TextEncoder.encode`)
 *   serve     the daemon's own `serveConnection()` (tracker, slots, scope, write deadline, size
 *             check) from this listener; implies daemon
 *   own       no listener of its own: the started daemon listens on SOCKET (its accept loop)
 *
 *   deno run -A [--v8-flags=--max-semi-space-size=1] scripts/bench/ping_variant.ts STEPS SOCKET REPLY_FILE
 *
 * STEPS `naive` adds nothing. REPLY_FILE holds the fixed reply (a daemon's ping reply bytes, as
 * compare.sh saves them). scripts/bench/ab_ping.sh runs several variants in alternating rounds.
 */

// deno-lint-ignore-file no-console -- a command-line tool

import { loadConfig } from "../../src/config.ts";
import { startDaemon } from "../../src/daemon.ts";
import type { DaemonContext } from "../../src/daemon_context.ts";
import { dispatch } from "../../src/protocol/dispatch.ts";
import { replyParts } from "../../src/protocol/envelope.ts";
import { serveConnection } from "../../src/server/connection.ts";
import { readRequest } from "../../src/wire/framing.ts";
import { whitelistOf } from "../../src/daemon_context.ts";
import { validateRequest } from "../../src/protocol/validate.ts";
import { decodeUtf8 } from "../../src/wire/encoding.ts";
import { parseRequestJson } from "../../src/wire/json_errors.ts";

const STEPS = [
  "naive",
  "daemon",
  "framing",
  "parse",
  "validate",
  "dispatch",
  "built",
  "twice",
  "copy",
  "encode",
  "serve",
  "own",
];
const [stepsArg, socket, replyFile] = Deno.args;
const steps = new Set((stepsArg ?? "").split(","));
if (!socket || !replyFile || [...steps].some((s) => !STEPS.includes(s))) {
  console.error(`usage: ping_variant.ts STEP[,STEP...] SOCKET REPLY_FILE (steps: ${STEPS})`);
  Deno.exit(2);
}
const reply = Deno.readFileSync(replyFile);
const replyText = new TextDecoder().decode(reply);
const utf8 = new TextEncoder();

let d: DaemonContext | undefined;
if (
  ["daemon", "validate", "dispatch", "built", "twice", "serve", "own"].some((s) => steps.has(s))
) {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-variant-" });
  const config = loadConfig(Deno.env.toObject(), {
    socketPath: steps.has("own") ? socket : `${dir}/idle.sock`,
    logDir: dir,
  });
  d = (await startDaemon(config)).context;
}
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

const limits = {
  maxBytes: d?.config.maxRequestSize ?? 10 * 1024 * 1024,
  idleMs: (d?.config.readTimeout ?? 30) * 1000,
  deadlineMs: (d?.config.requestDeadline ?? 60) * 1000,
};

/** The naive read: into one fresh buffer, to EOF; the bytes of the first read (a ping's all). */
async function readToEof(conn: Deno.Conn): Promise<Uint8Array> {
  const buf = new Uint8Array(8192);
  let first = 0;
  for (let n = 0; n < 1 << 20;) {
    const r = await conn.read(buf);
    if (r === null) break;
    if (n === 0) first = r;
    n += r;
  }
  return buf.subarray(0, first);
}

let whitelist: ReturnType<typeof whitelistOf> | undefined;

async function serve(conn: Deno.Conn): Promise<void> {
  try {
    const bytes = steps.has("framing") ? await readRequest(conn, limits) : await readToEof(conn);
    let parts: Uint8Array[] = [reply];
    if (steps.has("parse") || steps.has("validate")) {
      const value = parseRequestJson(decodeUtf8(bytes)) as Record<string, unknown>;
      if (steps.has("validate")) {
        validateRequest(value, {
          config: d!.config,
          whitelist: whitelist ??= whitelistOf(d!),
          security: d!.security,
          peer: { client: "variant" },
        });
      }
    }
    if (steps.has("dispatch") || steps.has("built")) {
      const r = await dispatch(d!, bytes, { client: "variant" });
      if (steps.has("built")) parts = replyParts(r, d!.config.encoding);
      if (steps.has("twice")) {
        replyParts(await dispatch(d!, bytes, { client: "variant" }), "repair");
      }
    }
    if (steps.has("copy")) parts = [reply.slice()];
    if (steps.has("encode")) parts = [utf8.encode(replyText)];
    for (const p of parts) await writeAll(conn, p);
  } catch { /* client gone */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

if (steps.has("own")) {
  console.error(`the daemon itself on ${socket}`);
} else {
  try {
    Deno.removeSync(socket);
  } catch { /* not there */ }
  const listener = Deno.listen({ transport: "unix", path: socket });
  if (steps.has("serve")) { for await (const conn of listener) serveConnection(d!, conn); }
  else for await (const conn of listener) serve(conn);
}
