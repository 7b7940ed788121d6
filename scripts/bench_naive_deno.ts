/**
 * @module
 * The naive Deno server of the performance issue: the reference a ping's daemon CPU is compared
 * with ("pings stay within 10 % of the naive Deno server's CPU per request"). It does what anyone
 * would write first with Deno's own API and nothing else: accept on a Unix socket, read to EOF
 * (the v2.00 client half-closes), write a fixed reply, close. No JSON, no timers, no bookkeeping.
 *
 *   deno run -A scripts/bench_naive_deno.ts SOCKET REPLY_FILE
 *
 * Measure it with the same driver as the daemon, e.g.
 * `perl ../shared/bench/bridge_bench.pl SOCKET --pid PID --calls test.ping --clients 1,32`;
 * scripts/bench_ratio.sh runs it beside the daemon in one run.
 */

// deno-lint-ignore-file no-console -- a command-line tool

const [socket, replyFile] = Deno.args;
if (!socket || !replyFile) {
  console.error("usage: bench_naive_deno.ts SOCKET REPLY_FILE");
  Deno.exit(2);
}
const reply = Deno.readFileSync(replyFile);
try {
  Deno.removeSync(socket);
} catch { /* not there */ }
const listener = Deno.listen({ transport: "unix", path: socket });
// A normal exit on SIGTERM, so that `deno run --cpu-prof` writes its profile.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

async function serve(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(8192);
  try {
    for (let n = 0; n < 1 << 20;) {
      const r = await conn.read(buf);
      if (r === null) break;
      n += r;
    }
    let off = 0;
    while (off < reply.length) off += await conn.write(reply.subarray(off));
  } catch { /* client gone */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

for await (const conn of listener) serve(conn);
