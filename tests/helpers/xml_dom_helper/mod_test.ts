import assert from "node:assert/strict";
import { xmlDomHelper } from "../../../helpers/xml_dom_helper/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
    <Cipher>Rijndael</Cipher>
    <Sites>
        <Site Name="site1" Net="192.168.1.0"><Owner>Admin</Owner></Site>
        <Site Name="site2" Net="192.168.2.0"><Owner>User</Owner></Site>
    </Sites>
    <Environment Name="PROD"><Owner><ID Key="keyfile">produser</ID></Owner>
        <Server Name="server1"/><Server Name="server2"/></Environment>
    <Text>a &amp; b "q" &lt;x&gt; Grüße €</Text>
</Configuration>`;

// deno-lint-ignore no-explicit-any
type R = { success: boolean; result?: any; error?: string };
const call = async (ctx: CallContext, f: string, args: Record<string, unknown> = {}) =>
  (await xmlDomHelper.functions[f]!.run(args, ctx)) as R;

async function withDoc(
  fn: (ctx: CallContext, doc: string, root: string) => Promise<void>,
  xml = XML,
) {
  const t = makeTestContext();
  try {
    const p = await call(t.ctx, "create_parser", { NoExpand: 1 });
    assert.deepEqual(p.result.options, { NoExpand: 1 });
    const r = await call(t.ctx, "parse_string", { parser_id: p.result.parser_id, xml_string: xml });
    assert.equal(r.success, true, r.error);
    await fn(t.ctx, r.result.document_id, r.result.root_node_id);
  } finally {
    await t.close();
  }
}

const tag = async (ctx: CallContext, id: string) =>
  (await call(ctx, "get_tag_name", { node_id: id })).result.tag_name;

/** The element children among get_child_nodes' ids (which lists text nodes too). */
async function elementChildren(ctx: CallContext, id: string): Promise<string[]> {
  const out: string[] = [];
  for (const k of (await call(ctx, "get_child_nodes", { node_id: id })).result.node_ids) {
    if ((await call(ctx, "is_element_node", { node_id: k })).result.is_element) out.push(k);
  }
  return out;
}

Deno.test("get_elements_by_tag_name() lists matches in document order with stable ids", async () => {
  await withDoc(async (ctx, doc, root) => {
    const all = await call(ctx, "get_elements_by_tag_name", { document_id: doc, tag_name: "*" });
    assert.equal(all.result.length, 13);
    assert.equal(all.result.node_ids[0], root);
    const sites = await call(ctx, "get_elements_by_tag_name", {
      document_id: doc,
      tag_name: "Site",
    });
    assert.equal(sites.result.length, 2);
    assert.equal(
      (await call(ctx, "get_nodelist_length", { nodelist_id: sites.result.nodelist_id })).result
        .length,
      2,
    );
    const item = await call(ctx, "get_nodelist_item", {
      nodelist_id: sites.result.nodelist_id,
      index: "1",
    });
    assert.equal(item.result.node_id, sites.result.node_ids[1]);
    assert.equal(
      (await call(ctx, "get_nodelist_item", { nodelist_id: sites.result.nodelist_id, index: 5 }))
        .result.node_id,
      null,
    );
    assert.equal(all.result.node_ids[3], sites.result.node_ids[0]);
  });
});

Deno.test("get_child_nodes() lists every child, whitespace text included, as XML::DOM", async () => {
  await withDoc(async (ctx, _doc, root) => {
    const all = await call(ctx, "get_child_nodes", { node_id: root });
    assert.equal(all.result.length, 9);
    assert.deepEqual(await Promise.all(all.result.node_ids.map((id: string) => tag(ctx, id))), [
      "#text",
      "Cipher",
      "#text",
      "Sites",
      "#text",
      "Environment",
      "#text",
      "Text",
      "#text",
    ]);
    const ws = await call(ctx, "get_node_value", { node_id: all.result.node_ids[0] });
    assert.equal(ws.result.value, "\n    ");
  });
});

Deno.test("navigation: element children, first child, parent, descendants", async () => {
  await withDoc(async (ctx, doc, root) => {
    const kids = { result: { node_ids: await elementChildren(ctx, root) } };
    assert.deepEqual(await Promise.all(kids.result.node_ids.map((id: string) => tag(ctx, id))), [
      "Cipher",
      "Sites",
      "Environment",
      "Text",
    ]);
    const first = await call(ctx, "get_first_child", { node_id: kids.result.node_ids[0] });
    assert.equal(
      (await call(ctx, "get_node_value", { node_id: first.result.node_id })).result.value,
      "Rijndael",
    );
    assert.equal(
      (await call(ctx, "is_element_node", { node_id: first.result.node_id })).result.is_element,
      false,
    );
    const parent = await call(ctx, "get_parent_node", { node_id: kids.result.node_ids[0] });
    assert.equal(parent.result.node_id, root);
    const docNode = await call(ctx, "get_parent_node", { node_id: root });
    assert.equal(await tag(ctx, docNode.result.node_id), "#document");
    const env = kids.result.node_ids[2];
    const owners = await call(ctx, "get_elements_by_tag_name_from_node", {
      node_id: env,
      tag_name: "Owner",
    });
    assert.equal(owners.result.length, 1);
    const self = await call(ctx, "get_elements_by_tag_name_from_node", {
      node_id: env,
      tag_name: "Environment",
    });
    assert.equal(self.result.length, 0);
    assert.equal(
      (await call(ctx, "get_document_root", { document_id: doc })).result.root_node_id,
      root,
    );
  });
});

Deno.test("attributes and values: get/set/has/remove, node value, text contents", async () => {
  await withDoc(async (ctx, _doc, root) => {
    const kids = await elementChildren(ctx, root);
    const env = kids[2];
    assert.equal(
      (await call(ctx, "get_attribute", { node_id: env, attr_name: "Name" })).result.value,
      "PROD",
    );
    assert.equal(
      (await call(ctx, "get_attribute", { node_id: env, attr_name: "None" })).result.value,
      "",
    );
    assert.equal(
      (await call(ctx, "set_attribute", { node_id: env, attr_name: "Zone", value: "ä" })).success,
      true,
    );
    assert.equal(
      (await call(ctx, "has_attribute", { node_id: env, attr_name: "Zone" })).result.has_attribute,
      true,
    );
    await call(ctx, "remove_attribute", { node_id: env, attr_name: "Zone" });
    assert.equal(
      (await call(ctx, "has_attribute", { node_id: env, attr_name: "Zone" })).result.has_attribute,
      false,
    );
    assert.equal(
      (await call(ctx, "get_node_value", { node_id: kids[0] })).result.value,
      "Rijndael",
    );
    assert.equal(
      (await call(ctx, "get_node_value", { node_id: kids[3] })).result.value,
      'a & b "q" <x> Grüße €',
    );
    const text = await call(ctx, "get_text_contents", { node_id: env, trim: 1 });
    assert.equal(text.result.text_content, "produser");
    const bad = await call(ctx, "set_attribute", { node_id: env, attr_name: "1bad", value: "x" });
    assert.equal(bad.success, false);
  });
});

Deno.test("to_string() prints as XML::DOM: declaration, empty tags, escapes", async () => {
  await withDoc(
    async (ctx, doc) => {
      const s = (await call(ctx, "to_string", { document_id: doc })).result.xml_string;
      assert.equal(
        s,
        '<?xml version="1.0" encoding="UTF-8"?>\n<r a="1 &amp; &quot;2&quot;"><e/><t>&lt;&amp;&gt;&quot;\'</t><!-- c --><?pi x?>ü</r>\n',
      );
    },
    `<?xml version="1.0" encoding="UTF-8"?>\n<r a='1 &amp; "2"'><e></e><t>&lt;&amp;>"'</t><!-- c --><?pi x?><![CDATA[ü]]></r>`,
  );
});

