import assert from "node:assert/strict";
import { excelHelper } from "../../../helpers/excel/mod.ts";
import { classify } from "../../../helpers/excel/cells.ts";
import { perlNumberText, perlNumify } from "../../../src/sdk/perl_numbers.ts";
import { colorArgb, styleOf } from "../../../helpers/excel/format.ts";
import { dropInternalLinkRels } from "../../../helpers/excel/internal_links.ts";
import { makeTestContext } from "../../_support/context.ts";
import { dumpXlsx } from "./_reader.ts";

const f = excelHelper.functions;
// deno-lint-ignore no-explicit-any
type R = any;

async function call(name: string, args: Record<string, unknown>, ctx: unknown): Promise<R> {
  // deno-lint-ignore no-explicit-any
  return await f[name]!.run(args, ctx as any);
}

Deno.test("classify() follows Excel::Writer::XLSX write()", () => {
  const kind = (v: unknown) => {
    const c = classify(v);
    return "cell" in c ? c.cell.kind : "error";
  };
  for (const n of ["123", "-1", "+7", ".5", "1.", "1e5", "1.5E-3", "00123", "123\n", 42, 1.5]) {
    assert.equal(kind(n), "number", String(n));
  }
  for (const s of ["12abc", " 42", "1e", ".", "+", "abc", "1,000", "0x10", "Infinity", "NaN"]) {
    assert.equal(kind(s), "string", s);
  }
  assert.equal(kind("=A1+1"), "formula");
  assert.equal(kind("{=SUM(A1:A2)}"), "formula");
  assert.equal(kind("http://x"), "url");
  assert.equal(kind("https://x"), "url");
  assert.equal(kind("ftp://x"), "url");
  assert.equal(kind("mailto:a@b"), "url");
  assert.equal(kind("internal:Sheet1!A1"), "url");
  assert.equal(kind(""), "blank");
  assert.equal(kind(null), "blank");
  assert.equal(kind({ a: 1 }), "error");
  const long = classify("x".repeat(40_000));
  assert.ok("cell" in long && long.cell.kind === "string" && long.cell.value.length === 32_767);
  assert.match(("warning" in long && long.warning) || "", /truncated/);
  assert.deepEqual(classify("123", "string"), { cell: { kind: "string", value: "123" } });
});

Deno.test("perlNumify() gives Perl's text of $string + 0 (expected values printed by perl 5.36)", () => {
  const cases: [string, string][] = [
    ["12345678901234567890", "12345678901234567890"],
    ["9007199254740993", "9007199254740993"],
    ["-0", "0"],
    ["1e400", "Inf"],
    ["0x10", "0"],
    ["  42\n", "42"],
    ["1_000", "1"],
    ["00123", "123"],
    ["1.5e3", "1500"],
    ["-.5", "-0.5"],
    ["18446744073709551616", "1.84467440737096e+19"],
    ["-9223372036854775809", "-9.22337203685478e+18"],
    ["-9223372036854775808", "-9223372036854775808"],
    ["abc", "0"],
    ["", "0"],
    ["1e-5", "1e-05"],
  ];
  for (const [s, want] of cases) assert.equal(perlNumify(s), want, JSON.stringify(s));
});

Deno.test("perlNumberText() prints JSON numbers as Perl does (%.15g for NVs)", () => {
  const cases: [number, string][] = [
    [1e308, "1e+308"],
    [-0, "0"],
    [0.1, "0.1"],
    [1 / 3, "0.333333333333333"],
    [2 ** 64, "1.84467440737096e+19"],
    [1.5e-7, "1.5e-07"],
    [5e-324, "4.94065645841247e-324"],
    [9007199254740991, "9007199254740991"],
  ];
  for (const [n, want] of cases) assert.equal(perlNumberText(n), want, String(n));
  const c = classify("12345678901234567890", "number");
  assert.ok("cell" in c && c.cell.kind === "number" && c.cell.text === "12345678901234567890");
});

Deno.test("colorArgb() uses Excel::Writer::XLSX names, indices and #RRGGBB", () => {
  assert.equal(colorArgb("red"), "FFFF0000");
  assert.equal(colorArgb("GRAY"), "FF808080");
  assert.equal(colorArgb("orange"), "FFFF6600");
  assert.equal(colorArgb("#1f497d"), "FF1F497D");
  assert.equal(colorArgb(10), "FFFF0000");
  assert.equal(colorArgb(2), "FFFF0000"); // 0..7 map to 8..15
  assert.equal(colorArgb("nonsense"), undefined);
  assert.equal(colorArgb(64), undefined);
});

