/**
 * @module
 * How the `excel` helper classifies a written value, as Excel::Writer::XLSX `write()` does.
 */

import assert from "node:assert/strict";
import { classify } from "../../../helpers/excel/cells.ts";

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
