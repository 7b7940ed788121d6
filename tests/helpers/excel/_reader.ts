/**
 * @module
 * Test-only independent reader for .xlsx files: Debian's python3-openpyxl dumps the cells and
 * their styles as JSON (the product never needs Python; this only checks its output).
 */

/** The openpyxl script; argv[1] is the file. Also used by tests/perl/excel.t (copied there). */
export const DUMP_XLSX_PY = `
import json, sys
import openpyxl
def color(c):
    if c is None: return None
    if c.type == "rgb": return c.rgb
    if c.type == "theme": return "theme:%d" % c.theme
    if c.type == "indexed": return "indexed:%d" % c.indexed
    return None
def link(h):
    if h is None: return None
    t, l = h.target or "", h.location or ""
    if l and (not t or t == l): return "#" + l
    return t + ("#" + l if l else "")
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.has_style: continue
            f, fill, b, a = c.font, c.fill, c.border, c.alignment
            cells[c.coordinate] = {
                "value": c.value, "type": c.data_type, "bold": bool(f.b), "italic": bool(f.i),
                "underline": f.u, "font_color": color(f.color), "font_name": f.name, "font_size": f.sz,
                "fill": fill.fill_type, "fill_fg": color(fill.fgColor) if fill.fill_type else None,
                "halign": a.horizontal, "valign": a.vertical, "wrap": bool(a.wrap_text),
                "num_format": c.number_format,
                "border": [b.left.style, b.right.style, b.top.style, b.bottom.style],
                "hyperlink": link(c.hyperlink),
            }
    out.append({"name": ws.title, "cells": cells})
print(json.dumps(out, sort_keys=True, default=str))
`;

/** One cell as openpyxl sees it. */
export interface DumpedCell {
  value: unknown;
  type: string;
  bold: boolean;
  italic: boolean;
  underline: string | null;
  font_color: string | null;
  font_name: string | null;
  font_size: number | null;
  fill: string | null;
  fill_fg: string | null;
  halign: string | null;
  valign: string | null;
  wrap: boolean;
  num_format: string;
  border: (string | null)[];
  hyperlink: string | null;
}

/** Reads an .xlsx with openpyxl: one entry per sheet, cells by A1 address. */
export async function dumpXlsx(
  path: string,
): Promise<{ name: string; cells: Record<string, DumpedCell> }[]> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", DUMP_XLSX_PY, path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openpyxl failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
