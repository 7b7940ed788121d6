/**
 * Wire benchmark: the Perl load driver (scripts/bench/driver.pl, speaking the protocol exactly as
 * CPANBridge.pm does) against cpan-bridge and against a minimal C server (the floor), for
 * test.ping, system.health and datetime_helper.now: sequential latency, throughput at 1/8/32/64
 * client processes, daemon CPU time per request and RSS. Prints a Markdown report.
 *
 *   deno task bench [--requests N] [--quick]
 *
 * Timings are printed, never asserted.
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { cliCommand, cliEnv, ROOT } from "../tests/_support/daemon.ts";
import { waitFor } from "../tests/_support/wait.ts";
import { probeDaemon } from "../src/server/socket.ts";
import { rawCall } from "../tests/_support/raw.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { requests: { type: "string" }, quick: { type: "boolean" } },
});
const total = Number(values.requests ?? (values.quick ? 2000 : 8000));
const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-bench-" });

function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Run {
  clients: number;
  count: number;
  errors: number;
  seconds: number;
  throughput: number;
  p50_ms: number;
  p99_ms: number;
}

async function drive(
  socket: string,
  m: string,
  f: string,
  clients: number,
  requests: number,
  ping = false,
): Promise<Run> {
  const out = await new Deno.Command("perl", {
    args: [
      `${ROOT}/scripts/bench/driver.pl`,
      socket,
      m,
      f,
      String(clients),
      String(requests),
      ping ? "1" : "0",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

// The floor: built now, started per call with cpan-bridge's own reply bytes for that call.
const floorBin = `${dir}/floor`;
const cc = await new Deno.Command("cc", {
  args: ["-O2", "-pthread", "-o", floorBin, `${ROOT}/scripts/bench/floor.c`],
}).output();
if (!cc.success) {
  throw new Error(`Cannot build the floor server: ${new TextDecoder().decode(cc.stderr)}`);
}

/** Starts a floor server that answers what cpan-bridge answers to `m.f`. */
async function startFloor(bridgeSock: string, m: string, f: string) {
  const reply = await rawCall(
    bridgeSock,
    JSON.stringify({
      module: m,
      function: f,
      params: {},
      timestamp: Date.now() / 1000,
      perl_caller: "bench",
      request_id: `${Math.floor(Date.now() / 1000)}_${Deno.pid}_1`,
      client_version: "2.00",
    }),
  );
  const file = `${dir}/${m}.${f}.reply`;
  await Deno.writeTextFile(file, reply);
  const sock = `${dir}/floor-${m}.${f}.sock`;
  const child = new Deno.Command(floorBin, {
    args: [sock, file],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitFor(() => probeDaemon(sock, 500), { what: "floor server" });
  return { sock, child, bytes: reply.length };
}

// cpan-bridge.
const sock = `${dir}/bridge.sock`;
const [cmd, ...pre] = cliCommand();
const daemon = new Deno.Command(cmd!, {
  args: [...pre, "daemon", "--socket", sock, "--log-dir", dir],
  env: cliEnv({
    CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE: "100000000",
    CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS: "1000",
  }),
  stdout: "null",
  stderr: "inherit",
}).spawn();
await waitFor(() => probeDaemon(sock, 500), { what: "cpan-bridge daemon" });
await drive(sock, "datetime_helper", "now", 2, 200); // warm-up (JIT, worker)
const rssIdle = rssMb(daemon.pid);

const lines: string[] = [];
const log = (s = "") => {
  lines.push(s);
  console.log(s);
};
log(
  `# Wire benchmark (${
    new Date().toISOString()
  }, ${Deno.build.os} ${navigator.hardwareConcurrency} cores, ${total} requests per run)`,
);
log();
log(`cpan-bridge daemon RSS after warm-up: ${rssIdle.toFixed(1)} MB`);
log();
log(
  "| call | clients | cpan-bridge req/s | floor req/s | ratio | p50 ms | p99 ms | floor p99 ms | daemon CPU µs/req | errors |",
);
log("|---|---|---|---|---|---|---|---|---|---|");
const calls: Array<[string, string, boolean]> = [
  ["test", "ping", false],
  ["system", "health", false],
  ["datetime_helper", "now", false],
  ["datetime_helper", "now", true],
];
for (const [m, f, ping] of calls) {
  const floor = await startFloor(sock, m, f);
  for (const clients of [1, 8, 32, 64]) {
    const per = Math.max(1, Math.floor(total / clients / (ping ? 2 : 1)));
    const c0 = cpuSeconds(daemon.pid);
    const r = await drive(sock, m, f, clients, per, ping);
    const cpuUs = ((cpuSeconds(daemon.pid) - c0) / (r.count * (ping ? 2 : 1))) * 1e6;
    const fl = await drive(floor.sock, m, f, clients, per, ping);
    log(
      `| ${m}.${f}${ping ? " (+ping)" : ""} | ${clients} | ${r.throughput.toFixed(0)} | ${
        fl.throughput.toFixed(0)
      } | ${(r.throughput / fl.throughput * 100).toFixed(0)} % | ${r.p50_ms.toFixed(3)} | ${
        r.p99_ms.toFixed(3)
      } | ${fl.p99_ms.toFixed(3)} | ${cpuUs.toFixed(0)} | ${r.errors} |`,
    );
  }
  floor.child.kill("SIGTERM");
  await floor.child.status;
}
log();
log(`cpan-bridge daemon RSS after the runs: ${rssMb(daemon.pid).toFixed(1)} MB`);

daemon.kill("SIGTERM");
await daemon.status;
await Deno.remove(dir, { recursive: true });
