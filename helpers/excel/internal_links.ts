/**
 * @module
 * Removes the relationship exceljs 4.4.0 writes for an in-workbook hyperlink. exceljs gives every
 * hyperlink an external relationship, so `internal:Sheet1!A1` becomes both `location="Sheet1!A1"`
 * and a relationship whose target is the file "Sheet1!A1"; Excel::Writer::XLSX writes only the
 * location. The written .xlsx (a zip) is rewritten: in each worksheet, a `<hyperlink>` whose
 * location equals its relationship's target loses the `r:id`, and the worksheet's relationships
 * lose that entry. Only those two members are recompressed; the others are copied as they are.
 */

import { Buffer } from "node:buffer";
import { crc32, deflateRawSync, inflateRawSync } from "node:zlib";

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Entry {
  name: string;
  method: number;
  flags: number;
  time: number;
  date: number;
  crc: number;
  data: Uint8Array;
  size: number;
  extAttr: number;
  versionMade: number;
  versionNeeded: number;
}

/** The zip's members, in central-directory order; undefined for anything unusual (zip64). */
function readZip(zip: Uint8Array): Entry[] | undefined {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (v.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = v.getUint16(eocd + 10, true);
  let at = v.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) return undefined;
  const names = new TextDecoder();
  const out: Entry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || v.getUint32(at, true) !== CENTRAL) return undefined;
    const csize = v.getUint32(at + 20, true);
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const local = v.getUint32(at + 42, true);
    if (csize === 0xffffffff || local + 30 > zip.length) return undefined;
    if (v.getUint32(local, true) !== LOCAL) return undefined;
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + csize > zip.length) return undefined;
    out.push({
      versionMade: v.getUint16(at + 4, true),
      versionNeeded: v.getUint16(at + 6, true),
      flags: v.getUint16(at + 8, true) & ~0x0008, // sizes go in the headers, no data descriptor
      method: v.getUint16(at + 10, true),
      time: v.getUint16(at + 12, true),
      date: v.getUint16(at + 14, true),
      crc: v.getUint32(at + 16, true),
      size: v.getUint32(at + 24, true),
      extAttr: v.getUint32(at + 38, true),
      name: names.decode(zip.subarray(at + 46, at + 46 + nameLen)),
      data: zip.subarray(start, start + csize),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function writeZip(entries: Entry[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const head = new Uint8Array(30 + name.length);
    const h = new DataView(head.buffer);
    h.setUint32(0, LOCAL, true);
    h.setUint16(4, e.versionNeeded, true);
    h.setUint16(6, e.flags, true);
    h.setUint16(8, e.method, true);
    h.setUint16(10, e.time, true);
    h.setUint16(12, e.date, true);
    h.setUint32(14, e.crc, true);
    h.setUint32(18, e.data.length, true);
    h.setUint32(22, e.size, true);
    h.setUint16(26, name.length, true);
    head.set(name, 30);
    const cen = new Uint8Array(46 + name.length);
    const c = new DataView(cen.buffer);
    c.setUint32(0, CENTRAL, true);
    c.setUint16(4, e.versionMade, true);
    c.setUint16(6, e.versionNeeded, true);
    c.setUint16(8, e.flags, true);
    c.setUint16(10, e.method, true);
    c.setUint16(12, e.time, true);
    c.setUint16(14, e.date, true);
    c.setUint32(16, e.crc, true);
    c.setUint32(20, e.data.length, true);
    c.setUint32(24, e.size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(38, e.extAttr, true);
    c.setUint32(42, offset, true);
    cen.set(name, 46);
    locals.push(head, e.data);
    centrals.push(cen);
    offset += head.length + e.data.length;
  }
  const cdSize = centrals.reduce((n, x) => n + x.length, 0);
  const end = new Uint8Array(22);
  const d = new DataView(end.buffer);
  d.setUint32(0, EOCD, true);
  d.setUint16(8, entries.length, true);
  d.setUint16(10, entries.length, true);
  d.setUint32(12, cdSize, true);
  d.setUint32(16, offset, true);
  return new Uint8Array(Buffer.concat([...locals, ...centrals, end]));
}

function text(e: Entry): string {
  const raw = e.method === 8 ? inflateRawSync(e.data) : e.data;
  return new TextDecoder().decode(raw);
}

function replace(e: Entry, xml: string): void {
  const raw = new TextEncoder().encode(xml);
  e.method = 8;
  e.data = new Uint8Array(deflateRawSync(raw));
  e.size = raw.length;
  e.crc = crc32(raw) >>> 0;
}

const ATTR = (tag: string, name: string) =>
  new RegExp(`\\s${name.replace(":", "\\:")}="([^"]*)"`).exec(tag)?.[1];

/**
 * The .xlsx bytes with internal hyperlinks written as Excel::Writer::XLSX writes them; the
 * input unchanged when it holds none or is not a zip this function understands.
 *
 * @example const fixed = dropInternalLinkRels(new Uint8Array(await book.xlsx.writeBuffer()));
 */
export function dropInternalLinkRels(zip: Uint8Array): Uint8Array {
  const entries = readZip(zip);
  if (!entries) return zip;
  const byName = new Map(entries.map((e) => [e.name, e]));
  let changed = false;
  for (const sheet of entries) {
    const m = /^xl\/worksheets\/(sheet\d+\.xml)$/.exec(sheet.name);
    if (!m) continue;
    const rels = byName.get(`xl/worksheets/_rels/${m[1]}.rels`);
    if (!rels) continue;
    let xml = text(sheet);
    if (!xml.includes(" location=")) continue;
    let relsXml = text(rels);
    const drop = new Set<string>();
    xml = xml.replace(/<hyperlink\b[^>]*\/>/g, (tag) => {
      const rid = ATTR(tag, "r:id");
      const location = ATTR(tag, "location");
      if (rid === undefined || location === undefined) return tag;
      const rel = new RegExp(`<Relationship\\b[^>]*\\sId="${rid}"[^>]*/>`).exec(relsXml)?.[0];
      if (!rel || ATTR(rel, "Target") !== location) return tag;
      drop.add(rel);
      return tag.replace(/\sr:id="[^"]*"/, "");
    });
    if (drop.size === 0) continue;
    for (const rel of drop) relsXml = relsXml.replace(rel, "");
    replace(sheet, xml);
    replace(rels, relsXml);
    changed = true;
  }
  return changed ? writeZip(entries) : zip;
}
