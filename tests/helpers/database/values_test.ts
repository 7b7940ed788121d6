/**
 * @module
 * The pure value rules of the `database` helper, with expectations taken from what DBI +
 * DBD::SQLite 1.72 / DBD::Pg 3.16 and libpq 15 printed on this machine (tests/perl/database_values.t
 * compares them end to end): Perl's number text, PostgreSQL arrays, bytea and libpq's error
 * layout, SQLite's byte binds, and placeholder templates.
 */

import assert from "node:assert/strict";
import { perlNvOfText } from "../../../helpers/database/perl_number.ts";
import { perlNumberText, perlNv } from "../../../src/sdk/perl_numbers.ts";
import { byteaBytes, parsePgArray, pgWireValue } from "../../../helpers/database/pg_values.ts";
import {
  errorPosition,
  libpqConnectMessage,
  libpqMessage,
} from "../../../helpers/database/pg_errors.ts";
import {
  bindSql,
  readSql,
  sqliteArgs,
  sqliteBind,
  sqliteResult,
} from "../../../helpers/database/sqlite_binds.ts";
import { compileSql, resolveBinds, toBindAttr } from "../../../helpers/database/sql.ts";

Deno.test("perlNv() prints doubles as Perl 5.36 does (%.15g)", () => {
  const cases: [number, string][] = [
    [0.1 + 0.2, "0.3"],
    [1e300, "1e+300"],
    [-0, "0"],
    [1e15, "1e+15"],
    [1e14, "100000000000000"],
    [1e-5, "1e-05"],
    [123, "123"],
    [2.5e-300, "2.5e-300"],
    [-1.5, "-1.5"],
    [NaN, "NaN"],
    [Infinity, "Inf"],
    [-Infinity, "-Inf"],
  ];
  for (const [n, want] of cases) assert.equal(perlNv(n), want, String(n));
  assert.equal(perlNvOfText("-Infinity"), "-Inf");
  assert.equal(perlNvOfText("0.30000000000000004"), "0.3");
});

Deno.test("perlNumberText() keeps whole numbers in IV range in full", () => {
  assert.equal(perlNumberText(42), "42");
  assert.equal(perlNumberText(2 ** 40), "1099511627776");
  assert.equal(perlNumberText(0.25), "0.25");
  assert.equal(perlNumberText(1e-7), "1e-07");
  assert.equal(perlNumberText(1e300), "1e+300");
});

Deno.test("parsePgArray() reads PostgreSQL array output as DBD::Pg expands it", () => {
  assert.deepEqual(parsePgArray("{1,2,3}", "text"), ["1", "2", "3"]);
  assert.deepEqual(parsePgArray('{"a b","c\\"d",NULL,"NULL","x,y","\\\\"}', "text"), [
    "a b",
    'c"d',
    null,
    "NULL",
    "x,y",
    "\\",
  ]);
  assert.deepEqual(parsePgArray("{{1,2},{3,4}}", "text"), [["1", "2"], ["3", "4"]]);
  assert.deepEqual(parsePgArray("{}", "text"), []);
  assert.deepEqual(parsePgArray("[0:1]={5,6}", "text"), ["5", "6"]);
  assert.deepEqual(parsePgArray("{t,f}", "bool"), ["1", "0"]);
  assert.deepEqual(parsePgArray("{1.50,-0}", "nv"), ["1.5", "0"]);
  assert.equal(parsePgArray("{1,2", "text"), undefined, "malformed input is not an array");
  assert.equal(parsePgArray("{{{{{{{1}}}}}}}", "text"), undefined, "more than 6 dimensions");
});

Deno.test("pgWireValue() converts by type OID", () => {
  assert.equal(pgWireValue("t", 16), "1");
  assert.equal(pgWireValue("\\x00ff41", 17), "\u0000\u00ffA");
  assert.equal(pgWireValue("-0", 701), "0");
  assert.equal(pgWireValue("1.50", 1700), "1.50");
  assert.deepEqual(pgWireValue("{0.1,NULL}", 1022), ["0.1", null]);
  assert.equal(pgWireValue(null, 25), null);
  assert.deepEqual(byteaBytes("a\\000\\\\b"), new Uint8Array([0x61, 0, 0x5c, 0x62]));
});

