/**
 * @module
 * `xpath`: serves XPathHelper.pm, which replaces XML::XPath 1.48 (helpers contract §3.15).
 * Documents and node ids live in `ctx.handles` tables (documents: the daemon's idle TTL; node ids:
 * as long as their document). Wrapped results. XPath 1.0 via `@xmldom/xmldom` + `xpath`.
 *
 * Node data follows XML::XPath rather than the old Python helper: `value` is the XPath
 * string-value (whitespace kept), attribute, text and comment results carry their values, the
 * root node `/` is the document node (empty name), and number/string/boolean results come back
 * as one pseudo-node whose `value` is what XML::XPath's `->value` prints (DEFECT-FIX: Python
 * stripped text and raised "'float' object is not iterable" for `count()`).
 */

import type { Node } from "@xmldom/xmldom";
import type { CallContext } from "./types.ts";
import { defineHelper, failure, fn, wrapped } from "./types.ts";
import { ATTRIBUTE_NODE, ELEMENT_NODE, parsePerlXml, stringValue } from "./xml_dom_helper/dom.ts";
import { readXmlFile } from "./xml_dom_helper/file.ts";
import { runQuery } from "./xml_dom_helper/query.ts";
import type { DocEntry } from "./xml_dom_helper/store.ts";
import { DocStore } from "./xml_dom_helper/store.ts";

const store = (ctx: CallContext) => new DocStore(ctx, "xp");

function fail(error: string, errorType = "ValueError") {
  return failure(error, { error_type: errorType });
}

/** XML::XPath's view of one node: name, string-value, attributes, and an id for find_in_node. */
function nodeData(s: DocStore, doc: DocEntry, node: Node) {
  const attributes: Record<string, string> = {};
  let name = "";
  if (node.nodeType === ELEMENT_NODE) {
    name = node.nodeName;
    const attrs =
      (node as unknown as { attributes: ArrayLike<{ name: string; value: string }> }).attributes;
    for (const a of Array.from(attrs)) {
      if (a.name !== "xmlns" && !a.name.startsWith("xmlns:")) attributes[a.name] = a.value;
    }
  } else if (node.nodeType === ATTRIBUTE_NODE) {
    // XML::XPath's getName is undef for text, comment and processing-instruction nodes.
    name = node.nodeName;
  }
  return { name, value: stringValue(node), attributes, node_id: s.idFor(doc, node) };
}

function find(s: DocStore, doc: DocEntry, context: Node, expr: unknown) {
  if (typeof expr !== "string") return fail("Missing xpath expression");
  const r = runQuery(expr, context, false);
  if (!r.ok) return fail(r.error);
  if (r.value.kind === "scalar") {
    const { type, value } = r.value;
    return wrapped({
      nodes: [{ name: "", value, attributes: {}, node_id: "" }],
      size: 1,
      type,
      value,
    });
  }
  const nodes = r.value.nodes.map((n) => nodeData(s, doc, n));
  return wrapped({ nodes, size: nodes.length, type: "nodeset" });
}

/** `error_type` of a file that could not be loaded. */
function fileErrorType(o: { openError: boolean; kind?: string }): string {
  if (!o.openError) return "ValueError";
  if (o.kind === "too_large") return "FileTooLargeError";
  if (o.kind === "not_regular" || o.kind === "io") return "OSError";
  return "FileNotFoundError";
}

function loadXmlString(args: { xml_string?: unknown }, ctx: CallContext) {
  const xml = args.xml_string;
  // An empty or blank string goes to the parser, which fails as expat does ("no element found").
  if (typeof xml !== "string") {
    return fail("Missing xml_string: XML::XPath needs the document text");
  }
  const parsed = parsePerlXml(xml);
  if (!parsed.ok) return fail(parsed.error);
  const doc = store(ctx).addDocument(parsed.value, "string");
  return wrapped({ document_id: doc.id });
}

async function loadFileFn(args: { filename?: unknown }, ctx: CallContext) {
  // XML::XPath's own words for a file it cannot open.
  const loaded = await readXmlFile(args.filename, ctx, (f) => `Cannot open file '${f}'`);
  if (!loaded.ok) return fail(loaded.error, fileErrorType(loaded));
  const doc = store(ctx).addDocument(loaded.value, loaded.path);
  return wrapped({ document_id: doc.id });
}

