/**
 * @module
 * `DocStore`: the document, node and node-list handle tables of one XML helper. Documents have
 * the daemon's idle TTL; node and node-list ids live exactly as long as their document (they are
 * never swept themselves, any use touches the document, and disposing the document deletes them).
 * A node keeps one id for the document's lifetime, so Perl can compare ids for identity.
 */

import type { Document, Node } from "@xmldom/xmldom";
import type { CallContext, Clock } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type { ParsedXml, XmlDecl } from "./dom.ts";
import { ResidentDoc, restIdleDocuments } from "./resident.ts";

/** One loaded document and the ids handed out for its nodes. */
export interface DocEntry {
  readonly id: string;
  /** The tree (parsed again from its text if the document was at rest, see resident.ts). */
  readonly doc: Document;
  readonly decl: XmlDecl | undefined;
  readonly source: string;
  /** The tree or the text, and the node ids. */
  readonly resident: ResidentDoc;
  readonly listIds: Set<string>;
  counter: number;
  /** The tables, so disposal can free the node and list ids. */
  readonly store: DocStore;
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
  /** Node id → the id of its document (the node itself is the document's, see `ResidentDoc`). */
  readonly nodes: HandleTable<string>;
  readonly lists: HandleTable<ListEntry>;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(ctx: CallContext, prefix: string) {
    this.#ttlMs = ctx.settings.handleTtlMs;
    this.#clock = ctx.clock;
    this.docs = ctx.handles<DocEntry>("documents", {
      prefix: `${prefix}doc`,
      dispose: (entry) => entry.store.#forget(entry),
    });
    // Node and list ids live and die with their document (itself held to the per-client limit).
    this.nodes = ctx.handles<string>("nodes", {
      prefix: `${prefix}node`,
      idleTtlMs: 0,
      perClient: false,
    });
    this.lists = ctx.handles<ListEntry>("nodelists", {
      prefix: `${prefix}list`,
      idleTtlMs: 0,
      perClient: false,
    });
    // Each call first lets the documents nobody has used for a while keep only their text.
    restIdleDocuments(this.#clock);
  }

  async #forget(entry: DocEntry): Promise<void> {
    entry.resident.release();
    for (const id of entry.resident.ids()) await this.nodes.delete(id);
    for (const id of entry.listIds) await this.lists.delete(id);
  }

  /** Registers a parsed document; returns its entry. */
  addDocument(parsed: ParsedXml, source: string): DocEntry {
    const resident = new ResidentDoc(parsed, this.#clock);
    const entry = {
      id: "",
      get doc() {
        return resident.tree;
      },
      decl: parsed.decl,
      source,
      resident,
      listIds: new Set<string>(),
      counter: 0,
      store: this,
    };
    try {
      (entry as { id: string }).id = this.docs.add(entry as DocEntry);
    } catch (err) {
      resident.release();
      throw err;
    }
    return entry as DocEntry;
  }

  /** Disposes a document and every node and list id minted for it; returns the ids freed. */
  async dispose(documentId: unknown): Promise<Found<number>> {
    const entry = this.docs.get(documentId);
    if (!entry) return { ok: false, error: this.#unknown("document_id", documentId) };
    const n = entry.resident.idCount;
    await this.docs.delete(entry.id, "disposed");
    return { ok: true, value: n };
  }

  /** The stable id of a node of `entry`'s document, minted on first use. */
  idFor(entry: DocEntry, node: Node): string {
    let id = entry.resident.idOf(node);
    if (!id) {
      id = `${entry.id}_n${++entry.counter}`;
      entry.resident.setId(node, id);
      this.nodes.add(entry.id, id);
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

  /** The document named by an id (touching it: it stays alive and parsed). */
  #doc(documentId: unknown): DocEntry | undefined {
    const entry = this.docs.get(documentId);
    entry?.resident.touch();
    return entry;
  }

  document(documentId: unknown): Found<DocEntry> {
    const entry = this.#doc(documentId);
    return entry
      ? { ok: true, value: entry }
      : { ok: false, error: this.#unknown("document_id", documentId) };
  }

  /** A node and its document by node id (touching the document, so it stays alive). */
  node(nodeId: unknown, param = "node_id"): Found<{ node: Node; doc: DocEntry }> {
    const docId = this.nodes.get(nodeId);
    const doc = docId === undefined ? undefined : this.#doc(docId);
    const node = doc?.resident.nodeOf(nodeId as string);
    if (!doc || !node) return { ok: false, error: this.#unknown(param, nodeId) };
    return { ok: true, value: { node, doc } };
  }

  list(listId: unknown): Found<{ list: ListEntry; doc: DocEntry }> {
    const l = this.lists.get(listId);
    const doc = l && this.#doc(l.docId);
    if (!l || !doc) return { ok: false, error: this.#unknown("nodelist_id", listId) };
    return { ok: true, value: { list: l, doc } };
  }

  /** Forgets one node id (the node itself stays in its document). */
  async forgetNode(nodeId: unknown): Promise<boolean> {
    const docId = this.nodes.get(nodeId);
    const doc = docId === undefined ? undefined : this.docs.get(docId);
    if (!doc) return false;
    doc.resident.deleteId(String(nodeId));
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
