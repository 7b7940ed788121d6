/**
 * @module
 * The `database` contract against SQLite (`node:sqlite`), plus SQLite specifics: DSN forms, a
 * relative `dbname` resolved against the caller's cwd, integers beyond 2^53, blobs as bytes.
 */

import assert from "node:assert/strict";
import { databaseHelper } from "../../../helpers/database/mod.ts";
import { makeTestContext } from "../../_support/context.ts";
import { runDatabaseContract } from "./_contract.ts";
import { helperFn } from "../../_support/helper_fn.ts";

runDatabaseContract("sqlite", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb_sqlite_" });
  return {
    name: "sqlite",
    helper: databaseHelper,
    dsn: `dbi:SQLite:dbname=${dir}/contract.db`,
    username: "",
    password: "",
    col: (n) => n,
    fromDual: "",
    types: ["INTEGER", "VARCHAR(40)", "DECIMAL(10,2)"],
    inout: { sql: "SELECT ? + 1", param: ":1", out: "42" },
    ten: "10",
    singleWriter: true,
    queryCounts: { execute: "zero", do: "changes" },
    prepareChecks: true,
    checksPassword: false,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("database on SQLite: relative dbname uses the caller's cwd; big integers; blobs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb_sqlite_" });
  const tc = makeTestContext({ cwd: dir });
  try {
    const c = (await helperFn(databaseHelper, "connect").run(
      { dsn: "dbi:SQLite:dbname=rel.db", username: "", password: "" },
      tc.ctx,
    )) as Record<
      string,
      unknown
    >;
    assert.equal(c.success, true, String(c.error));
    assert.equal(c.db_type, "sqlite");
    const run = async (sql: string, bind: unknown[] = []) =>
      (await helperFn(databaseHelper, "do_statement").run(
        { connection_id: c.connection_id, sql, bind_values: bind },
        tc.ctx,
      )) as Record<
        string,
        unknown
      >;
    await run("CREATE TABLE t (n INTEGER, b BLOB, r REAL)");
    await run("INSERT INTO t VALUES (9007199254740993, x'00ff', 0.5)");
    assert.deepEqual((await run("SELECT n, b, r, n + 1 FROM t")).rows, [[
      "9007199254740993",
      "\u0000\u00ff", // a BLOB is its bytes, one character per byte
      "0.5",
      "9007199254740994",
    ]]);
    assert.ok((await Deno.stat(`${dir}/rel.db`)).isFile);
    const other = (await helperFn(databaseHelper, "connect").run(
      { dsn: `dbi:SQLite:${dir}/rel.db` },
      tc.ctx,
    )) as Record<
      string,
      unknown
    >;
    assert.equal(other.success, true);
    const missing = (await helperFn(databaseHelper, "connect").run({
      dsn: "dbi:SQLite:dbname=/nonexistent/dir/x.db",
    }, tc.ctx)) as Record<
      string,
      unknown
    >;
    assert.equal(missing.success, false);
    assert.match(
      missing.error as string,
      /^unable to open database file$/,
    );
    const bad = (await helperFn(databaseHelper, "connect").run(
      { dsn: "dbi:Informix:foo" },
      tc.ctx,
    )) as Record<
      string,
      unknown
    >;
    assert.match(bad.error as string, /Unsupported database driver 'Informix'/);
  } finally {
    await tc.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SQLite :memory: is opened at its first statement, a file at connect", async () => {
  const { sqliteDriver } = await import("../../../helpers/database/sqlite.ts");
  const { parseDsn } = await import("../../../helpers/database/dsn.ts");
  const connect = async (dsn: string) => {
    const parsed = parseDsn(dsn, "");
    assert.ok(!("error" in parsed));
    return await sqliteDriver.connect({
      dsn: parsed.dsn,
      username: "",
      password: "",
      externalAuth: false,
      resolvePath: (p) => Promise.resolve(p),
      env: () => Promise.resolve(undefined),
    }) as unknown as { opened: boolean } & Awaited<ReturnType<typeof sqliteDriver.connect>>;
  };
  const opts = { autoCommit: false, mode: "do" as const };
  const mem = await connect("dbi:SQLite:dbname=:memory:");
  assert.equal(mem.opened, false);
  await mem.ping();
  await mem.commit();
  await mem.rollback();
  assert.equal(mem.opened, false, "ping, commit and rollback need no database");
  await mem.execute("CREATE TABLE t (v)", [], { autoCommit: true });
  assert.equal(mem.opened, true);
  await mem.execute("INSERT INTO t VALUES (1)", [], opts);
  await mem.rollback();
  const count = await mem.execute("SELECT count(*) FROM t", [], { autoCommit: true });
  assert.deepEqual(await count.fetch(10), [["0"]], "AutoCommit off: the INSERT was rolled back");
  await mem.close();
  const unused = await connect("dbi:SQLite:dbname=:memory:");
  await unused.close();
  await assert.rejects(unused.execute("SELECT 1", [], opts), /closed/);
  const dir = await Deno.makeTempDir({ prefix: "cb_sqlite_" });
  try {
    const file = await connect(`dbi:SQLite:dbname=${dir}/f.db`);
    assert.equal(file.opened, true);
    await file.close();
    await assert.rejects(connect(`dbi:SQLite:dbname=${dir}/no/such/dir.db`), /unable to open/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
