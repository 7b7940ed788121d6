/**
 * @module
 * The `xpath` helper (XML::XPath) called directly: node data, relative queries, prefixes and
 * scalars, errors as results, disposal and the idle TTL, and the whitelisted names.
 */

import assert from "node:assert/strict";
import { xpathHelper } from "../../helpers/xpath.ts";
import { makeTestContext } from "../_support/context.ts";
import type { CallContext } from "../../helpers/types.ts";
import { FakeClock } from "../_support/fake_clock.ts";

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<config xmlns:q="urn:q">
  <apps>
    <app name="alpha" port="8080">  Alpha App  </app>
    <app name="beta"><version name="1.2">v<b>12</b></version></app>
  </apps>
  <q:item q:id="7">Grüße €</q:item>
  <!-- note -->
</config>`;

// deno-lint-ignore no-explicit-any
type R = { success: boolean; result?: any; error?: string; error_type?: string };

const call = async (ctx: CallContext, f: string, args: Record<string, unknown>) =>
  (await xpathHelper.functions[f]!.run(args, ctx)) as R;

async function withDoc(fn: (ctx: CallContext, docId: string) => Promise<void>) {
  const t = makeTestContext();
  try {
    const r = await call(t.ctx, "load_xml_string", { xml_string: XML });
    assert.equal(r.success, true, r.error);
    await fn(t.ctx, r.result.document_id);
  } finally {
    await t.close();
  }
}

Deno.test("find_nodes() returns XML::XPath node data with string values and attributes", async () => {
  await withDoc(async (ctx, doc) => {
    const r = await call(ctx, "find_nodes", {
      document_id: doc,
      xpath: '//apps/app[@name="alpha"]',
    });
    assert.equal(r.result.size, 1);
    const [n] = r.result.nodes;
    assert.equal(n.name, "app");
    assert.equal(n.value, "  Alpha App  ");
    assert.deepEqual(n.attributes, { name: "alpha", port: "8080" });
    assert.match(n.node_id, /_n\d+$/);
  });
});

Deno.test("find_in_node() queries relative to a node and keeps node ids stable", async () => {
  await withDoc(async (ctx, doc) => {
    const apps = await call(ctx, "find_nodes", { document_id: doc, xpath: "/config/apps/app" });
    assert.equal(apps.result.size, 2);
    const beta = apps.result.nodes[1];
    const again = await call(ctx, "find_nodes", { document_id: doc, xpath: "//app[2]" });
    assert.equal(again.result.nodes[0].node_id, beta.node_id);
    const v = await call(ctx, "find_in_node", {
      node_id: beta.node_id,
      xpath: 'version[@name="1.2"]',
    });
    assert.equal(v.result.size, 1);
    assert.equal(v.result.nodes[0].value, "v12");
  });
});

Deno.test("find_nodes() handles prefixes, attributes, text, the root and scalars", async () => {
  await withDoc(async (ctx, doc) => {
    const q = await call(ctx, "find_nodes", { document_id: doc, xpath: "//q:item/@q:id" });
    assert.deepEqual([q.result.nodes[0].name, q.result.nodes[0].value], ["q:id", "7"]);
    const t = await call(ctx, "find_nodes", { document_id: doc, xpath: "//q:item/text()" });
    assert.deepEqual([t.result.nodes[0].name, t.result.nodes[0].value], ["", "Grüße €"]);
    const root = await call(ctx, "find_nodes", { document_id: doc, xpath: "/" });
    assert.equal(root.result.nodes[0].name, "");
    const inRoot = await call(ctx, "find_in_node", {
      node_id: root.result.nodes[0].node_id,
      xpath: "config",
    });
    assert.equal(inRoot.result.nodes[0].name, "config");
    const c = await call(ctx, "find_nodes", { document_id: doc, xpath: "count(//app)" });
    assert.deepEqual([c.result.size, c.result.type, c.result.nodes[0].value], [1, "number", "2"]);
    const b = await call(ctx, "find_nodes", { document_id: doc, xpath: "1 = 2" });
    assert.equal(b.result.value, "0");
    const none = await call(ctx, "find_nodes", { document_id: doc, xpath: "//missing" });
    assert.deepEqual([none.success, none.result.size, none.result.nodes], [true, 0, []]);
  });
});

Deno.test("find_nodes() returns an error for a bad expression or an unknown document", async () => {
  await withDoc(async (ctx, doc) => {
    const bad = await call(ctx, "find_nodes", { document_id: doc, xpath: "///[[[" });
    assert.equal(bad.success, false);
    assert.match(bad.error!, /^Invalid XPath expression '\/\/\/\[\[\['/);
    const unknown = await call(ctx, "find_nodes", { document_id: "nope", xpath: "/" });
    assert.match(unknown.error!, /Unknown document_id 'nope'/);
  });
});

Deno.test("load_xml_string() and load_file() reject malformed XML and missing files", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const bad = await call(t.ctx, "load_xml_string", { xml_string: "<a><b></a>" });
    assert.equal(bad.success, false);
    assert.match(bad.error!, /^Cannot parse XML: .*mismatch/);
    const empty = await call(t.ctx, "load_xml_string", { xml_string: "  " });
    assert.equal(empty.success, false);
    const missing = await call(t.ctx, "load_file", { filename: "nothere.xml" });
    assert.equal(missing.error, "Cannot open file 'nothere.xml'");
    assert.equal(missing.error_type, "FileNotFoundError");
    await Deno.writeFile(
      `${dir}/latin.xml`,
      new Uint8Array([
        ...new TextEncoder().encode('<?xml version="1.0" encoding="ISO-8859-1"?><a>'),
        0xe9,
        ...new TextEncoder().encode("</a>"),
      ]),
    );
    const ok = await call(t.ctx, "load_file", { filename: "latin.xml" });
    assert.equal(ok.success, true, ok.error);
    const a = await call(t.ctx, "find_nodes", { document_id: ok.result.document_id, xpath: "/a" });
    assert.equal(a.result.nodes[0].value, "é");
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispose_document() frees the document and its node ids", async () => {
  await withDoc(async (ctx, doc) => {
    const n = await call(ctx, "find_nodes", { document_id: doc, xpath: "//app" });
    const d = await call(ctx, "dispose_document", { document_id: doc });
    assert.deepEqual([d.success, d.result], [true, "Document disposed"]);
    const gone = await call(ctx, "find_in_node", {
      node_id: n.result.nodes[0].node_id,
      xpath: ".",
    });
    assert.match(gone.error!, /Unknown node_id/);
    const twice = await call(ctx, "dispose_document", { document_id: doc });
    assert.equal(twice.success, false);
  });
});

Deno.test("documents expire after the idle TTL, node ids with them", async () => {
  const clock = new FakeClock(1_000_000);
  const t = makeTestContext({ clock, handleTtlMs: 60_000 });
  try {
    const r = await call(t.ctx, "load_xml_string", { xml_string: XML });
    const n = await call(t.ctx, "find_nodes", {
      document_id: r.result.document_id,
      xpath: "//app",
    });
    clock.advance(50_000);
    // Using a node id touches its document.
    assert.equal(
      (await call(t.ctx, "find_in_node", { node_id: n.result.nodes[0].node_id, xpath: "." }))
        .success,
      true,
    );
    clock.advance(50_000);
    assert.equal(await t.sweep(), 0);
    clock.advance(20_000);
    assert.equal(await t.sweep(), 1);
    const gone = await call(t.ctx, "find_in_node", {
      node_id: n.result.nodes[0].node_id,
      xpath: ".",
    });
    assert.match(gone.error!, /Unknown node_id .*expired after 60 s idle/);
  } finally {
    await t.close();
  }
});

Deno.test("findvalue(), exists() and new() serve the whitelisted names", async () => {
  const t = makeTestContext();
  try {
    const n = await call(t.ctx, "new", { xml: XML });
    const doc = n.result.document_id;
    assert.equal(
      (await call(t.ctx, "findvalue", { document_id: doc, xpath: "//app/@name" })).result.value,
      "alpha",
    );
    assert.equal(
      (await call(t.ctx, "exists", { document_id: doc, xpath: "//app" })).result.exists,
      true,
    );
    assert.equal(
      (await call(t.ctx, "exists", { document_id: doc, xpath: "//nope" })).result.exists,
      false,
    );
  } finally {
    await t.close();
  }
});