Deno.test("styleOf() maps font, fill, alignment, border and number format", () => {
  const s = styleOf({
    bold: 1,
    font_color: "blue",
    bg_color: "yellow",
    align: "center",
    valign: "vcenter",
    border: 2,
    num_format: 14,
  });
  assert.equal(s.font?.bold, true);
  assert.deepEqual(s.font?.color, { argb: "FF0000FF" });
  assert.deepEqual(s.fill, {
    type: "pattern",
    pattern: "solid",
    fgColor: { argb: "FFFFFF00" },
    bgColor: { indexed: 64 },
  });
  assert.equal(s.alignment?.horizontal, "center");
  assert.equal(s.alignment?.vertical, "middle");
  assert.equal(s.border?.top?.style, "medium");
  assert.equal(s.numFmt, "mm-dd-yy");
  assert.equal(styleOf({ bold: 0 }).font?.bold, undefined);
});

Deno.test("excel functions write a workbook that openpyxl reads back", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const wb = await call("create_workbook", { filename: "out.xlsx" }, t.ctx);
    assert.equal(wb.success, true);
    assert.equal(wb.result.filename, "out.xlsx");
    assert.equal(wb.result.library, "exceljs");
    assert.match(wb.result.workbook_id, /^[0-9a-f-]{36}$/);
    assert.equal((await Deno.stat(`${dir}/out.xlsx`)).size, 0, "created at once, like new()");
    const id = wb.result.workbook_id;
    const ws = await call("add_worksheet", { workbook_id: id, name: "Report" }, t.ctx);
    assert.deepEqual(Object.keys(ws.result).sort(), ["name", "worksheet_id"]);
    const sheet = ws.result.worksheet_id;
    const fm = await call("add_format", { workbook_id: id, properties: { bold: 1 } }, t.ctx);
    const fmt = fm.result.format_id;
    assert.deepEqual(fm.result.properties, { bold: 1 });
    const up = await call("update_format", {
      workbook_id: id,
      format_id: fmt,
      property: "font_color",
      value: "red",
    }, t.ctx);
    assert.deepEqual(up.result, {
      workbook_id: id,
      format_id: fmt,
      property: "font_color",
      value: "red",
    });
    const w = await call("write_cell", {
      workbook_id: id,
      worksheet_id: sheet,
      row: 0,
      col: 0,
      data: "Total",
      format_id: fmt,
    }, t.ctx);
    assert.deepEqual(w.result, { row: 0, col: 0, data: "Total", formatted: true });
    await call(
      "write_cell",
      { workbook_id: id, worksheet_id: sheet, row: 1, col: 0, data: "41.5" },
      t.ctx,
    );
    await call("write_cell", {
      workbook_id: id,
      worksheet_id: sheet,
      row: 2,
      col: 0,
      data: "=A2*2",
    }, t.ctx);
    await call("write_cell", {
      workbook_id: id,
      worksheet_id: sheet,
      row: 3,
      col: 0,
      data: "007",
      type: "string",
    }, t.ctx);
    await call("write_cell", {
      workbook_id: id,
      worksheet_id: sheet,
      row: 4,
      col: 0,
      data: ["a", ["b", "c"]],
    }, t.ctx);
    await call("write_cell", {
      workbook_id: id,
      worksheet_id: sheet,
      row: 6,
      col: 0,
      data: "Ünïcödé ✓ 中文 🎉",
    }, t.ctx);
    // A set_* after the write still applies (formats resolve at close).
    await call(
      "update_format",
      { workbook_id: id, format_id: fmt, property: "italic", value: 1 },
      t.ctx,
    );
    const cl = await call("close_workbook", { workbook_id: id }, t.ctx);
    assert.deepEqual(cl, { success: true, result: { filename: "out.xlsx", library: "exceljs" } });

    const [s] = await dumpXlsx(`${dir}/out.xlsx`);
    assert.equal(s!.name, "Report");
    const c = s!.cells;
    assert.equal(c.A1!.value, "Total");
    assert.equal(c.A1!.bold, true);
    assert.equal(c.A1!.italic, true);
    assert.equal(c.A1!.font_color, "FFFF0000");
    assert.deepEqual([c.A2!.value, c.A2!.type], [41.5, "n"]);
    assert.deepEqual([c.A3!.value, c.A3!.type], ["=A2*2", "f"]);
    assert.deepEqual([c.A4!.value, c.A4!.type], ["007", "s"]);
    assert.deepEqual([c.A5!.value, c.B5!.value, c.B6!.value], ["a", "b", "c"]);
    assert.equal(c.A7!.value, "Ünïcödé ✓ 中文 🎉");
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("excel errors are returned, and a closed workbook is freed", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    assert.match(
      (await call("create_workbook", { filename: "nodir/x.xlsx" }, t.ctx)).error,
      /^Cannot create workbook nodir\/x\.xlsx: /,
    );
    assert.equal(
      (await call("create_workbook", {}, t.ctx)).error,
      "Filename required for new workbook",
    );
    const id = (await call("create_workbook", { filename: "e.xlsx" }, t.ctx)).result.workbook_id;
    assert.equal((await call("add_worksheet", { workbook_id: id }, t.ctx)).result.name, "Sheet1");
    assert.equal(
      (await call("add_worksheet", { workbook_id: id, name: "" }, t.ctx)).result.name,
      "Sheet2",
    );
    assert.match(
      (await call("add_worksheet", { workbook_id: id, name: "sheet1" }, t.ctx)).error,
      /already used/,
    );
    assert.match(
      (await call("add_worksheet", { workbook_id: id, name: "'q" }, t.ctx)).error,
      /apostrophe/,
    );
    assert.match(
      (await call("add_format", { workbook_id: id, properties: [1] }, t.ctx)).error,
      /must be a hash/,
    );
    assert.match(
      (await call(
        "write_cell",
        { workbook_id: id, worksheet_id: "w", row: 0, col: 0, data: 1 },
        t.ctx,
      )).error,
      /Invalid worksheet ID/,
    );
    assert.equal((await call("close_workbook", { workbook_id: id }, t.ctx)).success, true);
    assert.equal(
      (await call("close_workbook", { workbook_id: id }, t.ctx)).error,
      `Invalid workbook ID: ${id}`,
    );
    const [a, b] = await dumpXlsx(`${dir}/e.xlsx`);
    assert.deepEqual([a!.name, b!.name], ["Sheet1", "Sheet2"]);
    assert.equal((await call("ping", {}, t.ctx)).result.status, "ok");
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close_workbook frees the workbook even when the file cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const id = (await call("create_workbook", { filename: "sub/x.xlsx" }, t.ctx).catch(() => null))
      ?.result?.workbook_id;
    assert.equal(id, undefined);
    await Deno.mkdir(`${dir}/sub`);
    const id2 =
      (await call("create_workbook", { filename: "sub/x.xlsx" }, t.ctx)).result.workbook_id;
    await Deno.remove(`${dir}/sub`, { recursive: true });
    const r = await call("close_workbook", { workbook_id: id2 }, t.ctx);
    assert.equal(r.success, false);
    assert.match(r.error, /^Cannot write workbook sub\/x\.xlsx: /);
    assert.match(
      (await call("close_workbook", { workbook_id: id2 }, t.ctx)).error,
      /Invalid workbook ID/,
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an idle workbook is dropped by the janitor", async () => {
  let now = 1_000_000;
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir, clock: { now: () => now }, handleTtlMs: 1000 });
  try {
    const id = (await call("create_workbook", { filename: "idle.xlsx" }, t.ctx)).result.workbook_id;
    now += 5000;
    await t.sweep();
    assert.match(
      (await call("add_worksheet", { workbook_id: id }, t.ctx)).error,
      /Invalid workbook ID/,
    );
    assert.ok(t.logs.some((l) => /discarded unsaved/.test(l)));
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dropInternalLinkRels() keeps only the location of in-workbook links", async () => {
  const { default: ExcelJS } = await import("exceljs");
  const book = new ExcelJS.Workbook();
  const ws = book.addWorksheet("Sheet1");
  ws.getCell("A1").value = { text: "in", hyperlink: "Sheet1!B2" };
  ws.getCell("A2").value = { text: "out", hyperlink: "http://example.com/" };
  ws.getCell("A3").value = 42;
  const before = new Uint8Array(await book.xlsx.writeBuffer() as ArrayBuffer);
  const after = dropInternalLinkRels(before);
  assert.notDeepEqual(after, before);
  const tmp = await Deno.makeTempFile({ suffix: ".xlsx" });
  try {
    await Deno.writeFile(tmp, after);
    // Python's zipfile checks every member's CRC and size.
    const py = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;" +
        "print(z.read('xl/worksheets/_rels/sheet1.xml.rels').decode());" +
        "print(z.read('xl/worksheets/sheet1.xml').decode())",
        tmp,
      ],
    }).output();
    assert.ok(py.success, new TextDecoder().decode(py.stderr));
    const out = new TextDecoder().decode(py.stdout);
    assert.doesNotMatch(out, /Target="Sheet1!B2"/);
    assert.match(out, /Target="http:\/\/example\.com\/"/);
    assert.match(out, /<hyperlink ref="A1" location="Sheet1!B2"\/>/);
    const back = new ExcelJS.Workbook();
    await back.xlsx.load(after as unknown as ArrayBuffer);
    assert.equal(back.getWorksheet("Sheet1")!.getCell("A3").value, 42);
    assert.equal(dropInternalLinkRels(new Uint8Array([1, 2, 3])).length, 3, "not a zip: unchanged");
  } finally {
    await Deno.remove(tmp);
  }
});