Deno.test("modification: create, append, insert, replace, remove, clone, pretty print", async () => {
  await withDoc(async (ctx, doc, root) => {
    const site =
      (await call(ctx, "create_element", { document_id: doc, tag_name: "NewSite" })).result.node_id;
    const txt =
      (await call(ctx, "create_text_node", { document_id: doc, data: "hi & bye" })).result.node_id;
    assert.equal(
      (await call(ctx, "append_child", { parent_id: site, child_id: txt })).success,
      true,
    );
    await call(ctx, "set_attribute", { node_id: site, attr_name: "Name", value: "n3" });
    const kids = await elementChildren(ctx, root);
    assert.equal(
      (await call(ctx, "insert_before", {
        parent_id: root,
        new_child_id: site,
        ref_child_id: kids[0],
      })).success,
      true,
    );
    const clone = (await call(ctx, "clone_node", { node_id: site, deep: 1 })).result.node_id;
    assert.equal(
      (await call(ctx, "replace_child", {
        parent_id: root,
        new_child_id: clone,
        old_child_id: kids[3],
      })).success,
      true,
    );
    assert.equal(
      (await call(ctx, "remove_child", { parent_id: root, child_id: kids[1] })).success,
      true,
    );
    const notChild = await call(ctx, "remove_child", { parent_id: root, child_id: kids[1] });
    assert.match(notChild.error!, /not a child/);
    const shallow = (await call(ctx, "clone_node", { node_id: site, deep: 0 })).result.node_id;
    assert.equal((await call(ctx, "get_child_nodes", { node_id: shallow })).result.length, 0);
    const s = (await call(ctx, "to_string", { document_id: doc })).result.xml_string;
    assert.match(
      s,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Configuration>\n {4}<NewSite Name="n3">hi &amp; bye<\/NewSite><Cipher>Rijndael<\/Cipher>\n {4}\n {4}<Environment/,
    );
    assert.match(s, /<NewSite Name="n3">hi &amp; bye<\/NewSite>\n<\/Configuration>\n$/);
    const pretty =
      (await call(ctx, "to_string", { document_id: doc, indent: "  " })).result.xml_string;
    assert.match(
      pretty,
      /^<\?xml version="1\.0" \?>\n<Configuration>\n {2}<NewSite Name="n3">hi &amp; bye<\/NewSite>\n {2}<Cipher>Rijndael<\/Cipher>\n/,
    );
    const bad = await call(ctx, "create_element", { document_id: doc, tag_name: "bad tag" });
    assert.equal(bad.error, "Invalid tag name: bad tag");
  });
});

