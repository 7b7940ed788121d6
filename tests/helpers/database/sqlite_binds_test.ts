/**
 * @module
 * SQLite's byte binds as DBD::SQLite 1.72 does them: Perl strings as TEXT bytes, SQL_BLOB as BLOB,
 * results back as Perl strings (tests/perl/database_values.t compares end to end).
 */

import assert from "node:assert/strict";
import {
  bindSql,
  readSql,
  sqliteArgs,
  sqliteBind,
  sqliteResult,
} from "../../../helpers/database/sqlite_binds.ts";
import { compileSql } from "../../../helpers/database/sql.ts";

Deno.test("sqliteBind() and bindSql() bind Perl strings as TEXT bytes, SQL_BLOB as BLOB", () => {
  const t = compileSql("SELECT ?, :n, ?", (o) => `?${o}`, "sqlite").template;
  const plain = sqliteBind({ key: "1", value: "abc" });
  const bytes = sqliteBind({ key: "2", value: "Z\u00c3\u00bc" });
  const blob = sqliteBind({ key: "3", value: "\u0000\u00ff", attr: { sqlType: 30 } });
  assert.deepEqual(plain, { value: "abc", asText: false });
  assert.deepEqual(bytes, { value: new Uint8Array([0x5a, 0xc3, 0xbc]), asText: true });
  assert.deepEqual(blob, { value: new Uint8Array([0, 0xff]), asText: false });
  assert.equal(bindSql(t, [plain, bytes, blob]), "SELECT ?1, (CAST(?2 AS TEXT)||''), ?3");
  assert.equal(bindSql(t, [plain, bytes, blob], true), "SELECT ?, :n, ?");
  assert.deepEqual(sqliteArgs(t, [plain, bytes, blob]), ["abc", bytes.value, blob.value]);
  assert.deepEqual(sqliteBind({ key: "1", value: "5", attr: { sqlType: 4 } }).value, 5n);
  assert.deepEqual(sqliteBind({ key: "1", value: "1.5", attr: { sqlType: 4 } }).value, "1.5");
  assert.equal(sqliteBind({ key: "1", value: "1.5", attr: { sqlType: 8 } }).value, 1.5);
  assert.match(
    readSql("SELECT 1;", 1),
    /^WITH "cpan_bridge_q"\("c1"\) AS MATERIALIZED \(\nSELECT 1\n\) SELECT/,
  );
  assert.equal(sqliteResult("x", new Uint8Array([0, 0xff])), "\u0000\u00ff");
  assert.equal(sqliteResult(0.1 + 0.2, undefined), "0.3");
  assert.equal(sqliteResult(9007199254740993n, undefined), "9007199254740993");
});

Deno.test("readSql() behaviour: each column expression is evaluated once per row", async () => {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(":memory:");
  const inner = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) " +
    "SELECT CASE WHEN abs(random()) % 2 = 0 THEN 'text' ELSE 12345 END AS v, " +
    "CAST(random() AS TEXT) AS r FROM n";
  const stmt = db.prepare(readSql(inner, 2));
  (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  const rows = stmt.all() as unknown as unknown[][];
  assert.equal(rows.length, 300);
  const dec = new TextDecoder();
  for (const [v, vBytes, r, rBytes] of rows) {
    // The value, its type test and its bytes come from one evaluation.
    if (typeof v === "string") assert.equal(dec.decode(vBytes as Uint8Array), v);
    else assert.equal(vBytes, null);
    assert.equal(dec.decode(rBytes as Uint8Array), r);
  }
  db.close();
});
