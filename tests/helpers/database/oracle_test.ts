/**
 * @module
 * The Oracle side of the `database` helper, which cannot run against a real Oracle here: the
 * shared contract through the Oracle driver over a fake oracledb (SQLite-backed, real DbType
 * constants), the real oracledb thin mode loading and failing cleanly on Deno, DSN parsing,
 * placeholder rewriting, type mapping and Kerberos selection.
 */

import assert from "node:assert/strict";
import oracledb from "oracledb";
import { createDatabaseHelper, databaseHelper } from "../../../helpers/database/mod.ts";
import {
  createOracleDriver,
  fetchTypeFor,
  oracleRawWire,
  oracleTypeName,
  oracleWire,
} from "../../../helpers/database/oracle.ts";
import type { OracleDbApi, OracleDbType } from "../../../helpers/database/oracle.ts";
import { postgresDriver } from "../../../helpers/database/postgres.ts";
import { sqliteDriver } from "../../../helpers/database/sqlite.ts";
import { makeTestContext } from "../../_support/context.ts";
import { runDatabaseContract } from "./_contract.ts";
import { createFakeOracle } from "./_fake_oracledb.ts";
import { helperFn } from "../../_support/helper_fn.ts";

type R = Record<string, unknown>;

const ORA = oracledb as unknown as Record<string, OracleDbType> & OracleDbApi;

/** oracledb's DbType `name`; throws when the driver has none. */
function dbType(name: string): OracleDbType {
  const t = ORA[name];
  if (!t) throw new Error(`oracledb has no ${name}`);
  return t;
}

function fakeHelper(dir: string) {
  const fake = createFakeOracle(dir);
  const helper = createDatabaseHelper({
    oracle: createOracleDriver(() => Promise.resolve(fake.api)),
    pg: postgresDriver,
    sqlite: sqliteDriver,
  });
  return { fake, helper };
}