Deno.test("xql_query() returns the nested shape Perl reads (contract §2.5)", async () => {
  await withDoc(async (ctx, _doc, root) => {
    const q = await call(ctx, "xql_query", {
      node_id: root,
      xpath_expression: "//Site[@Name='site1']",
    });
    assert.equal(q.success, true);
    assert.equal(q.result.success, true);
    assert.equal(q.result.result.type, "nodelist");
    assert.equal(q.result.result.length, 1);
    const c = await call(ctx, "xql_query", { node_id: root, xpath_expression: "Cipher" });
    assert.equal(
      (await call(ctx, "get_node_value", { node_id: c.result.result.node_ids[0] })).result.value,
      "Rijndael",
    );
    const idx = await call(ctx, "xql_query", {
      node_id: root,
      xpath_expression: "Sites/Site[1]/@Name",
    });
    assert.equal(
      (await call(ctx, "get_node_value", { node_id: idx.result.result.node_ids[0] })).result.value,
      "site2",
    );
    const n = await call(ctx, "xql_query", { node_id: root, xpath_expression: "count(//Server)" });
    assert.deepEqual(n.result.result, { type: "scalar", value: "2" });
    const bad = await call(ctx, "xql_query", { node_id: root, xpath_expression: "///[[[invalid" });
    assert.equal(bad.success, false);
    assert.match(bad.error!, /^Invalid XQL expression/);
  });
});

Deno.test("xql_find_nodes(), xql_find_value(), xql_exists()", async () => {
  await withDoc(async (ctx, _doc, root) => {
    assert.equal(
      (await call(ctx, "xql_find_nodes", { node_id: root, xpath: ".//Server" })).result.length,
      2,
    );
    assert.equal(
      (await call(ctx, "xql_find_value", { node_id: root, xpath: "Environment/Owner/ID" })).result
        .value,
      "produser",
    );
    assert.equal(
      (await call(ctx, "xql_exists", { node_id: root, xpath: "Cipher" })).result.exists,
      true,
    );
    assert.equal(
      (await call(ctx, "xql_exists", { node_id: root, xpath: "Nope" })).result.exists,
      false,
    );
  });
});

