/**
 * @module
 * `xml_dom_helper`: serves XMLDOMHelper.pm, which replaces XML::DOM 1.46 and XML::XQL 0.68's
 * `xql()` (helpers contract §3.14). Wrapped results. Parsers, documents, node ids and node lists
 * live in `ctx.handles` tables: parsers and documents expire after the daemon's idle TTL, node
 * and node-list ids live as long as their document. A node keeps one id, so Perl can compare ids.
 *
 * Semantics kept from the wrapper's contract: `get_node_value` of an element is its leading text
 * (the Config.pm `getValue` pattern). `get_child_nodes` lists every child, as XML::DOM does. Where
 * the Python helper differed from XML::DOM, XML::DOM wins (each marked DEFECT-FIX below).
 */

import type { Document, Node } from "@xmldom/xmldom";
import { defineHelper, failure, fn, wrapped } from "../types.ts";
import {
  descendants,
  domCall,
  isElement,
  isXmlName,
  isXqlData,
  nodeList,
  nodeValue,
  parseInto,
  parsers,
  store,
  withNode,
  withNodes,
  xql,
} from "./calls.ts";
import { truthy } from "../types.ts";
import type { XqlData } from "./calls.ts";
import {
  ATTRIBUTE_NODE,
  DOCUMENT_NODE,
  domToString,
  parsePerlXml,
  prettyString,
  stringValue,
} from "./dom.ts";
import { readXmlFile } from "./file.ts";

