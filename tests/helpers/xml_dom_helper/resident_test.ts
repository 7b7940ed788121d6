/**
 * @module
 * `ResidentDoc` through the two XML helpers: a document left unused keeps only its text, and its
 * next use answers exactly as before (same node ids, values, lists, serialisation); a changed
 * document, or one holding ids of nodes made in it, keeps its tree and its changes.
 */

import assert from "node:assert/strict";
import { xpathHelper } from "../../../helpers/xpath.ts";
import { xmlDomHelper } from "../../../helpers/xml_dom_helper/mod.ts";
import { DocStore } from "../../../helpers/xml_dom_helper/store.ts";
import {
  PARSED_BUDGET_BYTES,
  ResidentDoc,
  REST_AFTER_MS,
  SMALL_REST_AFTER_MS,
  SMALL_TREE_BYTES,
} from "../../../helpers/xml_dom_helper/resident.ts";
import { parseXml, stringValue } from "../../../helpers/xml_dom_helper/dom.ts";
import type { CallContext, HelperDefinition } from "../../../helpers/types.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { TestContext } from "../../_support/context.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE config [<!ENTITY who "the team">]>
<config xmlns:q="urn:q">
  <apps>
    <app name="alpha" port="8080">  Alpha &who;  </app>
    <app name="beta"><version name="1.2">v<b>12</b><![CDATA[ <raw> ]]></version></app>
  </apps>
  <q:item q:id="7">Grüße €</q:item>
  <!-- note --><?pi data?>
