/**
 * @module
 * Times `xml_helper.xml_in` (XML::Simple XMLin) and `xml_out` on a generated document of about
 * 10 MB: records with attributes, nested elements, multi-line and non-ASCII text, the shape of a
 * typical ticket/report export. Calls the helper directly (no socket), so it measures parsing and
 * conversion only.
 *
 *   deno run -A scripts/bench_xml.ts [megabytes=10] [runs=3]
 */

import { xmlHelper } from "../helpers/xml_helper/mod.ts";
import { makeTestContext } from "../tests/_support/context.ts";

/** Builds an XML document of at least `bytes` UTF-8 bytes; returns it and its record count. */
export function makeDocument(bytes: number): { xml: string; records: number } {
  const parts = ["<?xml version='1.0' encoding='UTF-8'?>\n<tickets>\n"];
  let size = parts[0]!.length;
  let n = 0;
  while (size < bytes) {
    const rec = `  <ticket id="T${n}" status="${n % 3 ? "open" : "closed"}" prio="${n % 5}">\n` +
      `    <title>Ticket ${n}: caf\u00e9 \u4e16\u754c \u{1F600} &amp; &lt;more&gt;</title>\n` +
      `    <description>line one of ${n}\n    line two\n\tindented</description>\n` +
      `    <tag>alpha</tag><tag>beta</tag>\n` +
      `    <owner name="user${n % 97}" team="ops"/>\n` +
      `  </ticket>\n`;
    parts.push(rec);
    size += new TextEncoder().encode(rec).length;
    n++;
  }
  parts.push("</tickets>\n");
  return { xml: parts.join(""), records: n };
}

if (import.meta.main) {
  const mb = Number(Deno.args[0] ?? 10);
  const runs = Number(Deno.args[1] ?? 3);
  const { xml, records } = makeDocument(mb * 1024 * 1024);
  const { ctx, close } = makeTestContext();
  const bytes = new TextEncoder().encode(xml).length;
  const inTimes: number[] = [];
  const outTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const r = await xmlHelper.functions.xml_in!.run(
      { source: xml, source_type: "string" },
      ctx,
    ) as {
      success: boolean;
      result: { ticket: Record<string, unknown> };
    };
    inTimes.push(performance.now() - t);
    if (!r.success || Object.keys(r.result.ticket).length !== records) {
      throw new Error("xml_in returned an unexpected result");
    }
    t = performance.now();
    const o = await xmlHelper.functions.xml_out!.run({ data: r.result, options: {} }, ctx) as {
      success: boolean;
    };
    outTimes.push(performance.now() - t);
    if (!o.success) throw new Error("xml_out failed");
  }
  await close();
  const fmt = (ts: number[]) => ts.map((t) => `${(t / 1000).toFixed(2)} s`).join(", ");
  // deno-lint-ignore no-console
  console.log(
    `document: ${(bytes / 1048576).toFixed(1)} MB, ${records} records\n` +
      `xml_in : ${fmt(inTimes)} (best ${(Math.min(...inTimes) / 1000).toFixed(2)} s)\n` +
      `xml_out: ${fmt(outTimes)} (best ${(Math.min(...outTimes) / 1000).toFixed(2)} s)`,
  );
}
