/**
 * @module
 * The plumbing of `xml_dom_helper`'s wire functions: the parser and document tables, node and
 * node-list lookups by id (errors as results), XML::DOM-style traversal, parsing into the store
 * with the parser's options, and XQL evaluation.
 */

import { truthy } from "../types.ts";

import type { Element, Node } from "@xmldom/xmldom";
import type { Args, CallContext } from "../types.ts";
import { failure, perlText, wrapped } from "../types.ts";
import { CDATA_SECTION_NODE, DOCUMENT_NODE, ELEMENT_NODE, stringValue, TEXT_NODE } from "./dom.ts";
import type { ParsedXml, ParseOptions } from "./dom.ts";
import { runQuery } from "./query.ts";
import type { DocEntry, Found } from "./store.ts";
import { DocStore } from "./store.ts";

export type Parser = { readonly options: Record<string, unknown> };

export const parsers = (ctx: CallContext) =>
  ctx.handles<Parser>("parsers", { prefix: "domparser" });
export const store = (ctx: CallContext) => new DocStore(ctx, "dom");

/** DEFECT-FIX: any XML Name (XML::DOM accepts `a:b`, `a.b`); Python allowed `[A-Za-z][\w-]*` only. */
const XML_NAME = /^[\p{L}_:][\p{L}\p{N}_.:\-\u00B7\p{M}]*$/u;

/**
 * XML::DOM's `isValidName`: it matches the name's UTF-8 (`use bytes`), so a UTF-8 byte string is
 * judged by the characters it encodes (`perlText`); the name itself is stored as given.
 */
export function isXmlName(name: unknown): name is string {
  return typeof name === "string" && XML_NAME.test(perlText(name));
}

export type Ok<T> = { ok: true; value: T };
export type NodeRef = { node: Node; doc: DocEntry };

export function isElement(node: Node): node is Element {
  return node.nodeType === ELEMENT_NODE;
}

/** Runs `body` with the node named by `args[param]`, or returns the lookup error. */
export function withNode(
  ctx: CallContext,
  args: Args,
  body: (n: NodeRef, s: DocStore) => unknown,
  param = "node_id",
) {
  const s = store(ctx);
  const n = s.node(args[param], param);
  return n.ok ? body(n.value, s) : failure(n.error);
}

/** Like `withNode` for a parent and one or two other nodes of the same document. */
export function withNodes(
  ctx: CallContext,
  args: Args,
  params: string[],
  body: (ns: Node[], doc: DocEntry) => unknown,
) {
  const s = store(ctx);
  const found = params.map((p) => s.node(args[p], p));
  const bad = found.find((f): f is { ok: false; error: string } => !f.ok);
  if (bad) return failure(bad.error);
  const refs = (found as Ok<NodeRef>[]).map((f) => f.value);
  const other = refs.find((r) => r.doc !== refs[0]!.doc);
  if (other) {
    return failure(
      `Cannot combine nodes of two documents (${
        params.join(", ")
      }): XML::DOM raises WRONG_DOCUMENT_ERR`,
    );
  }
  return body(refs.map((r) => r.node), refs[0]!.doc);
}

export function nodeList(s: DocStore, doc: DocEntry, nodes: Iterable<Node>) {
  const ids = Array.from(nodes, (n) => s.idFor(doc, n));
  return wrapped({ nodelist_id: s.addList(doc, ids), node_ids: ids, length: ids.length });
}

/** Descendant elements in document order whose tag matches (`*` = all), XML::DOM style. */
export function* descendants(root: Node, tag: string): Generator<Node> {
  for (let c = root.firstChild; c; c = c.nextSibling) {
    if (!isElement(c)) continue;
    if (tag === "*" || c.tagName === tag) yield c;
    yield* descendants(c, tag);
  }
}

/** An element's leading text: text and CDATA before its first element child (Python's `.text`). */
export function leadingText(el: Node): string {
  let out = "";
  for (let c = el.firstChild; c && c.nodeType !== ELEMENT_NODE; c = c.nextSibling) {
    if (c.nodeType === TEXT_NODE || c.nodeType === CDATA_SECTION_NODE) out += stringValue(c);
  }
  return out;
}

export function domCall(what: string, body: () => void): Record<string, unknown> {
  try {
    body();
    return wrapped({});
  } catch (err) {
    return failure(`${what} failed: ${(err as Error).message}`);
  }
}

export async function parseInto(
  ctx: CallContext,
  parserId: unknown,
  parsed: (opts: ParseOptions) => Promise<Found<ParsedXml>>,
  source: string,
) {
  const parser = parsers(ctx).get(parserId);
  if (!parser) {
    return failure(
      `Unknown parser_id '${
        String(parserId)
      }': call create_parser first (parsers expire when idle)`,
    );
  }
  const o = parser.options;
  const p = await parsed({
    keepCdata: truthy(o.KeepCDATA),
    ...(typeof o.ProtocolEncoding === "string" && o.ProtocolEncoding !== ""
      ? { encoding: o.ProtocolEncoding }
      : {}),
  });
  if (!p.ok) return failure(`XML parsing failed: ${p.error}`);
  const s = store(ctx);
  const doc = s.addDocument(p.value, source);
  return wrapped({
    document_id: doc.id,
    root_node_id: s.idFor(doc, p.value.doc.documentElement as Node),
  });
}

export function xql(ctx: CallContext, args: Args, exprParam: string) {
  return withNode(ctx, args, ({ node, doc }, s) => {
    const expr = args[exprParam];
    if (typeof expr !== "string") return failure(`Missing ${exprParam}`);
    const r = runQuery(expr, node, true);
    if (!r.ok) return failure(r.error);
    if (r.value.kind === "scalar") return { type: "scalar", value: r.value.value };
    const ids = r.value.nodes.map((n) => s.idFor(doc, n));
    return { type: "nodelist", node_ids: ids, length: ids.length, nodes: r.value.nodes };
  });
}

export type XqlData = { type: "scalar"; value: string } | {
  type: "nodelist";
  node_ids: string[];
  length: number;
  nodes: Node[];
};

export function isXqlData(r: unknown): r is XqlData {
  return typeof r === "object" && r !== null && "type" in r;
}

export function nodeValue(node: Node): string {
  if (isElement(node)) return leadingText(node);
  if (node.nodeType === DOCUMENT_NODE) return "";
  return stringValue(node);
}
