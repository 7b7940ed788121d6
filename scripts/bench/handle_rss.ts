/**
 * The daemon's RSS step by step as a client opens the hostile bench's handles and never closes
 * them: idle; after the first handle of each kind (the helper Worker and the helpers' modules);
 * after `--count` more of each, right away ("in use") and again after `--wait` seconds and one more
 * call (the XML documents at rest, see helpers/xml_dom_helper/resident.ts). Not part of the test
 * suite.
 *
 *   deno run -A scripts/bench/handle_rss.ts [--count 100] [--wait 35]
 *   deno run -A scripts/bench/handle_rss.ts --only xpath [--per-s 2] [--minutes 3]
 *     (one kind at a steady rate, as scripts/bench_hostile.ts opens them: RSS every 30 s)
 *
 * The daemon: CPAN_BRIDGE_BIN=dist/cpan-bridge for the single binary, else `deno run main.ts`.
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { rawCall } from "../../tests/_support/raw.ts";
import { startBenchDaemon } from "./bench_daemon.ts";
import { HOSTILE_XML as XML } from "./hostile_xml.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "100" },
    wait: { type: "string", default: "35" },
    only: { type: "string" },
    "per-s": { type: "string", default: "2" },
    minutes: { type: "string", default: "3" },
  },
});
const count = Number(values.count);

const bd = await startBenchDaemon("cpan-bridge-handle-rss-", {});
const call = async (module: string, fn: string, params: Record<string, unknown>) => {
  const r = JSON.parse(
    await rawCall(bd.sock, JSON.stringify({ module, function: fn, params }), { timeoutMs: 30_000 }),
  );
  if (r.success !== true) throw new Error(`${module}.${fn}: ${JSON.stringify(r)}`);
  return r.result as Record<string, unknown>;
};
const kinds: Record<string, () => Promise<unknown>> = {
  xpath: () => call("xpath", "load_xml_string", { xml_string: XML }),
  async xml_dom() {
    const p = await call("xml_dom_helper", "create_parser", {});
    await call("xml_dom_helper", "parse_string", { parser_id: p.parser_id, xml_string: XML });
  },
  sqlite: () =>
    call("database", "connect", {
      dsn: "dbi:SQLite:dbname=:memory:",
      username: "",
      password: "",
    }),
  crypto: () => call("crypto", "new", { key: "hostile-mix" }),
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const row = (what: string, base?: number) => {
  const rss = bd.rssMb();
  console.log(
    `| ${what} | ${rss.toFixed(1)} | ${base === undefined ? "" : (rss - base).toFixed(1)} |`,
  );
  return rss;
};

if (values.only) {
  const open = kinds[values.only];
  if (!open) throw new Error(`Unknown --only ${values.only}: ${Object.keys(kinds).join(", ")}`);
  const gapMs = 1000 / Number(values["per-s"]);
  const t0 = Date.now(), end = t0 + Number(values.minutes) * 60_000;
  console.log(`| min | RSS MB | ${values.only} opened |\n|---|---|---|`);
  await pause(3000);
  console.log(`| 0 (idle) | ${bd.rssMb().toFixed(1)} | 0 |`);
  let n = 0, next = t0 + 30_000;
  while (Date.now() < end) {
    await open();
    n++;
    if (Date.now() >= next) {
      console.log(
        `| ${((Date.now() - t0) / 60_000).toFixed(1)} | ${bd.rssMb().toFixed(1)} | ${n} |`,
      );
      next += 30_000;
    }
    await pause(gapMs);
  }
  await bd.stop();
  Deno.exit(0);
}

console.log("| step | RSS MB | + MB |\n|---|---|---|");
await pause(3000);
const idle = row("idle");
let last = idle;
for (const [kind, open] of Object.entries(kinds)) {
  await open();
  last = row(`first ${kind}`, last);
}
for (const [kind, open] of Object.entries(kinds)) {
  for (let i = 0; i < count; i++) await open();
  last = row(`+${count} ${kind}`, last);
}
await pause(Number(values.wait) * 1000);
await kinds.xpath!();
await kinds.xml_dom!();
row(`after ${values.wait} s idle and one more document of each XML kind`, last);
console.log(`\nidle ${idle.toFixed(1)} MB, end ${bd.rssMb().toFixed(1)} MB`);
await bd.stop();
