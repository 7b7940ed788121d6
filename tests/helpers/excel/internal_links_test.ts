/**
 * @module
 * In-workbook hyperlinks of the `excel` helper: only their location is kept.
 */

import assert from "node:assert/strict";
import { dropInternalLinkRels } from "../../../helpers/excel/internal_links.ts";

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
