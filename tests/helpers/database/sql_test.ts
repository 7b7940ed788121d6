/**
 * @module
 * Placeholder templates and bind resolution of the `database` helper, as SQLite and DBI read
 * them (tests/perl/database_values.t compares end to end).
 */

import assert from "node:assert/strict";
import { compileSql, resolveBinds, toBindAttr } from "../../../helpers/database/sql.ts";

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

Deno.test("compileSql() rewrites ? and :name outside quotes, comments, casts and dollar quotes", () => {
  const ora = (s: string) => compileSql(s, (_i, k) => `:${k}`);
  const pg = (s: string) => compileSql(s, (i) => `$${i}`);
  assert.equal(ora("SELECT ? , ? FROM t").text, "SELECT :1 , :2 FROM t");
  assert.deepEqual(pg("SELECT :a, :b, :A, x::int").text, "SELECT $1, $2, $1, x::int");
  assert.deepEqual(pg("SELECT :a, :b, :A").keys, ["a", "b"]);
  assert.equal(
    pg("SELECT '?', \"q?\", ? -- ?\n/* :x */ $$ ? $$, $t$ :y $t$").text,
    "SELECT '?', \"q?\", $1 -- ?\n/* :x */ $$ ? $$, $t$ :y $t$",
  );
  assert.equal(ora("BEGIN :x := :x + :1; END;").text, "BEGIN :x := :x + :1; END;");
  assert.equal(pg("SELECT to_char(d, 'HH24:MI')").keys.length, 0);
});