Deno.test("errorPosition() lays out LINE and the cursor as libpq does", () => {
  assert.equal(
    errorPosition(15, "SELECT * FROM nope"),
    "LINE 1: SELECT * FROM nope\n" +
      " ".repeat(22) + "^\n",
  );
  assert.equal(
    errorPosition(13, "SELECT 1,\n  nope_col\nFROM t"),
    "LINE 2:   nope_col\n          ^\n",
  );
  assert.equal(errorPosition(99, "SELECT 1"), "", "a position past the end shows nothing");
  const long = "SELECT " + "x, ".repeat(40) + "bad";
  const shown = errorPosition(long.length - 2, long);
  assert.match(shown, /^LINE 1: \.\.\..*bad\n *\^\n$/);
});

Deno.test("libpqMessage() and libpqConnectMessage() build DBD::Pg's errstr", () => {
  assert.equal(
    libpqMessage({ severity: "ERROR", message: "boom", hint: "h", where: "ctx" }, undefined),
    "ERROR:  boom\nHINT:  h\nCONTEXT:  ctx",
  );
  assert.equal(
    libpqConnectMessage({ code: "ECONNREFUSED" }, { host: "127.0.0.1", port: 1 }),
    'connection to server at "127.0.0.1", port 1 failed: Connection refused\n' +
      "\tIs the server running on that host and accepting TCP/IP connections?",
  );
  assert.equal(
    libpqConnectMessage(
      { severity: "FATAL", message: 'role "x" does not exist' },
      { host: "/tmp/pg", port: 5432 },
    ),
    'connection to server on socket "/tmp/pg/.s.PGSQL.5432" failed: FATAL:  role "x" does not exist',
  );
});

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

Deno.test("toBindAttr() reads the attr forms the wrapper sends", () => {
  assert.deepEqual(toBindAttr(30), { sqlType: 30 });
  assert.deepEqual(toBindAttr({ TYPE: 30 }), { sqlType: 30 });
  assert.deepEqual(toBindAttr({ pg_type: 17 }), { pgType: 17 });
  assert.deepEqual(toBindAttr({ ora_type: 113 }), { oraType: 113 });
  assert.equal(toBindAttr(null), undefined);
  assert.equal(toBindAttr({}), undefined);
});

Deno.test("compileSql() behaviour: SQLite placeholders and quoting as SQLite reads them", () => {
  const lite = (sql: string) => {
    const c = compileSql(sql, (o) => `?${o}`, "sqlite");
    return { keys: c.keys, indexes: c.indexes, count: c.paramCount };
  };
  assert.deepEqual(lite("INSERT INTO t VALUES ($v, @w, :x)"), {
    keys: ["$v", "@w", "x"],
    indexes: [1, 2, 3],
    count: 3,
  });
  assert.deepEqual(lite("SELECT ?1 WHERE a = ?1 OR b = ?"), {
    keys: ["1", "2"],
    indexes: [1, 2],
    count: 2,
  });
  assert.deepEqual(lite("SELECT ?5"), { keys: ["5"], indexes: [5], count: 5 });
  assert.deepEqual(lite("SELECT ?, ?1, $a, ?"), {
    keys: ["1", "$a", "3"],
    indexes: [1, 2, 3],
    count: 3,
  });
  assert.deepEqual(lite("SELECT 1 AS [what?], `a?b`, '?', \"?\", ? -- ?\n/* ? */"), {
    keys: ["1"],
    indexes: [1],
    count: 1,
  });
  assert.deepEqual(lite("SELECT 1"), { keys: [], indexes: [], count: 0 });
  // Without the dialect, $tag$ quoting and Oracle/PostgreSQL rules stay.
  assert.deepEqual(compileSql("SELECT $x$?$x$, ?", (o) => `$${o}`).keys, ["1"]);
});

Deno.test("resolveBinds() behaviour: SQLite counts parameters, unbound ones are NULL", () => {
  const c = compileSql("SELECT ?1, ?1, $v", (o) => `?${o}`, "sqlite");
  assert.deepEqual(resolveBinds(c, [1, 2], new Map()), [
    { key: "1", value: 1 },
    { key: "$v", value: 2 },
  ]);
  assert.equal(resolveBinds(c, [1], new Map()), "called with 1 bind variables when 2 are needed");
  assert.deepEqual(resolveBinds(c, [], new Map([["$v", "n"]])), [
    { key: "1", value: null },
    { key: "$v", value: "n" },
  ]);
  const none = compileSql("SELECT 1", (o) => `?${o}`, "sqlite");
  assert.equal(
    resolveBinds(none, [5], new Map()),
    "called with 1 bind variables when 0 are needed",
  );
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
