/**
 * @module
 * Cell formats of the `excel` helper: Excel::Writer::XLSX colour names and style properties.
 */

import assert from "node:assert/strict";
import { colorArgb, styleOf } from "../../../helpers/excel/format.ts";

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
