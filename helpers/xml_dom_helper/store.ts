/**
 * @module
 * `DocStore`: the document, node and node-list handle tables of one XML helper. Documents have
 * the daemon's idle TTL; node and node-list ids live exactly as long as their document (they are
 * never swept themselves, any use touches the document, and disposing the document deletes them).
 * A node keeps one id for the document's lifetime, so Perl can compare ids for identity.
 */

import type { Document, Node } from "@xmldom/xmldom";
import type { CallContext } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type { XmlDecl } from "./dom.ts";

/** One loaded document and the ids handed out for its nodes. */
export interface DocEntry {
  readonly id: string;
  readonly doc: Document;
  readonly decl: XmlDecl | undefined;
  readonly source: string;
  readonly idOf: Map<Node, string>;
  readonly listIds: Set<string>;
  counter: number;
  /** The tables, so disposal can free the node and list ids. */
  readonly store: DocStore;
}

/** A node handle: the node and the document it belongs to. */
export interface NodeEntry {
  readonly node: Node;
  readonly docId: string;
}

/** A node list handle (XML::DOM NodeList): a snapshot of node ids. */
export interface ListEntry {
  readonly docId: string;
  readonly nodeIds: readonly string[];
}

/** Lookup outcome: the value, or the error message to return to Perl. */
export type Found<T> = { ok: true; value: T } | { ok: false; error: string };

/** The tables of one helper, bound to the daemon through `ctx.handles`. */
export class DocStore {
  readonly docs: HandleTable<DocEntry>;
  readonly nodes: HandleTable<NodeEntry>;
  readonly lists: HandleTable<ListEntry>;
  readonly #ttlMs: number;

  constructor(ctx: CallContext, prefix: string) {
    this.#ttlMs = ctx.settings.handleTtlMs;
    this.docs = ctx.handles<DocEntry>("documents", {
      prefix: `${prefix}doc`,
      dispose: (entry) => entry.store.#forget(entry),
    });
    // Node and list ids live and die with their document (itself held to the per-client limit).
    this.nodes = ctx.handles<NodeEntry>("nodes", {
      prefix: `${prefix}node`,
      idleTtlMs: 0,
      perClient: false,
    });
    this.lists = ctx.handles<ListEntry>("nodelists", {
      prefix: `${prefix}list`,
      idleTtlMs: 0,
      perClient: false,
    });
  }

  async #forget(entry: DocEntry): Promise<void> {
    for (const id of entry.idOf.values()) await this.nodes.delete(id);
    for (const id of entry.listIds) await this.lists.delete(id);
  }

  /** Registers a parsed document; returns its entry. */
  addDocument(doc: Document, decl: XmlDecl | undefined, source: string): DocEntry {
    const entry = {
      id: "",
      doc,
      decl,
      source,
      idOf: new Map(),
      listIds: new Set(),
      counter: 0,
      store: this,
    };
    const id = this.docs.add(entry as DocEntry);
    (entry as { id: string }).id = id;
    return entry as DocEntry;
  }

  /** Disposes a document and every node and list id minted for it; returns the ids freed. */
  async dispose(documentId: unknown): Promise<Found<number>> {
    const entry = this.docs.get(documentId);
    if (!entry) return { ok: false, error: this.#unknown("document_id", documentId) };
    const n = entry.idOf.size;
    await this.docs.delete(entry.id, "disposed");
    return { ok: true, value: n };
  }

  /** The stable id of a node of `entry`'s document, minted on first use. */
  idFor(entry: DocEntry, node: Node): string {
    let id = entry.idOf.get(node);
    if (!id) {
      id = `${entry.id}_n${++entry.counter}`;
      entry.idOf.set(node, id);
      this.nodes.add({ node, docId: entry.id }, id);
    }
    return id;
  }

  /** Records a node list of `entry` and returns its id. */
  addList(entry: DocEntry, nodeIds: readonly string[]): string {
    const id = `${entry.id}_l${++entry.counter}`;
    entry.listIds.add(id);
    this.lists.add({ docId: entry.id, nodeIds }, id);
    return id;
  }

  document(documentId: unknown): Found<DocEntry> {
    const entry = this.docs.get(documentId);
    return entry
      ? { ok: true, value: entry }
      : { ok: false, error: this.#unknown("document_id", documentId) };
  }

  /** A node and its document by node id (touching the document, so it stays alive). */
  node(nodeId: unknown, param = "node_id"): Found<{ node: Node; doc: DocEntry }> {
    const n = this.nodes.get(nodeId);
    const doc = n && this.docs.get(n.docId);
    if (!n || !doc) return { ok: false, error: this.#unknown(param, nodeId) };
    return { ok: true, value: { node: n.node, doc } };
  }

  list(listId: unknown): Found<{ list: ListEntry; doc: DocEntry }> {
    const l = this.lists.get(listId);
    const doc = l && this.docs.get(l.docId);
    if (!l || !doc) return { ok: false, error: this.#unknown("nodelist_id", listId) };
    return { ok: true, value: { list: l, doc } };
  }

  /** Forgets one node id (the node itself stays in its document). */
  async forgetNode(nodeId: unknown): Promise<boolean> {
    const n = this.nodes.get(nodeId);
    const doc = n && this.docs.get(n.docId);
    if (!n || !doc) return false;
    doc.idOf.delete(n.node);
    return await this.nodes.delete(String(nodeId));
  }

  #unknown(param: string, id: unknown): string {
    if (id === undefined || id === null || id === "") return `Missing ${param}`;
    const ttl = this.#ttlMs > 0
      ? `, or expired after ${Math.round(this.#ttlMs / 1000)} s idle`
      : "";
    return `Unknown ${param} '${String(id)}': never created, already disposed${ttl}`;
  }
}
