/**
 * @module
 * The `excel` helper's functions called directly: a workbook written and read back by openpyxl,
 * errors as results, closing and the janitor's idle sweep.
 */

import assert from "node:assert/strict";
import { excelHelper } from "../../../helpers/excel/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import { dumpXlsx } from "./_reader.ts";

const f = excelHelper.functions;

// deno-lint-ignore no-explicit-any
type R = any;

async function call(name: string, args: Record<string, unknown>, ctx: unknown): Promise<R> {
  // deno-lint-ignore no-explicit-any
  return await f[name]!.run(args, ctx as any);
}

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