export const xmlDomHelper = defineHelper({
  name: "xml_dom_helper",
  replaces: "XMLDOMHelper.pm (XML::DOM + XML::XQL)",
  functions: {
    create_parser: fn([], (args, ctx) => {
      const options = { ...args };
      return wrapped({ parser_id: parsers(ctx).add({ options }), options });
    }, { variadic: true }),
    parse_string: fn(["parser_id", "xml_string"], (a, ctx) => {
      if (typeof a.xml_string !== "string") return failure("Missing xml_string");
      return parseInto(
        ctx,
        a.parser_id,
        (opts) => Promise.resolve(parsePerlXml(a.xml_string as string, opts)),
        "string",
      );
    }),
    parse_file: fn(
      ["parser_id", "filename"],
      (a, ctx) =>
        parseInto(
          ctx,
          a.parser_id,
          // XML::DOM::Parser parsefile's own words for a file it cannot open.
          (opts) =>
            readXmlFile(
              a.filename,
              ctx,
              (f) => `Couldn't open ${f}:\nNo such file or directory`,
              opts,
            ),
          String(a.filename),
        ),
    ),
    get_elements_by_tag_name: fn(["document_id", "tag_name"], (a, ctx) => {
      const s = store(ctx);
      const d = s.document(a.document_id);
      if (!d.ok) return failure(d.error);
      return nodeList(s, d.value, descendants(d.value.doc, String(a.tag_name ?? "*")));
    }),
    // DEFECT-FIX: descendants only, as XML::DOM's Element::getElementsByTagName (Python included the node itself).
    get_elements_by_tag_name_from_node: fn(
      ["node_id", "tag_name"],
      (a, ctx) =>
        withNode(
          ctx,
          a,
          ({ node, doc }, s) => nodeList(s, doc, descendants(node, String(a.tag_name ?? "*"))),
        ),
    ),
    // DEFECT-FIX: every child, text and whitespace included, as XML::DOM's getChildNodes (the
    // Python helper listed element children only).
    get_child_nodes: fn(
      ["node_id"],
      (a, ctx) =>
        withNode(
          ctx,
          a,
          ({ node, doc }, s) => nodeList(s, doc, Array.from(node.childNodes)),
        ),
    ),
    // DEFECT-FIX: the first child of any type, as XML::DOM (so `getFirstChild->getNodeValue` reads text).
    get_first_child: fn(
      ["node_id"],
      (a, ctx) =>
        withNode(
          ctx,
          a,
          ({ node, doc }, s) =>
            wrapped({ node_id: node.firstChild ? s.idFor(doc, node.firstChild) : null }),
        ),
    ),
    // DEFECT-FIX: implemented (Python always returned null); the root element's parent is the document.
    get_parent_node: fn(["node_id"], (a, ctx) =>
      withNode(ctx, a, ({ node, doc }, s) => {
        const parent = node.nodeType === ATTRIBUTE_NODE ? null : node.parentNode;
        return wrapped({ node_id: parent ? s.idFor(doc, parent) : null });
      })),
    get_attribute: fn(
      ["node_id", "attr_name"],
      (a, ctx) =>
        withNode(
          ctx,
          a,
          ({ node }) =>
            wrapped({ value: isElement(node) ? node.getAttribute(String(a.attr_name)) ?? "" : "" }),
        ),
    ),
    set_attribute: fn(
      ["node_id", "attr_name", "value"],
      (a, ctx) =>
        withNode(ctx, a, ({ node }) => {
          if (!isElement(node)) {
            return failure(`Cannot set attribute on a ${node.nodeName} node: not an element`);
          }
          if (!isXmlName(a.attr_name)) {
            return failure(`Invalid attribute name '${String(a.attr_name ?? "")}'`);
          }
          return domCall(
            "setAttribute",
            () => node.setAttribute(a.attr_name as string, String(a.value ?? "")),
          );
        }),
    ),
    has_attribute: fn(
      ["node_id", "attr_name"],
      (a, ctx) =>
        withNode(
          ctx,
          a,
          ({ node }) =>
            wrapped({ has_attribute: isElement(node) && node.hasAttribute(String(a.attr_name)) }),
        ),
    ),
    remove_attribute: fn(["node_id", "attr_name"], (a, ctx) =>
      withNode(ctx, a, ({ node }) => {
        if (isElement(node) && typeof a.attr_name === "string") node.removeAttribute(a.attr_name);
        return wrapped({});
      })),
    get_node_value: fn(
      ["node_id"],
      (a, ctx) => withNode(ctx, a, ({ node }) => wrapped({ value: nodeValue(node) })),
    ),
    get_text_contents: fn(["node_id", "trim"], (a, ctx) =>
      withNode(ctx, a, ({ node }) => {
        const text = stringValue(node);
        return wrapped({ text_content: truthy(a.trim) ? text.trim() : text });
      })),
    // DEFECT-FIX: the qualified name as written (Python gave "{uri}local" for namespaced tags).
    get_tag_name: fn(
      ["node_id"],
      (a, ctx) => withNode(ctx, a, ({ node }) => wrapped({ tag_name: node.nodeName })),
    ),
    is_element_node: fn(
      ["node_id"],
      (a, ctx) => withNode(ctx, a, ({ node }) => wrapped({ is_element: isElement(node) })),
    ),
    get_nodelist_length: fn(["nodelist_id"], (a, ctx) => {
      const l = store(ctx).list(a.nodelist_id);
      return l.ok ? wrapped({ length: l.value.list.nodeIds.length }) : failure(l.error);
    }),
    get_nodelist_item: fn(["nodelist_id", "index"], (a, ctx) => {
      const l = store(ctx).list(a.nodelist_id);
      if (!l.ok) return failure(l.error);
      const i = Number(a.index);
      const ids = l.value.list.nodeIds;
      return wrapped({ node_id: Number.isInteger(i) && i >= 0 && i < ids.length ? ids[i] : null });
    }),
    get_document_root: fn(["document_id"], (a, ctx) => {
      const s = store(ctx);
      const d = s.document(a.document_id);
      if (!d.ok) return failure(d.error);
      const root = d.value.doc.documentElement;
      return wrapped({ root_node_id: root ? s.idFor(d.value, root as Node) : null });
    }),
    create_element: fn(["document_id", "tag_name"], (a, ctx) => {
      const s = store(ctx);
      const d = s.document(a.document_id);
      if (!d.ok) return failure(d.error);
      if (!isXmlName(a.tag_name)) {
        return failure(`Invalid tag name: ${String(a.tag_name ?? "")}`);
      }
      return wrapped({ node_id: s.idFor(d.value, d.value.doc.createElement(a.tag_name) as Node) });
    }),
    // DEFECT-FIX: a real text node (Python made a `<_text_node_>` element).
    create_text_node: fn(["document_id", "data"], (a, ctx) => {
      const s = store(ctx);
      const d = s.document(a.document_id);
      if (!d.ok) return failure(d.error);
      return wrapped({
        node_id: s.idFor(d.value, d.value.doc.createTextNode(String(a.data ?? "")) as Node),
      });
    }),
    append_child: fn(
      ["parent_id", "child_id"],
      (a, ctx) =>
        withNodes(
          ctx,
          a,
          ["parent_id", "child_id"],
          ([p, c]) => domCall("appendChild", () => p!.appendChild(c!)),
        ),
    ),
    remove_child: fn(
      ["parent_id", "child_id"],
      (a, ctx) =>
        withNodes(ctx, a, ["parent_id", "child_id"], ([p, c]) => {
          if (c!.parentNode !== p) {
            return failure("removeChild failed: child_id is not a child of parent_id");
          }
          return domCall("removeChild", () => p!.removeChild(c!));
        }),
    ),
    replace_child: fn(
      ["parent_id", "new_child_id", "old_child_id"],
      (a, ctx) =>
        withNodes(ctx, a, ["parent_id", "new_child_id", "old_child_id"], ([p, n, o]) => {
          if (o!.parentNode !== p) {
            return failure("replaceChild failed: old_child_id is not a child of parent_id");
          }
          return domCall("replaceChild", () => p!.replaceChild(n!, o!));
        }),
    ),
    insert_before: fn(
      ["parent_id", "new_child_id", "ref_child_id"],
      (a, ctx) =>
        withNodes(ctx, a, ["parent_id", "new_child_id", "ref_child_id"], ([p, n, r]) => {
          if (r!.parentNode !== p) {
            return failure("insertBefore failed: ref_child_id is not a child of parent_id");
          }
          return domCall("insertBefore", () => p!.insertBefore(n!, r!));
        }),
    ),
    clone_node: fn(["node_id", "deep"], (a, ctx) =>
      withNode(ctx, a, ({ node, doc }, s) => {
        if (node.nodeType === DOCUMENT_NODE) return failure("Cannot clone a document node");
        return wrapped({ node_id: s.idFor(doc, node.cloneNode(truthy(a.deep))) });
      })),
    to_string: fn(["document_id", "indent"], (a, ctx) => {
      const d = store(ctx).document(a.document_id);
      if (!d.ok) return failure(d.error);
      const doc = d.value.doc as Document;
      const indent = typeof a.indent === "number" ? " ".repeat(a.indent) : a.indent;
      const xml = typeof indent === "string" && indent !== ""
        ? prettyString(doc, indent)
        : domToString(doc as Node, d.value.decl);
      return wrapped({ xml_string: xml });
    }),
    dispose_document: fn(["document_id"], async (a, ctx) => {
      const r = await store(ctx).dispose(a.document_id);
      return r.ok ? wrapped({ disposed: true, nodes_cleaned: r.value }) : failure(r.error);
    }),
    dispose_node: fn(["node_id"], async (a, ctx) => {
      return (await store(ctx).forgetNode(a.node_id))
        ? wrapped({ disposed: true })
        : failure(`Unknown node_id '${String(a.node_id)}'`);
    }),
    get_module_info: fn([], (_a, ctx) => {
      const s = store(ctx);
      return wrapped({
        module: "xml_dom_helper",
        version: "2.0.0",
        engine: "@xmldom/xmldom 0.9.12 + xpath 0.0.34",
        lxml_available: false,
        active_documents: s.docs.size,
        active_nodes: s.nodes.size,
        active_parsers: parsers(ctx).size,
        active_nodelists: s.lists.size,
      });
    }),
    // Contract §2.5: Perl reads result.success and result.result.{type,node_ids,value}.
    xql_query: fn(["node_id", "xpath_expression"], (a, ctx) => {
      const r = xql(ctx, a, "xpath_expression");
      if (!isXqlData(r)) return r;
      const { nodes: _nodes, ...data } = r as XqlData & { nodes?: Node[] };
      return wrapped({ success: true, result: data });
    }),
    xql_find_nodes: fn(["node_id", "xpath"], (a, ctx) => {
      const r = xql(ctx, a, "xpath");
      if (!isXqlData(r)) return r;
      return wrapped(
        r.type === "nodelist"
          ? { type: "nodelist", node_ids: r.node_ids, length: r.length }
          : { type: "nodelist", node_ids: [], length: 0 },
      );
    }),
    xql_find_value: fn(["node_id", "xpath"], (a, ctx) => {
      const r = xql(ctx, a, "xpath");
      if (!isXqlData(r)) return r;
      return wrapped({
        value: r.type === "scalar" ? r.value : r.nodes[0] ? nodeValue(r.nodes[0]) : "",
      });
    }),
    xql_exists: fn(["node_id", "xpath"], (a, ctx) => {
      const r = xql(ctx, a, "xpath");
      if (!isXqlData(r)) return wrapped({ exists: false });
      return wrapped({
        exists: r.type === "nodelist" ? r.length > 0 : r.value !== "" && r.value !== "0",
      });
    }),
  },
});
