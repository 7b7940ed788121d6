/**
 * @module
 * `excel`: serves ExcelHelper.pm, which replaces Excel::Writer::XLSX (helpers contract §3.5).
 * Wrapped results. A workbook is a handle (`workbook_id`, UUID4, idle TTL) that holds its
 * worksheets and formats (also UUID4 ids, valid only with their workbook). Cells are kept in
 * memory and the file is written by exceljs on `close_workbook`, as Excel::Writer::XLSX writes at
 * `close()`; formats are therefore resolved at close, so a `set_*` after a write restyles the cell
 * (Excel::Writer::XLSX semantics; the Python helper copied the format at write time).
 * Like `Excel::Writer::XLSX->new`, `create_workbook` creates (truncates) the file at once, so an
 * unwritable path fails early. Relative file names are relative to the Perl caller's cwd.
 * Number cells carry Perl's text of the number, as Excel::Writer::XLSX writes `<v>$num</v>`
 * ("12345678901234567890" stays whole); URL cells get its hyperlink format (theme colour 10,
 * #0000FF, underlined), with the theme written compactly (theme.ts); in-workbook links keep only
 * their location (internal_links.ts). Compared with the real module
 * cell by cell in tests/perl/excel.t; differences in docs/helpers/excel.md.
 */

import { defineHelper, failure, fn, perlText, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type ExcelJS from "exceljs";
import { expand } from "./cells.ts";
import type { CellValue, Placed, WriteType } from "./cells.ts";
import { KNOWN_PROPERTIES, styleOf } from "./format.ts";
import { THEME1_XML } from "./theme.ts";
import { dropInternalLinkRels } from "./internal_links.ts";

/** Reported as `library`, as the Python helper reported "openpyxl". */
export const LIBRARY = "exceljs";

interface Sheet {
  readonly id: string;
  readonly name: string;
  /** row → col → cell and its format id. */
  readonly rows: Map<number, Map<number, { cell: CellValue; formatId: string | undefined }>>;
}

interface Workbook {
  /** As given by Perl (reported back). */
  readonly filename: string;
  /** Resolved against the caller's cwd. */
  readonly path: string;
  readonly sheets: Sheet[];
  readonly formats: Map<string, Record<string, unknown>>;
  sheetCount: number;
}

function workbooks(ctx: CallContext): HandleTable<Workbook> {
  return ctx.handles<Workbook>("workbooks", {
    prefix: "xlsx",
    newId: () => crypto.randomUUID(),
    dispose: (wb, reason) => {
      if (reason !== "closed") {
        ctx.log.warn(`Workbook ${wb.filename} discarded unsaved (${reason})`);
      }
    },
  });
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function workbookOf(ctx: CallContext, id: unknown): Workbook | undefined {
  return workbooks(ctx).get(id);
}

const badWorkbook = (id: unknown) => failure(`Invalid workbook ID: ${String(id)}`);

/** `Excel::Writer::XLSX->new($filename)`. */
async function createWorkbook(args: Args, ctx: CallContext) {
  const filename = args.filename;
  if (typeof filename !== "string" || filename === "") {
    return failure("Filename required for new workbook");
  }
  // A UTF-8 byte-string file name names the file with those bytes (the Perl string rule).
  const path = await ctx.resolvePath(perlText(filename));
  try {
    await Deno.writeFile(path, new Uint8Array(0));
  } catch (e) {
    return failure(`Cannot create workbook ${filename}: ${errText(e)}`);
  }
  const wb: Workbook = { filename, path, sheets: [], formats: new Map(), sheetCount: 0 };
  const id = workbooks(ctx).add(wb);
  return wrapped({ workbook_id: id, library: LIBRARY, filename });
}

/** Workbook.pm `_check_sheetname`. */
function checkSheetName(wb: Workbook, given: unknown): string | { error: string } {
  wb.sheetCount++;
  const name = given === undefined || given === null || given === ""
    ? `Sheet${wb.sheetCount}`
    : String(given);
  if ([...name].length > 31) return { error: `Sheetname ${name} must be <= 31 chars` };
  if (/[[\]:*?/\\]/.test(name)) {
    return { error: `Invalid character []:*?/\\ in worksheet name: ${name}` };
  }
  if (name.startsWith("'") || name.endsWith("'")) {
    return { error: `Worksheet name ${name} cannot start or end with an apostrophe` };
  }
  if (wb.sheets.some((s) => s.name.toLowerCase() === name.toLowerCase())) {
    return { error: `Worksheet name '${name}', with case ignored, is already used.` };
  }
  return name;
}

async function addWorksheet(args: Args, ctx: CallContext) {
  const t = workbooks(ctx);
  if (!t.has(args.workbook_id)) return badWorkbook(args.workbook_id);
  return await t.withLock(args.workbook_id as string, (wb) => {
    const name = checkSheetName(wb, args.name);
    if (typeof name !== "string") return failure(name.error);
    const sheet: Sheet = { id: crypto.randomUUID(), name, rows: new Map() };
    wb.sheets.push(sheet);
    return wrapped({ worksheet_id: sheet.id, name });
  });
}

function propertiesOf(v: unknown): Record<string, unknown> | string {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) return "Format properties must be a hash";
  return { ...(v as Record<string, unknown>) };
}

function addFormat(args: Args, ctx: CallContext) {
  const wb = workbookOf(ctx, args.workbook_id);
  if (!wb) return badWorkbook(args.workbook_id);
  const props = propertiesOf(args.properties);
  if (typeof props === "string") return failure(props);
  const id = crypto.randomUUID();
  wb.formats.set(id, props);
  const unknown = Object.keys(props).filter((k) => !KNOWN_PROPERTIES.has(k));
  return wrapped({
    format_id: id,
    properties: props,
    ...(unknown.length ? { ignored_properties: unknown } : {}),
  });
}

function updateFormat(args: Args, ctx: CallContext) {
  const wb = workbookOf(ctx, args.workbook_id);
  if (!wb) return badWorkbook(args.workbook_id);
  const props = wb.formats.get(String(args.format_id));
  if (!props) return failure(`Invalid format ID: ${String(args.format_id)}`);
  if (typeof args.property !== "string" || args.property === "") {
    return failure("Format property name required");
  }
  // The wrapper's set_color sends font_color; Excel::Writer::XLSX calls it color.
  props[args.property] = args.value ?? 1;
  return wrapped({
    workbook_id: args.workbook_id,
    format_id: args.format_id,
    property: args.property,
    value: args.value ?? null,
  });
}

const WRITE_TYPES = new Set(["auto", "string", "number", "formula", "url", "blank"]);

async function writeCell(args: Args, ctx: CallContext) {
  const t = workbooks(ctx);
  if (!t.has(args.workbook_id)) return badWorkbook(args.workbook_id);
  return await t.withLock(args.workbook_id as string, (wb) => {
    const sheet = wb.sheets.find((s) => s.id === args.worksheet_id);
    if (!sheet) return failure(`Invalid worksheet ID: ${String(args.worksheet_id)}`);
    const row = Number(args.row);
    const col = Number(args.col);
    if (!Number.isInteger(row) || !Number.isInteger(col)) {
      return failure(
        `Row and column must be integers (got ${String(args.row)}, ${String(args.col)})`,
      );
    }
    let formatId: string | undefined;
    if (args.format_id !== undefined && args.format_id !== null && args.format_id !== "") {
      formatId = String(args.format_id);
      if (!wb.formats.has(formatId)) return failure(`Invalid format ID: ${formatId}`);
    }
    const type = (args.type ?? "auto") as WriteType;
    if (!WRITE_TYPES.has(type)) return failure(`Unknown cell type: ${String(args.type)}`);
    const placed: Placed[] = [];
    const warnings: string[] = [];
    const err = expand(row, col, args.data, type, placed, warnings);
    if (err) return failure(err);
    for (const p of placed) {
      let cols = sheet.rows.get(p.row);
      if (p.cell.kind === "blank" && formatId === undefined) {
        // write_blank without a format writes nothing (and leaves an earlier cell alone).
        continue;
      }
      if (!cols) sheet.rows.set(p.row, cols = new Map());
      cols.set(p.col, { cell: p.cell, formatId });
    }
    return wrapped({
      row,
      col,
      data: args.data ?? null,
      formatted: formatId !== undefined,
      ...(warnings.length ? { warning: warnings.join("; ") } : {}),
    });
  });
}

/** Builds the exceljs workbook and writes it to the file. */
async function save(wb: Workbook): Promise<void> {
  const { default: ExcelJS } = await import("exceljs");
  const book = new ExcelJS.Workbook();
  // exceljs writes `_themes` as is (an unexposed field, read in Workbook.model).
  (book as unknown as { _themes: Record<string, string> })._themes = { theme1: THEME1_XML };
  const sheets = wb.sheets.length
    ? wb.sheets
    : [{ id: "", name: "Sheet1", rows: new Map() } as Sheet];
  const styles = new Map<string, ReturnType<typeof styleOf>>();
  let internalLinks = false;
  for (const [id, props] of wb.formats) styles.set(id, styleOf(props));
  for (const sheet of sheets) {
    const ws = book.addWorksheet(sheet.name);
    for (const r of [...sheet.rows.keys()].sort((a, b) => a - b)) {
      for (const [c, { cell, formatId }] of sheet.rows.get(r)!) {
        const x = ws.getCell(r + 1, c + 1);
        switch (cell.kind) {
          case "number":
            x.value = Number.isFinite(cell.value) ? cell.value : 0;
            // exceljs writes String(value); Excel::Writer::XLSX writes Perl's text of the
            // number ("12345678901234567890", "1e+308", "Inf"), so the model carries that text.
            if (String(x.value) !== cell.text) x.model = { ...x.model, value: cell.text };
            break;
          case "string":
            x.value = cell.value;
            break;
          case "formula":
            // exceljs's array formulas (shareType "array") are missing from its typings.
            x.value = (cell.array
              ? { formula: cell.value, result: 0, shareType: "array", ref: x.address }
              : { formula: cell.value, result: 0 }) as ExcelJS.CellFormulaValue;
            break;
          case "url": {
            if (!cell.target) {
              internalLinks = true;
            }
            // exceljs writes a link of the form "Sheet2!A1" as an in-workbook location.
            const link = cell.location === undefined
              ? cell.target
              : cell.target
              ? `${cell.target}#${cell.location}`
              : cell.location;
            x.value = { text: cell.value, hyperlink: link };
            break;
          }
          case "blank":
            break;
        }
        const style = formatId !== undefined ? styles.get(formatId) : undefined;
        if (style) {
          x.style = structuredClone(style);
        } else if (cell.kind === "url") {
          // Excel::Writer::XLSX's default hyperlink format: theme colour 10, underlined.
          x.font = {
            name: "Calibri",
            size: 11,
            family: 2,
            scheme: "minor",
            underline: "single",
            color: { theme: 10 },
          };
        }
      }
    }
  }
  const bytes = new Uint8Array(await book.xlsx.writeBuffer() as ArrayBuffer);
  await Deno.writeFile(wb.path, internalLinks ? dropInternalLinkRels(bytes) : bytes);
}

async function closeWorkbook(args: Args, ctx: CallContext) {
  const t = workbooks(ctx);
  if (!t.has(args.workbook_id)) return badWorkbook(args.workbook_id);
  const id = args.workbook_id as string;
  try {
    return await t.withLock(id, async (wb) => {
      try {
        await save(wb);
      } catch (e) {
        return failure(`Cannot write workbook ${wb.filename}: ${errText(e)}`);
      }
      return wrapped({ filename: wb.filename, library: LIBRARY });
    });
  } finally {
    // The workbook is freed even when saving fails (contract §3.5).
    await t.delete(id, "closed");
  }
}

export const excelHelper = defineHelper({
  name: "excel",
  replaces: "ExcelHelper.pm (Excel::Writer::XLSX)",
  functions: {
    create_workbook: fn(["filename"], createWorkbook),
    add_worksheet: fn(["workbook_id", "name"], addWorksheet),
    add_format: fn(["workbook_id", "properties"], addFormat),
    update_format: fn(["workbook_id", "format_id", "property", "value"], updateFormat),
    write_cell: fn(
      ["workbook_id", "worksheet_id", "row", "col", "data", "format_id", "type"],
      writeCell,
    ),
    close_workbook: fn(["workbook_id"], closeWorkbook),
    ping: fn(
      [],
      () => wrapped({ status: "ok", message: "Excel helper is working", library: LIBRARY }),
    ),
  },
});

export default excelHelper;
