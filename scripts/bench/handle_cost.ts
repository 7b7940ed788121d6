/**
 * Per-handle memory of the helpers' stateful handles, in process: opens `--count` handles of one
 * kind through the helper (the same `HelperRuntime`, binding and handle tables as the daemon's
 * Worker), never closes them, and prints the V8 heap and RSS growth per handle after a full GC:
 * right after opening ("in use"), and again after the runtime's clock (a fake one) has moved past
 * the XML documents' rest time and one more handle was opened ("idle": what a handle a client
 * forgot costs for the rest of the handle TTL).
 * The handles are what scripts/bench_hostile.ts opens (its 60-row XML, SQLite :memory:, a cipher).
 * Not part of the test suite.
 *
 *   deno run -A --v8-flags=--expose-gc scripts/bench/handle_cost.ts [--count 1000]
 *     [--kind xpath,xpath_nodes,dom,dom_nodes,sqlite,crypto]   (one process per kind is fairest)
 *
 * `xpath_nodes` and `dom_nodes` also ask for every row's node id once (`//row`, `//row/*`), as a
 * script that walks the document does, so the node-id cost shows beside the document's.
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { HelperRuntime } from "../../src/helper_runtime.ts";
import { FakeClock } from "../../tests/_support/fake_clock.ts";
import { xpathHelper } from "../../helpers/xpath.ts";
import { xmlDomHelper } from "../../helpers/xml_dom_helper/mod.ts";
import { databaseHelper } from "../../helpers/database/mod.ts";
import { cryptoHelper } from "../../helpers/crypto/mod.ts";
import type { CallContext, HelperDefinition } from "../../helpers/types.ts";
import { REST_AFTER_MS } from "../../helpers/xml_dom_helper/resident.ts";
import { HOSTILE_XML as XML } from "./hostile_xml.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "1000" },
    kind: { type: "string", default: "xpath,xpath_nodes,dom,dom_nodes,sqlite,crypto" },
  },
});
const count = Number(values.count);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");

const clock = new FakeClock(Date.now());
const runtime = new HelperRuntime(
  [],
  { handleTtlMs: 3_600_000, helperTimeoutMs: 600_000, maxFileBytes: 104_857_600, debug: 0 },
  clock,
  () => {},
);
const ctx = runtime.makeContext("bench", "call", {
  requestId: `${Math.floor(Date.now() / 1000)}_${Deno.pid}_1`,
});

type R = { success?: boolean; result?: Record<string, unknown>; error?: string };

async function call(h: HelperDefinition, f: string, args: Record<string, unknown>): Promise<R> {
  const r = (await h.functions[f]!.run(args, ctx as CallContext)) as R;
  if (r.success === false) throw new Error(`${f}: ${r.error}`);
  return r;
}

/** A copy of the document text per call, as each request's params are decoded apart in the Worker. */
const xml = () => JSON.parse(JSON.stringify(XML)) as string;

const openers: Record<string, () => Promise<unknown>> = {
  xpath: () => call(xpathHelper, "load_xml_string", { xml_string: xml() }),
  async xpath_nodes() {
    const d = await call(xpathHelper, "load_xml_string", { xml_string: xml() });
    const document_id = d.result!.document_id;
    await call(xpathHelper, "find_nodes", { document_id, xpath: "//row" });
    await call(xpathHelper, "find_nodes", { document_id, xpath: "//row/*" });
  },
  async dom() {
    const p = await call(xmlDomHelper, "create_parser", {});
    await call(xmlDomHelper, "parse_string", { parser_id: p.result!.parser_id, xml_string: xml() });
  },
  async dom_nodes() {
    const p = await call(xmlDomHelper, "create_parser", {});
    const d = await call(xmlDomHelper, "parse_string", {
      parser_id: p.result!.parser_id,
      xml_string: xml(),
    });
    const root = await call(xmlDomHelper, "get_document_root", {
      document_id: d.result!.document_id,
    });
    await call(xmlDomHelper, "get_elements_by_tag_name_from_node", {
      node_id: root.result!.root_node_id,
      tag_name: "*",
    });
  },
  sqlite: () =>
    call(databaseHelper, "connect", {
      dsn: "dbi:SQLite:dbname=:memory:",
      username: "",
      password: "",
    }),
  crypto: () => call(cryptoHelper, "new", { key: "hostile-mix" }),
};

function measure(): { heap: number; rss: number } {
  for (let i = 0; i < 4; i++) gc!();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const kb = (n: number) => (n / 1024).toFixed(1);
console.log(
  `| kind | handles | in use: heap KB/handle | RSS KB/handle | idle: heap KB/handle | RSS KB/handle |`,
);
console.log(`|---|---|---|---|---|---|`);
for (const kind of values.kind.split(",")) {
  const open = openers[kind];
  if (!open) throw new Error(`Unknown --kind ${kind}`);
  for (let i = 0; i < 20; i++) await open(); // warm-up: modules loaded, code compiled
  // The warm-up's documents at rest, one just opened in use: as at the "idle" measurement.
  clock.advance(REST_AFTER_MS + 1);
  await open();
  const before = measure();
  for (let i = 0; i < count; i++) await open();
  const after = measure();
  clock.advance(REST_AFTER_MS + 1);
  await open();
  const idle = measure();
  const per = (a: number, b: number) => kb((a - b) / count);
  console.log(
    `| ${kind} | ${count} | ${per(after.heap, before.heap)} | ${per(after.rss, before.rss)} | ${
      per(idle.heap, before.heap)
    } | ${per(idle.rss, before.rss)} |`,
  );
}
await runtime.close();