function findNodes(args: { document_id?: unknown; xpath?: unknown }, ctx: CallContext) {
  const s = store(ctx);
  const doc = s.document(args.document_id);
  if (!doc.ok) return fail(doc.error);
  return find(s, doc.value, doc.value.doc, args.xpath);
}

function findInNode(args: { node_id?: unknown; xpath?: unknown }, ctx: CallContext) {
  const s = store(ctx);
  const n = s.node(args.node_id);
  if (!n.ok) return fail(n.error);
  return find(s, n.value.doc, n.value.node, args.xpath);
}

/** Context for the extra whitelisted functions: a node when `node_id` is given, else the document. */
function contextOf(args: { document_id?: unknown; node_id?: unknown }, s: DocStore) {
  if (args.node_id !== undefined && args.node_id !== null) {
    const n = s.node(args.node_id);
    return n.ok ? { ok: true as const, doc: n.value.doc, node: n.value.node } : n;
  }
  const d = s.document(args.document_id);
  return d.ok ? { ok: true as const, doc: d.value, node: d.value.doc as Node } : d;
}

export const xpathHelper = defineHelper({
  name: "xpath",
  replaces: "XPathHelper.pm (XML::XPath)",
  functions: {
    load_file: fn(["filename"], (a, ctx) => loadFileFn(a, ctx)),
    load_xml_string: fn(["xml_string"], (a, ctx) => loadXmlString(a, ctx)),
    find_nodes: fn(["document_id", "xpath"], (a, ctx) => findNodes(a, ctx)),
    find_in_node: fn(["node_id", "xpath"], (a, ctx) => findInNode(a, ctx)),
    dispose_document: fn(["document_id"], async (a, ctx) => {
      const r = await store(ctx).dispose(a.document_id);
      return r.ok
        ? { success: true, result: "Document disposed", nodes_cleaned: r.value }
        : fail(r.error);
    }),
    // Whitelisted names (daemon contract §5.6) that the Python helper never defined.
    new: fn(
      ["filename", "xml"],
      (a, ctx) =>
        a.filename !== undefined && a.filename !== null
          ? loadFileFn(a, ctx)
          : loadXmlString({ xml_string: a.xml }, ctx),
    ),
    find: fn(["document_id", "xpath", "node_id"], (a, ctx) => {
      const s = store(ctx);
      const c = contextOf(a, s);
      return c.ok ? find(s, c.doc, c.node, a.xpath) : fail(c.error);
    }),
    findnodes: fn(["document_id", "xpath", "node_id"], (a, ctx) => {
      const s = store(ctx);
      const c = contextOf(a, s);
      return c.ok ? find(s, c.doc, c.node, a.xpath) : fail(c.error);
    }),
    findvalue: fn(["document_id", "xpath", "node_id"], (a, ctx) => {
      const c = contextOf(a, store(ctx));
      if (!c.ok) return fail(c.error);
      if (typeof a.xpath !== "string") return fail("Missing xpath expression");
      const r = runQuery(a.xpath, c.node, false);
      if (!r.ok) return fail(r.error);
      // XML::XPath findvalue: a node set's string-value is that of its first node.
      const value = r.value.kind === "scalar"
        ? r.value.value
        : r.value.nodes[0]
        ? stringValue(r.value.nodes[0])
        : "";
      return wrapped({ value });
    }),
    exists: fn(["document_id", "xpath", "node_id"], (a, ctx) => {
      const c = contextOf(a, store(ctx));
      if (!c.ok) return fail(c.error);
      if (typeof a.xpath !== "string") return fail("Missing xpath expression");
      const r = runQuery(a.xpath, c.node, false);
      if (!r.ok) return fail(r.error);
      const exists = r.value.kind === "nodes"
        ? r.value.nodes.length > 0
        : r.value.value !== "" && r.value.value !== "0";
      return wrapped({ exists });
    }),
    check_lxml_availability: fn(
      [],
      () =>
        wrapped({
          available: true,
          version: "@xmldom/xmldom 0.9.12 + xpath 0.0.34",
          xpath_test: true,
        }),
    ),
  },
});