</config>`;

// deno-lint-ignore no-explicit-any
type R = { success: boolean; result?: any; error?: string; nodes_cleaned?: number };

const caller = (h: HelperDefinition) => async (ctx: CallContext, f: string, args = {}) =>
  (await h.functions[f]!.run(args, ctx)) as R;
const xp = caller(xpathHelper);
const dom = caller(xmlDomHelper);

/** Whether a document has its tree in memory (false: at rest). */
const parsed = (ctx: CallContext, prefix: "xp" | "dom", id: string) =>
  new DocStore(ctx, prefix).docs.peek(id)!.resident.parsed;

async function withClock(fn: (t: TestContext, clock: FakeClock) => Promise<void>) {
  const clock = new FakeClock(1_000_000);
  const t = makeTestContext({ clock });
  try {
    await fn(t, clock);
  } finally {
    await t.close();
  }
}

/** Moves past the rest time; the next call (here a ping-like lookup) lets idle documents rest. */
async function idle(t: TestContext, clock: FakeClock) {
  clock.advance(REST_AFTER_MS + 1);
  await xp(t.ctx, "check_lxml_availability");
  new DocStore(t.ctx, "xp");
}

const QUERIES = [
  "/",
  "//app",
  "//app/@*",
  "//text()",
  "//comment() | //processing-instruction()",
  "//q:item/@q:id",
  "count(//*)",
  "//version/b",
];

Deno.test("xpath: a document at rest answers with the same nodes, values and ids", async () => {
  await withClock(async (t, clock) => {
    const doc = (await xp(t.ctx, "load_xml_string", { xml_string: XML })).result.document_id;
    const ask = async () => {
      const out = [];
      for (const xpath of QUERIES) {
        out.push(await xp(t.ctx, "find_nodes", { document_id: doc, xpath }));
      }
      return out;
    };
    const before = await ask();
    await idle(t, clock);
    assert.equal(parsed(t.ctx, "xp", doc), false);
    // Every id handed out (attributes, text, comment, PI, the document node) still names its node.
    const ids = before.flatMap((r) => r.result.nodes.map((n: { node_id: string }) => n.node_id))
      .filter((id: string) => id !== "");
    const viaIds = [];
    for (const id of ids) viaIds.push(await xp(t.ctx, "find_in_node", { node_id: id, xpath: "." }));
    assert.equal(parsed(t.ctx, "xp", doc), true);
    assert.deepEqual(
      viaIds.map((r) => r.result.nodes[0]),
      before.flatMap((r) => r.result.nodes.filter((n: { node_id: string }) => n.node_id !== "")),
    );
    await idle(t, clock);
    assert.deepEqual(await ask(), before);
    await idle(t, clock);
    const disposed = await xp(t.ctx, "dispose_document", { document_id: doc });
    assert.equal(disposed.nodes_cleaned, new Set(ids).size);
  });
});

Deno.test("xml_dom_helper: lists, ids and to_string survive rest; dispose_node too", async () => {
  await withClock(async (t, clock) => {
    const p = (await dom(t.ctx, "create_parser", { KeepCDATA: 1 })).result.parser_id;
    const d = (await dom(t.ctx, "parse_string", { parser_id: p, xml_string: XML })).result;
    const list = await dom(t.ctx, "get_elements_by_tag_name", {
      document_id: d.document_id,
      tag_name: "*",
    });
    const first = list.result.node_ids[1];
    const text = (await dom(t.ctx, "get_first_child", { node_id: first })).result.node_id;
    const value = (await dom(t.ctx, "get_node_value", { node_id: text })).result.value;
    const plain = (await dom(t.ctx, "to_string", { document_id: d.document_id })).result;
    const pretty = (await dom(t.ctx, "to_string", { document_id: d.document_id, indent: 2 }))
      .result;
    await idle(t, clock);
    assert.equal(
      parsed(t.ctx, "dom", d.document_id),
      false,
      "to_string with indent changes nothing",
    );
    assert.deepEqual((await dom(t.ctx, "to_string", { document_id: d.document_id })).result, plain);
    assert.deepEqual(
      (await dom(t.ctx, "to_string", { document_id: d.document_id, indent: 2 })).result,
      pretty,
    );
    await idle(t, clock);
    const again = await dom(t.ctx, "get_elements_by_tag_name", {
      document_id: d.document_id,
      tag_name: "*",
    });
    assert.deepEqual(again.result.node_ids, list.result.node_ids);
    assert.equal(
      (await dom(t.ctx, "get_nodelist_item", { nodelist_id: list.result.nodelist_id, index: 1 }))
        .result.node_id,
      first,
    );
    assert.equal((await dom(t.ctx, "get_parent_node", { node_id: text })).result.node_id, first);
    assert.equal(
      (await dom(t.ctx, "get_document_root", { document_id: d.document_id })).result.root_node_id,
      d.root_node_id,
    );
    // A forgotten id stays forgotten at rest; the node gets a new id when asked for again.
    assert.equal((await dom(t.ctx, "dispose_node", { node_id: text })).success, true);
    await idle(t, clock);
    assert.match((await dom(t.ctx, "get_tag_name", { node_id: text })).error!, /Unknown node_id/);
    const fresh = (await dom(t.ctx, "get_first_child", { node_id: first })).result.node_id;
    assert.notEqual(fresh, text);
    assert.equal((await dom(t.ctx, "get_node_value", { node_id: fresh })).result.value, value);
    const info = (await dom(t.ctx, "get_module_info")).result;
    const disposed = await dom(t.ctx, "dispose_document", { document_id: d.document_id });
    assert.equal(disposed.result.nodes_cleaned, info.active_nodes);
  });
});

Deno.test("xml_dom_helper: a changed document keeps its tree and its changes", async () => {
  await withClock(async (t, clock) => {
    const p = (await dom(t.ctx, "create_parser")).result.parser_id;
    const open = async () =>
      (await dom(t.ctx, "parse_string", { parser_id: p, xml_string: XML })).result;
    const changes: Array<(d: { document_id: string; root_node_id: string }) => Promise<R>> = [
      (d) => dom(t.ctx, "set_attribute", { node_id: d.root_node_id, attr_name: "x", value: "1" }),
      (d) => dom(t.ctx, "remove_attribute", { node_id: d.root_node_id, attr_name: "xmlns:q" }),
      async (d) => {
        const e =
          (await dom(t.ctx, "create_element", { document_id: d.document_id, tag_name: "n" }))
            .result.node_id;
        return await dom(t.ctx, "append_child", { parent_id: d.root_node_id, child_id: e });
      },
      async (d) => {
        const c = (await dom(t.ctx, "get_first_child", { node_id: d.root_node_id })).result.node_id;
        return await dom(t.ctx, "remove_child", { parent_id: d.root_node_id, child_id: c });
      },
      // An id for a node made in the document (not in its tree) also keeps the tree.
      (d) => dom(t.ctx, "create_text_node", { document_id: d.document_id, data: "t" }),
      (d) => dom(t.ctx, "clone_node", { node_id: d.root_node_id, deep: 1 }),
    ];
    for (const change of changes) {
      const d = await open();
      assert.equal((await change(d)).success, true);
      const changed = (await dom(t.ctx, "to_string", { document_id: d.document_id })).result;
      await idle(t, clock);
      assert.equal(parsed(t.ctx, "dom", d.document_id), true);
      assert.deepEqual(
        (await dom(t.ctx, "to_string", { document_id: d.document_id })).result,
        changed,
      );
    }
  });
});

Deno.test("restIdleDocuments() leaves documents used within the rest time parsed", async () => {
  await withClock(async (t, clock) => {
    const a = (await xp(t.ctx, "load_xml_string", { xml_string: XML })).result.document_id;
    const b = (await xp(t.ctx, "load_xml_string", { xml_string: "<r/>" })).result.document_id;
    clock.advance(REST_AFTER_MS - 1);
    await xp(t.ctx, "find_nodes", { document_id: b, xpath: "/r" });
    clock.advance(2);
    new DocStore(t.ctx, "xp");
    assert.deepEqual([parsed(t.ctx, "xp", a), parsed(t.ctx, "xp", b)], [false, true]);
  });
});

Deno.test("restIdleDocuments() lets a small tree rest after SMALL_REST_AFTER_MS, a large one only after REST_AFTER_MS", async () => {
  await withClock(async (t, clock) => {
    // About 1.2 MiB estimated (2 bytes a character): over SMALL_TREE_BYTES.
    const big = `<r>${"x".repeat(Math.ceil(SMALL_TREE_BYTES / 2) + 100_000)}</r>`;
    const large = (await xp(t.ctx, "load_xml_string", { xml_string: big })).result.document_id;
    const small = (await xp(t.ctx, "load_xml_string", { xml_string: XML })).result.document_id;
    clock.advance(SMALL_REST_AFTER_MS - 1);
    new DocStore(t.ctx, "xp");
    assert.deepEqual([parsed(t.ctx, "xp", large), parsed(t.ctx, "xp", small)], [true, true]);
    clock.advance(1);
    new DocStore(t.ctx, "xp");
    assert.deepEqual(
      [parsed(t.ctx, "xp", large), parsed(t.ctx, "xp", small)],
      [true, false],
      "the small one rests although the large one, older, does not yet",
    );
    clock.advance(REST_AFTER_MS - SMALL_REST_AFTER_MS);
    new DocStore(t.ctx, "xp");
    assert.equal(parsed(t.ctx, "xp", large), false);
    // Both answer as before.
    const n = await xp(t.ctx, "find_nodes", { document_id: small, xpath: "count(//row)" });
    assert.equal(n.success, true);
  });
});

Deno.test("ResidentDoc keeps at most PARSED_BUDGET_BYTES of trees, resting the oldest first", () => {
  const clock = new FakeClock(1_000_000);
  // Text-only documents: each tree's estimate is 2 bytes per character plus 600 per node.
  const chars = Math.ceil(PARSED_BUDGET_BYTES / 4 / 2);
  const open = (c: string) => {
    const p = parseXml(`<r>${c.repeat(chars)}</r>`);
    assert.ok(p.ok);
    return new ResidentDoc(p.value, clock);
  };
  const docs = [open("a"), open("b"), open("c")];
  assert.deepEqual(docs.map((d) => d.parsed), [true, true, true]);
  docs.push(open("d")); // 4 quarters and the nodes: over the budget by a little
  assert.deepEqual(docs.map((d) => d.parsed), [false, true, true, true]);
  // Using the first again parses it (same text) and lets the least recently used rest.
  docs[0]!.touch();
  assert.equal(stringValue(docs[0]!.tree).slice(0, 3), "aaa");
  assert.deepEqual(docs.map((d) => d.parsed), [true, false, true, true]);
  for (const d of docs) d.release();
});