runDatabaseContract("oracle-fake", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb_ora_" });
  const { fake, helper } = fakeHelper(dir);
  return {
    name: "oracle-fake",
    helper,
    dsn: "dbi:Oracle:host=db1;port=1521;service_name=ORCL",
    username: "scott",
    password: "tiger",
    col: (n) => n.toUpperCase(),
    fromDual: " FROM DUAL",
    types: ["NUMBER", "VARCHAR2", "NUMBER"],
    inout: { sql: "BEGIN :x := :x + 1; END;", param: ":x", out: "42" },
    ten: "10",
    singleWriter: true, // the fake's SQLite store, not the driver
    // Unverified (no Oracle here): DBD::Oracle's execute and do of a query return "0E0".
    queryCounts: { execute: "zero", do: "zero" },
    // DBD::Oracle parses at prepare (ora_check_sql); the oracledb driver cannot, so it fails at execute.
    prepareChecks: false,
    checksPassword: true,
    killSessions: () => Promise.resolve(fake.killSessions()),
    cleanup: async () => {
      fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

Deno.test("Oracle driver: binds, fetch types and options reach oracledb as DBD::Oracle needs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb_ora_" });
  const { fake, helper } = fakeHelper(dir);
  const tc = makeTestContext();
  try {
    const c = (await helperFn(helper, "connect").run(
      {
        dsn: "dbi:Oracle:",
        username: "scott@PRODDB",
        password: "tiger",
        options: { AutoCommit: 0 },
      },
      tc.ctx,
    )) as R;
    assert.equal(c.success, true, String(c.error));
    assert.deepEqual(fake.logins.at(-1), {
      user: "scott",
      connectString: "PRODDB",
      externalAuth: undefined,
    });
    const r = (await helperFn(helper, "do_statement").run(
      {
        connection_id: c.connection_id,
        sql: "SELECT ? AS a, 'it''s ?' AS b FROM DUAL WHERE 1 = ?",
        bind_values: [5, 1],
      },
      tc.ctx,
    )) as R;
    assert.equal(r.success, true, String(r.error));
    assert.deepEqual(r.rows, [["5", "it's ?"]]);
    const call = fake.calls.at(-1)!;
    assert.equal(call.sql, "SELECT :1 AS a, 'it''s ?' AS b FROM DUAL WHERE 1 = :2");
    assert.deepEqual(call.binds, [5, 1]);
    assert.equal(call.options.outFormat, ORA.OUT_FORMAT_ARRAY);
    assert.equal(call.options.resultSet, true);
    assert.equal(call.options.autoCommit, false, "AutoCommit 0 reaches execute");
    // Unverified DBD::Oracle assumption (AL32UTF8 client): a UTF-8 byte string is sent as its text.
    const p = (await helperFn(helper, "prepare").run(
      { connection_id: c.connection_id, sql: "SELECT ? AS a, ? AS b FROM DUAL" },
      tc.ctx,
    )) as R;
    const e = (await helperFn(helper, "execute_statement").run({
      connection_id: c.connection_id,
      statement_id: p.statement_id,
      bind_values: ["Z\u00c3\u00bcrich", "\u0000\u00ff"],
      bind_params: {
        "1": { value: "Z\u00c3\u00bcrich", attr: null },
        "2": { value: "\u0000\u00ff", attr: { ora_type: 113 } },
      },
    }, tc.ctx)) as R;
    assert.equal(e.success, true, String(e.error));
    const sent = fake.calls.at(-1)!.binds as unknown[];
    assert.equal(sent[0], "Z\u00fcrich");
    assert.deepEqual(
      new Uint8Array(sent[1] as Uint8Array),
      new Uint8Array([0, 255]),
      "ORA_BLOB: bytes",
    );
    const bad = (await helperFn(helper, "connect").run({
      dsn: "dbi:Oracle:XE",
      username: "scott",
      password: "s3cret-pw",
    }, tc.ctx)) as R;
    assert.equal(bad.success, false);
    assert.equal(
      bad.error,
      "Cannot connect to oracle XE: ORA-01017: invalid credential or not authorized; logon denied",
    );
  } finally {
    await tc.close();
    fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Oracle type mapping: names as the Python helper reported, strings for numbers/dates/CLOBs", () => {
  const cases: [string, string][] = [
    ["DB_TYPE_VARCHAR", "VARCHAR2"],
    ["DB_TYPE_NVARCHAR", "NVARCHAR2"],
    ["DB_TYPE_CHAR", "CHAR"],
    ["DB_TYPE_NUMBER", "NUMBER"],
    ["DB_TYPE_DATE", "DATE"],
    ["DB_TYPE_TIMESTAMP", "TIMESTAMP"],
    ["DB_TYPE_TIMESTAMP_TZ", "TIMESTAMP WITH TIME ZONE"],
    ["DB_TYPE_TIMESTAMP_LTZ", "TIMESTAMP WITH LOCAL TIME ZONE"],
    ["DB_TYPE_CLOB", "CLOB"],
    ["DB_TYPE_BLOB", "BLOB"],
    ["DB_TYPE_RAW", "RAW"],
    ["DB_TYPE_LONG_RAW", "LONG RAW"],
    ["DB_TYPE_ROWID", "ROWID"],
    ["DB_TYPE_INTERVAL_DS", "INTERVAL DAY TO SECOND"],
    ["DB_TYPE_INTERVAL_YM", "INTERVAL YEAR TO MONTH"],
    ["DB_TYPE_BINARY_DOUBLE", "BINARY_DOUBLE"],
  ];
  for (const [k, name] of cases) assert.equal(oracleTypeName(ORA[k]), name, k);
  assert.equal(oracleTypeName(undefined), "UNKNOWN");
  for (
    const k of [
      "DB_TYPE_NUMBER",
      "DB_TYPE_DATE",
      "DB_TYPE_TIMESTAMP_TZ",
      "DB_TYPE_CLOB",
      "DB_TYPE_BINARY_FLOAT",
    ]
  ) {
    assert.equal(fetchTypeFor(ORA, { name: "X", dbType: dbType(k) })?.type, ORA.STRING, k);
  }
  assert.equal(fetchTypeFor(ORA, { name: "X", dbType: dbType("DB_TYPE_BLOB") })?.type, ORA.BUFFER);
  assert.equal(fetchTypeFor(ORA, { name: "X", dbType: dbType("DB_TYPE_VARCHAR") }), undefined);
  assert.equal(oracleWire(new Uint8Array([0, 171, 255])), "\u0000\u00ab\u00ff", "BLOB: bytes");
  assert.equal(oracleRawWire(new Uint8Array([0, 171, 255])), "00ABFF", "RAW: hex, as DBD::Oracle");
  assert.equal(oracleWire(null), null);
  assert.equal(oracleWire(12.5), "12.5");
});

Deno.test("real oracledb thin mode loads on Deno and a refused connect fails cleanly", async () => {
  assert.equal((oracledb as unknown as { thin: boolean }).thin, true);
  const tc = makeTestContext();
  try {
    const r = (await helperFn(databaseHelper, "connect").run(
      { dsn: "dbi:Oracle:127.0.0.1:1/FREEPDB1", username: "scott", password: "Very-Secret-9" },
      tc.ctx,
    )) as R;
    assert.equal(r.success, false);
    assert.match(r.error as string, /^Cannot connect to oracle 127\.0\.0\.1:1\/FREEPDB1: NJS-503/);
    assert.ok(!(r.error as string).includes("Very-Secret-9"));
    assert.ok(!tc.logs.join("\n").includes("Very-Secret-9"));
  } finally {
    await tc.close();
  }
});

Deno.test("auth_mode auto picks Kerberos from the caller's KRB5 variables; no thick mode gives help", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cb_ora_" });
  const { fake, helper } = fakeHelper(dir);
  const tc = makeTestContext();
  const env: Record<string, string> = {
    KRB5_CONFIG: "/etc/krb5.conf",
    KRB5CCNAME: "/tmp/krb5cc_0",
  };
  const ctx = { ...tc.ctx, callerEnv: (n: string) => Promise.resolve(env[n]) };
  try {
    const r = (await helperFn(helper, "connect").run(
      { dsn: "dbi:Oracle:PROD", username: "", password: "" },
      ctx,
    )) as R;
    assert.equal(r.success, false);
    assert.match(r.error as string, /Cannot use Kerberos authentication: .*thick/s);
    const p = (await helperFn(helper, "connect").run(
      { dsn: "dbi:Oracle:PROD", username: "scott", password: "tiger", auth_mode: "password" },
      ctx,
    )) as R;
    assert.equal(p.success, true);
    assert.equal(p.auth_mode, "password");
    const pgAuto =
      (await helperFn(helper, "connect").run({ dsn: `dbi:SQLite:dbname=${dir}/k.db` }, ctx)) as R;
    assert.equal(pgAuto.auth_mode, "password", "Kerberos detection is for Oracle only");
    assert.equal(fake.logins.filter((l) => l.externalAuth).length, 0);
  } finally {
    await tc.close();
    fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
