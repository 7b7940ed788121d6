/**
 * @module
 * The `database` contract against a real PostgreSQL 15 (Debian, started in a temp dir), plus
 * PostgreSQL-specific behaviour: text output of dates and numerics, booleans as 1/0, `::` casts,
 * native `$1` placeholders, Unix-socket DSNs.
 */

import assert from "node:assert/strict";
import { databaseHelper } from "../../../helpers/database/mod.ts";
import { startPostgres } from "../../_support/postgres.ts";
import { makeTestContext } from "../../_support/context.ts";
import { runDatabaseContract } from "./_contract.ts";
import { helperFn } from "../../_support/helper_fn.ts";

runDatabaseContract("postgresql", async () => {
  const pg = await startPostgres();
  return {
    name: "postgresql",
    helper: databaseHelper,
    dsn: pg.dsn,
    username: pg.user,
    password: pg.password,
    col: (n) => n,
    fromDual: "",
    types: ["integer", "character varying", "numeric"],
    inout: { sql: "SELECT ?::int + 1", param: ":1", out: "42" },
    ten: "10.00",
    queryCounts: { execute: "rows", do: "rows" },
    prepareChecks: false,
    wrongPassword:
      /^connection to server at "127\.0\.0\.1", port \d+ failed: FATAL: {2}password authentication failed for user "cbtest"$/,
    checksPassword: true,
    killSessions: async () => {
      await pg.psql(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${pg.user}' AND pid <> pg_backend_pid()`,
      );
    },
    cleanup: () => pg.stop(),
  };
});

Deno.test("database on PostgreSQL: values as DBD::Pg shows them; socket DSN; casts", async () => {
  const pg = await startPostgres();
  const tc = makeTestContext();
  try {
    const c = (await helperFn(databaseHelper, "connect").run(
      {
        dsn: `dbi:Pg:dbname=${pg.database};host=${pg.socketDir};port=${pg.port}`,
        username: pg.user,
        password: "",
      },
      tc.ctx,
    )) as Record<string, unknown>;
    assert.equal(c.success, true, String(c.error));
    assert.equal(c.db_type, "postgresql");
    const r = (await helperFn(databaseHelper, "do_statement").run({
      connection_id: c.connection_id,
      sql:
        "SELECT DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', 1.50::numeric(5,2), true, false, " +
        "'\\x0102'::bytea, 12345678901234567890::numeric, $1::text || 'b'",
      bind_values: ["a"],
    }, tc.ctx)) as Record<string, unknown>;
    assert.equal(r.success, true, String(r.error));
    assert.deepEqual(r.rows, [[
      "2024-01-02",
      "2024-01-02 03:04:05",
      "1.50",
      "1",
      "0",
      "\u0001\u0002", // bytea: the raw bytes, as DBD::Pg returns them
      "12345678901234567890",
      "ab",
    ]]);
    const ci = r.column_info as { columns: { type: string; precision: number; scale: number }[] };
    const price = ci.columns[2];
    assert.ok(price);
    assert.equal(price.type, "numeric");
    assert.equal(price.precision, 5);
    assert.equal(price.scale, 2);
    await helperFn(databaseHelper, "disconnect").run({ connection_id: c.connection_id }, tc.ctx);
    const bad = (await helperFn(databaseHelper, "connect").run({
      dsn: `dbi:Pg:dbname=x;host=127.0.0.1;port=1`,
      username: "u",
      password: "pw",
    }, tc.ctx)) as Record<string, unknown>;
    assert.equal(bad.success, false);
    assert.equal(
      bad.error,
      'connection to server at "127.0.0.1", port 1 failed: Connection refused\n' +
        "\tIs the server running on that host and accepting TCP/IP connections?",
    );
  } finally {
    await tc.close();
    await pg.stop();
  }
});
