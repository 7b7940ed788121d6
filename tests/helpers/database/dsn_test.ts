/**
 * @module
 * DBI data source names as the `database` helper reads them: Oracle, Pg and SQLite forms.
 */

import assert from "node:assert/strict";
import { parseDsn } from "../../../helpers/database/dsn.ts";

Deno.test("parseDsn() handles the Oracle, Pg and SQLite forms", () => {
  const cs = (dsn: string, user = "u") => {
    const r = parseDsn(dsn, user);
    if ("error" in r) return r.error;
    return r.dsn.driver === "oracle" ? r.dsn.connectString : r.dsn;
  };
  assert.equal(cs("dbi:Oracle:PRODDB"), "PRODDB");
  assert.equal(cs("dbi:Oracle:host=db1;port=1522;service_name=ORCL"), "db1:1522/ORCL");
  assert.equal(
    cs("dbi:Oracle:HOST=db1;SID=ORA1"),
    "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db1)(PORT=1521))(CONNECT_DATA=(SID=ORA1)))",
  );
  assert.equal(cs("dbi:Oracle:sid=TNSALIAS"), "TNSALIAS");
  assert.equal(
    cs("dbi:Oracle:db1:1521:ORA1"),
    "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db1)(PORT=1521))(CONNECT_DATA=(SID=ORA1)))",
  );
  assert.equal(cs("dbi:Oracle://db1:1521/svc"), "db1:1521/svc");
  assert.equal(cs("dbi:Oracle:db1:1521/svc"), "db1:1521/svc");
  assert.equal(
    cs("dbi:Oracle:(DESCRIPTION=(ADDRESS=(HOST=h)))"),
    "(DESCRIPTION=(ADDRESS=(HOST=h)))",
  );
  assert.equal(cs("dbi:Oracle:", "scott@TNS1"), "TNS1");
  assert.equal(cs("db1:1521/svc"), "db1:1521/svc", "a non-dbi DSN is an Oracle connect string");
  assert.match(cs("dbi:Oracle:", "scott") as string, /names no database/);
  assert.deepEqual(cs("dbi:Pg:dbname=app;host=h;port=5433;sslmode=disable"), {
    driver: "pg",
    host: "h",
    port: 5433,
    database: "app",
    options: { sslmode: "disable" },
  });
  assert.deepEqual(cs("dbi:SQLite:dbname=x.db"), { driver: "sqlite", path: "x.db" });
  assert.deepEqual(cs("dbi:SQLite:/tmp/y.db"), { driver: "sqlite", path: "/tmp/y.db" });
  assert.match(cs("dbi:mysql:db") as string, /Unsupported database driver 'mysql'/);
  const u = parseDsn("dbi:Oracle:", "scott@TNS1");
  assert.ok(!("error" in u) && u.username === "scott");
});