Deno.test("errors: malformed XML, unknown ids, parse_file relative to the caller's cwd", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const p = (await call(t.ctx, "create_parser")).result.parser_id;
    const bad = await call(t.ctx, "parse_string", { parser_id: p, xml_string: "<a>" });
    assert.match(bad.error!, /^XML parsing failed: Cannot parse XML/);
    assert.match(
      (await call(t.ctx, "parse_string", { parser_id: "x", xml_string: "<a/>" })).error!,
      /Unknown parser_id 'x'/,
    );
    assert.match(
      (await call(t.ctx, "get_tag_name", { node_id: "zz" })).error!,
      /Unknown node_id 'zz'/,
    );
    assert.match(
      (await call(t.ctx, "get_nodelist_length", { nodelist_id: "zz" })).error!,
      /Unknown nodelist_id/,
    );
    await Deno.writeTextFile(`${dir}/c.xml`, "<c><d>ö</d></c>");
    const f = await call(t.ctx, "parse_file", { parser_id: p, filename: "c.xml" });
    assert.equal(f.success, true, f.error);
    assert.equal(
      (await call(t.ctx, "get_tag_name", { node_id: f.result.root_node_id })).result.tag_name,
      "c",
    );
    const missing = await call(t.ctx, "parse_file", { parser_id: p, filename: "none.xml" });
    assert.equal(
      missing.error,
      "XML parsing failed: Couldn't open none.xml:\nNo such file or directory",
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispose_document() frees node and list ids; TTL expiry does the same", async () => {
  const clock = new FakeClock(5_000_000);
  const t = makeTestContext({ clock, handleTtlMs: 1_000 });
  try {
    const p = (await call(t.ctx, "create_parser")).result.parser_id;
    const d = (await call(t.ctx, "parse_string", { parser_id: p, xml_string: XML })).result;
    const l = await call(t.ctx, "get_elements_by_tag_name", {
      document_id: d.document_id,
      tag_name: "*",
    });
    const info = (await call(t.ctx, "get_module_info")).result;
    assert.deepEqual([info.active_documents, info.active_nodes, info.active_nodelists], [1, 13, 1]);
    const disp = await call(t.ctx, "dispose_document", { document_id: d.document_id });
    assert.deepEqual(disp.result, { disposed: true, nodes_cleaned: 13 });
    assert.match(
      (await call(t.ctx, "get_nodelist_length", { nodelist_id: l.result.nodelist_id })).error!,
      /Unknown nodelist_id/,
    );
    const d2 = (await call(t.ctx, "parse_string", { parser_id: p, xml_string: XML })).result;
    clock.advance(2_000);
    assert.equal(await t.sweep(), 2); // the document and the parser
    assert.match(
      (await call(t.ctx, "get_tag_name", { node_id: d2.root_node_id })).error!,
      /Unknown node_id/,
    );
    assert.equal((await call(t.ctx, "get_module_info")).result.active_nodes, 0);
  } finally {
    await t.close();
  }
});

Deno.test("xql_query() keeps document order after the tree changes", async () => {
  await withDoc(async (ctx, doc, root) => {
    const names = async () => {
      const q = await call(ctx, "xql_query", {
        node_id: root,
        xpath_expression: "//Site/@Name | //Server/@Name",
      });
      const ids: string[] = q.result.result.node_ids;
      return await Promise.all(
        ids.map(async (id) => (await call(ctx, "get_node_value", { node_id: id })).result.value),
      );
    };
    assert.deepEqual(await names(), ["site1", "site2", "server1", "server2"]);
    const sites =
      (await call(ctx, "get_elements_by_tag_name", { document_id: doc, tag_name: "Site" })).result
        .node_ids;
    const env =
      (await call(ctx, "get_elements_by_tag_name", { document_id: doc, tag_name: "Environment" }))
        .result.node_ids[0];
    await call(ctx, "append_child", { parent_id: env, child_id: sites[0] });
    assert.deepEqual(await names(), ["site2", "server1", "server2", "site1"]);
  });
});
