/**
 * @module
 * The `database` helper contract, one suite run against every driver (like hono's
 * `runTest({ newRouter })`): PostgreSQL and SQLite for real, Oracle against a fake oracledb at the
 * driver seam. Each target supplies a DSN, credentials, the helper to test and its dialect.
 */

import assert from "node:assert/strict";
import { FakeClock } from "../../_support/fake_clock.ts";
import type { CallContext, HelperDefinition } from "../../../helpers/types.ts";
import { makeTestContext } from "../../_support/context.ts";
import { helperFn } from "../../_support/helper_fn.ts";

/** A database to run the contract against. */
export interface ContractTarget {
  readonly name: string;
  readonly helper: HelperDefinition;
  readonly dsn: string;
  readonly username: string;
  readonly password: string;
  /** Column name as the database reports it (Oracle upper-cases unquoted names). */
  readonly col: (n: string) => string;
  /** `" FROM DUAL"` for Oracle, `""` elsewhere. */
  readonly fromDual: string;
  /** Type names reported for an integer, a varchar and a decimal column of the `items` table. */
  readonly types: readonly [string, string, string];
  /** SQL and expected value of an OUT bind: `:1`/`?` gets `initial` 41 and comes back "42". */
  readonly inout: { readonly sql: string; readonly param: string; readonly out: string };
  /** Text of DECIMAL(10,2) 10: "10.00" (PostgreSQL), "10" (SQLite, Oracle NUMBER). */
  readonly ten: string;
  /** Only one write transaction at a time (SQLite): parallel writers take turns. */
  readonly singleWriter?: boolean;
  /** The password is checked (false for SQLite). */
  readonly checksPassword: boolean;
  /** What a wrong password's error starts with (`$DBI::errstr` of the DBD). */
  readonly wrongPassword?: RegExp;
  /**
   * The counts DBI gives for a query: `$sth->execute` ("rows": DBD::Pg's row count, "zero":
   * "0E0"), and `$dbh->do` without binds ("changes": DBD::SQLite's sqlite3_changes() of the last
   * DML, here 2).
   */
  readonly queryCounts: {
    readonly execute: "rows" | "zero";
    readonly do: "rows" | "zero" | "changes";
  };
  /** Bad SQL fails at prepare, as DBD::SQLite's prepare does (DBD::Pg defers it to execute). */
  readonly prepareChecks: boolean;
  /** Drops every server session of the test user (pg_terminate_backend), if the target can. */
  readonly killSessions?: () => Promise<void>;
  /** Called once at the end. */
  readonly cleanup?: () => Promise<void>;
}

type R = Record<string, unknown>;

/** Runs the whole contract as one Deno test with one step per behaviour. */
export function runDatabaseContract(name: string, makeTarget: () => Promise<ContractTarget>): void {
  Deno.test(`database contract: ${name}`, async (t) => {
    const target = await makeTarget();
    const clock = new FakeClock();
    const tc = makeTestContext({ clock, module: "database" });
    const ctx = tc.ctx;
    const call = async (f: string, args: R, c: CallContext = ctx): Promise<R> =>
      (await helperFn(target.helper, f).run(args, c)) as R;
    const col = target.col;
    const connect = async (options: R = {}, extra: R = {}) => {
      const r = await call("connect", {
        dsn: target.dsn,
        username: target.username,
        password: target.password,
        options,
        db_type: "oracle",
        ...extra,
      });
      assert.equal(r.success, true, `connect failed: ${r.error}`);
      return r.connection_id as string;
    };
    const query = async (cid: string, sql: string, bind: unknown[] = []) => {
      const r = await call("do_statement", { connection_id: cid, sql, bind_values: bind });
      assert.equal(r.success, true, `${sql}: ${r.error}`);
      return r;
    };
    const prepareExec = async (
      cid: string,
      sql: string,
      bind: unknown[] = [],
      bindParams: R = {},
    ) => {
      const p = await call("prepare", { connection_id: cid, sql });
      assert.equal(p.success, true, String(p.error));
      const sid = p.statement_id as string;
      const e = await call("execute_statement", {
        connection_id: cid,
        statement_id: sid,
        bind_values: bind,
        bind_params: bindParams,
      });
      return { sid, e };
    };
    try {
      const cid = await connect();
      await call("do_statement", { connection_id: cid, sql: "DROP TABLE items" });
      await query(cid, "CREATE TABLE items (id INTEGER, name VARCHAR(40), price DECIMAL(10,2))");

      await t.step("connect() returns the flat shape with a UUID connection_id", async () => {
        const r = await call("connect", {
          dsn: target.dsn,
          username: target.username,
          password: target.password,
        });
        assert.deepEqual(Object.keys(r).sort(), [
          "auth_mode",
          "connection_id",
          "db_type",
          "success",
        ]);
        assert.match(
          r.connection_id as string,
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        );
        assert.equal(r.auth_mode, "password");
        assert.deepEqual(await call("disconnect", { connection_id: r.connection_id }), {
          success: true,
        });
      });

      await t.step("do_statement() inserts with ? binds and reports rows_affected", async () => {
        for (const [id, n, p] of [[1, "apple", "1.25"], [2, "pear", null], [3, "plum", "10"]]) {
          const r = await query(cid, "INSERT INTO items (id, name, price) VALUES (?, ?, ?)", [
            id,
            n,
            p,
          ]);
          assert.deepEqual(r, { success: true, rows_affected: 1 });
        }
        const none = await query(cid, "UPDATE items SET name = name WHERE id > ?", [99]);
        assert.equal(none.rows_affected, "0E0", "DBI's do says zero-but-true");
        const u = await query(cid, "UPDATE items SET name = name WHERE id > ?", [1]);
        assert.equal(u.rows_affected, 2);
      });

      await t.step(
        "do_statement() on a SELECT returns rows, rows_affected and column_info",
        async () => {
          const r = await query(cid, "SELECT id, name FROM items ORDER BY id");
          assert.deepEqual(r.rows, [["1", "apple"], ["2", "pear"], ["3", "plum"]]);
          const want = { rows: 3, zero: "0E0", changes: 2 }[target.queryCounts.do];
          assert.equal(r.rows_affected, want, "rows_affected is what $dbh->do returns");
          const ddl = await query(cid, "CREATE TABLE ddl_probe (x INTEGER)");
          assert.equal(ddl.rows_affected, target.queryCounts.do === "changes" ? 2 : "0E0");
          await query(cid, "DROP TABLE ddl_probe");
          assert.deepEqual((r.column_info as R).names, [col("id"), col("name")]);
          const ei = await call("execute_immediate", {
            connection_id: cid,
            sql: `SELECT 'x?'${target.fromDual}`,
          });
          assert.deepEqual(ei.rows, [["x?"]], "a ? inside quotes is not a placeholder");
        },
      );

      await t.step(
        "execute_statement() reports the DBD's execute count for a query; column_info",
        async () => {
          const { e } = await prepareExec(
            cid,
            "SELECT id, name, price FROM items WHERE id >= ? ORDER BY id",
            [1],
          );
          assert.equal(e.success, true, String(e.error));
          assert.equal(e.rows_affected, target.queryCounts.execute === "rows" ? 3 : 0);
          const ci = e.column_info as R;
          assert.equal(ci.count, 3);
          assert.deepEqual(ci.names, [col("id"), col("name"), col("price")]);
          assert.deepEqual(ci.types, [...target.types]);
          const c0 = (ci.columns as R[])[0];
          assert.ok(c0);
          assert.deepEqual(Object.keys(c0).sort(), [
            "display_size",
            "internal_size",
            "name",
            "nullable",
            "precision",
            "scale",
            "type",
            "type_code",
          ]);
          const none = await prepareExec(cid, "SELECT id FROM items WHERE id > ?", [99]);
          assert.equal(none.e.rows_affected, 0);
          assert.deepEqual(
            await call("fetch_row", { connection_id: cid, statement_id: none.sid }),
            { success: false },
          );
        },
      );

      await t.step(
        "fetch_row() returns arrays or hashes, then {success:false} with no error key",
        async () => {
          const { sid } = await prepareExec(cid, "SELECT id, name, price FROM items ORDER BY id");
          const a = await call("fetch_row", {
            connection_id: cid,
            statement_id: sid,
            format: "array",
          });
          assert.deepEqual(a, { success: true, row: ["1", "apple", "1.25"] });
          const h = await call("fetch_row", {
            connection_id: cid,
            statement_id: sid,
            format: "hash",
          });
          assert.deepEqual(h, {
            success: true,
            row: { [col("id")]: "2", [col("name")]: "pear", [col("price")]: null },
          });
          const rest = await call("fetch_all", {
            connection_id: cid,
            statement_id: sid,
            format: "array",
          });
          assert.deepEqual(rest, { success: true, rows: [["3", "plum", target.ten]] });
          assert.deepEqual(await call("fetch_row", { connection_id: cid, statement_id: sid }), {
            success: false,
          });
          assert.deepEqual(await call("fetch_row", { connection_id: cid, statement_id: sid }), {
            success: false,
          });
        },
      );

      await t.step("fetch_all() as hashes; NULL arrives as null", async () => {
        const { sid } = await prepareExec(cid, "SELECT id, price FROM items WHERE price IS NULL");
        const r = await call("fetch_all", {
          connection_id: cid,
          statement_id: sid,
          format: "hash",
        });
        assert.deepEqual(r, { success: true, rows: [{ [col("id")]: "2", [col("price")]: null }] });
        const n = await query(cid, `SELECT NULL, 42, 'txt'${target.fromDual}`);
        assert.deepEqual(n.rows, [[null, "42", "txt"]]);
      });

      await t.step(
        "bind_params: named :name, numeric keys (the wrapper's copy), execute values win",
        async () => {
          const named = await prepareExec(
            cid,
            "SELECT name FROM items WHERE id = :id OR name = :nm ORDER BY id",
            [],
            {
              ":id": { value: 1, attr: null },
              ":nm": { value: "plum", attr: null },
            },
          );
          assert.equal(named.e.success, true, String(named.e.error));
          const rows = await call("fetch_all", { connection_id: cid, statement_id: named.sid });
          assert.deepEqual(rows.rows, [["apple"], ["plum"]]);
          // DBIHelper sends bind_param values in bind_params AND (sorted) in bind_values.
          const num = await prepareExec(
            cid,
            "SELECT name FROM items WHERE id = ? OR id = ? ORDER BY id",
            [3, 2],
            {
              "1": { value: 3, attr: null },
              "2": { value: 2, attr: null },
            },
          );
          assert.deepEqual(
            (await call("fetch_all", { connection_id: cid, statement_id: num.sid })).rows,
            [["pear"], [
              "plum",
            ]],
          );
          const over = await call("execute_statement", {
            connection_id: cid,
            statement_id: num.sid,
            bind_values: [1, 1],
            bind_params: { "1": { value: 3 }, "2": { value: 2 } },
          });
          assert.equal(over.success, true);
          assert.deepEqual(
            (await call("fetch_all", { connection_id: cid, statement_id: num.sid })).rows,
            [["apple"]],
          );
          const tooFew = await prepareExec(
            cid,
            "SELECT name FROM items WHERE id = ? AND name = ?",
            [1],
          );
          assert.equal(tooFew.e.success, false);
          assert.match(tooFew.e.error as string, /called with 1 bind variables when 2 are needed/);
        },
      );

      await t.step("re-executing a statement restarts its rows", async () => {
        const { sid } = await prepareExec(cid, "SELECT id FROM items WHERE id = ?", [1]);
        await call("execute_statement", {
          connection_id: cid,
          statement_id: sid,
          bind_values: [3],
        });
        assert.deepEqual(await call("fetch_all", { connection_id: cid, statement_id: sid }), {
          success: true,
          rows: [["3"]],
        });
      });

      await t.step(
        "AutoCommit 0: rollback discards, commit keeps; others see only committed rows",
        async () => {
          const tx = await connect({ AutoCommit: 0, RaiseError: 1 });
          const other = await connect();
          await query(tx, "INSERT INTO items (id, name) VALUES (?, ?)", [10, "ten"]);
          assert.deepEqual(await call("rollback", { connection_id: tx }), { success: true });
          assert.deepEqual((await query(other, "SELECT COUNT(*) FROM items WHERE id = 10")).rows, [[
            "0",
          ]]);
          await query(tx, "INSERT INTO items (id, name) VALUES (?, ?)", [11, "eleven"]);
          assert.deepEqual(await call("commit", { connection_id: tx }), { success: true });
          assert.deepEqual((await query(other, "SELECT COUNT(*) FROM items WHERE id = 11")).rows, [[
            "1",
          ]]);
          await query(other, "DELETE FROM items WHERE id = 11");
          await call("disconnect", { connection_id: tx });
          await call("disconnect", { connection_id: other });
        },
      );

      await t.step("begin_transaction() holds AutoCommit off until commit/rollback", async () => {
        const c = await connect();
        assert.deepEqual(await call("begin_transaction", { connection_id: c }), { success: true });
        const again = await call("begin_transaction", { connection_id: c });
        assert.deepEqual(again, { success: false, error: "Already in a transaction" });
        await query(c, "INSERT INTO items (id, name) VALUES (20, 'twenty')");
        await call("rollback", { connection_id: c });
        assert.deepEqual((await query(cid, "SELECT COUNT(*) FROM items WHERE id = 20")).rows, [[
          "0",
        ]]);
        await query(c, "INSERT INTO items (id, name) VALUES (21, 'auto')"); // AutoCommit is back on
        assert.deepEqual((await query(cid, "SELECT COUNT(*) FROM items WHERE id = 21")).rows, [[
          "1",
        ]]);
        await query(c, "DELETE FROM items WHERE id = 21");
        await call("disconnect", { connection_id: c });
      });

      await t.step("errors are returned, recorded for get_*_error, and never thrown", async () => {
        const p = await call("prepare", { connection_id: cid, sql: "SELECT * FROM no_such_table" });
        if (target.prepareChecks) {
          assert.equal(p.success, false, "bad SQL fails at prepare");
          assert.match(p.error as string, /no such table: no_such_table/);
          assert.equal(
            (await call("get_connection_error", { connection_id: cid })).errstr,
            p.error,
          );
        }
        const { sid, e } = await prepareExec(
          cid,
          target.prepareChecks ? "SELECT * FROM items WHERE id = ?" : "SELECT * FROM no_such_table",
          target.prepareChecks ? [1, 2] : [],
        );
        assert.equal(e.success, false);
        assert.match(e.error as string, /no_such_table|does not exist|bind variables/i);
        const se = await call("get_statement_error", { statement_id: sid });
        assert.equal(se.success, true);
        assert.equal(se.errstr, e.error);
        const d = await call("do_statement", {
          connection_id: cid,
          sql: "DELETE FROM no_such_table",
        });
        assert.equal(d.success, false);
        assert.equal((await call("get_connection_error", { connection_id: cid })).errstr, d.error);
        await query(cid, `SELECT 1${target.fromDual}`);
        assert.equal((await call("get_connection_error", { connection_id: cid })).errstr, null);
        const f = await call("fetch_row", { connection_id: cid, statement_id: sid });
        assert.deepEqual(f, { success: false, error: "Statement not executed" });
      });

      await t.step("unknown ids, finish_statement and disconnect", async () => {
        assert.deepEqual(await call("prepare", { connection_id: "nope", sql: "SELECT 1" }), {
          success: false,
          error: "Invalid connection ID",
        });
        assert.deepEqual(await call("fetch_row", { connection_id: cid, statement_id: "nope" }), {
          success: false,
          error: "Invalid statement ID",
        });
        const c = await connect();
        const { sid } = await prepareExec(c, "SELECT id FROM items");
        assert.deepEqual(await call("finish_statement", { connection_id: c, statement_id: sid }), {
          success: true,
        });
        assert.deepEqual(await call("finish_statement", { connection_id: c, statement_id: sid }), {
          success: true,
        });
        assert.equal(
          (await call("fetch_row", { connection_id: c, statement_id: sid })).error,
          "Invalid statement ID",
        );
        const { sid: s2 } = await prepareExec(c, "SELECT id FROM items");
        assert.deepEqual(await call("disconnect", { connection_id: c }), { success: true });
        assert.deepEqual(await call("disconnect", { connection_id: c }), { success: true });
        assert.equal(
          (await call("fetch_row", { connection_id: c, statement_id: s2 })).error,
          "Invalid statement ID",
        );
      });

      await t.step("bind_param_inout() and get_out_params()", async () => {
        const p = await call("prepare", { connection_id: cid, sql: target.inout.sql });
        const sid = p.statement_id as string;
        const b = await call("bind_param_inout", {
          statement_id: sid,
          param_name: target.inout.param,
          initial_value: 41,
          size: 100,
        });
        assert.equal(b.success, true);
        assert.match(b.message as string, /bound successfully/);
        assert.deepEqual(await call("get_out_params", { statement_id: sid }), {
          success: false,
          error: "Statement not yet executed",
        });
        const e = await call("execute_statement", {
          connection_id: cid,
          statement_id: sid,
          bind_values: [],
        });
        assert.equal(e.success, true, String(e.error));
        const o = await call("get_out_params", { statement_id: sid });
        assert.deepEqual(o, {
          success: true,
          out_params: { [target.inout.param.replace(/^:/, "")]: target.inout.out },
        });
        assert.equal(
          (await call("bind_param_inout", { statement_id: "x", param_name: ":a" })).error,
          "Invalid statement ID: x",
        );
      });

      await t.step(
        "connect_cached() reuses a live connection for the same DSN, user and attributes",
        async () => {
          const args = {
            dsn: target.dsn,
            username: target.username,
            password: target.password,
            options: { AutoCommit: 1 },
          };
          const a = await call("connect_cached", args);
          const b = await call("connect_cached", args);
          assert.equal(a.cached, false);
          assert.equal(b.cached, true);
          assert.equal(a.connection_id, b.connection_id);
          const c = await call("connect_cached", { ...args, options: { AutoCommit: 0 } });
          assert.equal(c.cached, false);
          assert.notEqual(c.connection_id, a.connection_id);
          await call("disconnect", { connection_id: a.connection_id });
          const d = await call("connect_cached", args);
          assert.equal(d.cached, false, "a disconnected handle is not reused");
          await call("disconnect", { connection_id: d.connection_id });
          await call("disconnect", { connection_id: c.connection_id });
        },
      );

      await t.step("calls on one connection run one at a time (parallel fetch_row)", async () => {
        const { sid } = await prepareExec(cid, "SELECT id FROM items ORDER BY id");
        const rs = await Promise.all(
          Array.from(
            { length: 6 },
            () => call("fetch_row", { connection_id: cid, statement_id: sid }),
          ),
        );
        const got = rs.filter((r) => r.success).map((r) => (r.row as string[])[0]);
        assert.deepEqual(got, ["1", "2", "3"]);
        assert.equal(rs.filter((r) => !r.success && !("error" in r)).length, 3);
      });

      await t.step("parallel connections are isolated", async () => {
        const ids = await Promise.all(Array.from({ length: 4 }, () => connect({ AutoCommit: 0 })));
        const work = async (c: string, i: number) => {
          await query(c, "INSERT INTO items (id, name) VALUES (?, ?)", [100 + i, `p${i}`]);
          const seen = await query(c, "SELECT id FROM items WHERE id >= 100");
          return seen;
        };
        if (target.singleWriter) {
          for (const [i, c] of ids.entries()) {
            await work(c, i);
            await call(i % 2 ? "commit" : "rollback", { connection_id: c });
          }
        } else {
          const seen = await Promise.all(ids.map(work));
          seen.forEach((r, i) =>
            assert.deepEqual(r.rows, [[String(100 + i)]], "each sees only its own insert")
          );
          await Promise.all(
            ids.map((c, i) => call(i % 2 ? "commit" : "rollback", { connection_id: c })),
          );
        }
        assert.deepEqual(
          (await query(cid, "SELECT id FROM items WHERE id >= 100 ORDER BY id")).rows,
          [["101"], [
            "103",
          ]],
        );
        await query(cid, "DELETE FROM items WHERE id >= 100");
        await Promise.all(ids.map((c) => call("disconnect", { connection_id: c })));
      });

      if (target.checksPassword) {
        await t.step("a wrong password fails without showing the password", async () => {
          const secret = "Wr0ng-Pa55word-XYZ";
          const r = await call("connect", {
            dsn: target.dsn,
            username: target.username,
            password: secret,
          });
          assert.equal(r.success, false);
          assert.match(r.error as string, target.wrongPassword ?? /^Cannot connect to /);
          assert.ok(!(r.error as string).includes(secret), r.error as string);
          assert.ok(!tc.logs.join("\n").includes(secret));
          assert.ok(!tc.logs.join("\n").includes(target.password));
        });
      }

      if (target.killSessions) {
        await t.step("a dropped connection gives a clear error, then reconnects", async () => {
          const c = await connect();
          await target.killSessions!();
          const r1 = await call("do_statement", {
            connection_id: c,
            sql: `SELECT 1${target.fromDual}`,
          });
          assert.equal(r1.success, false);
          assert.match(
            r1.error as string,
            /Database connection lost: .*next call on this handle reconnects/s,
          );
          assert.deepEqual((await query(c, `SELECT 7${target.fromDual}`)).rows, [["7"]]);
          const tx = await connect({ AutoCommit: 0 });
          await query(tx, "INSERT INTO items (id, name) VALUES (50, 'lost')");
          await target.killSessions!();
          const r2 = await call("do_statement", {
            connection_id: tx,
            sql: "INSERT INTO items (id, name) VALUES (51, 'x')",
          });
          assert.match(r2.error as string, /Database connection lost: .*rollback/s);
          const r3 = await call("commit", { connection_id: tx });
          assert.equal(r3.success, false, "commit after a lost transaction must fail");
          assert.deepEqual(await call("rollback", { connection_id: tx }), { success: true });
          assert.deepEqual((await query(tx, "SELECT COUNT(*) FROM items WHERE id >= 50")).rows, [[
            "0",
          ]]);
          await call("disconnect", { connection_id: tx });
          // cid was killed too: reconnects on its next call
          await call("do_statement", { connection_id: cid, sql: `SELECT 1${target.fromDual}` });
          await call("disconnect", { connection_id: c });
        });
      }

      await t.step("idle handles are closed by the janitor's sweep after the TTL", async () => {
        const c = await connect();
        const { sid } = await prepareExec(c, `SELECT 1${target.fromDual}`);
        clock.advance(1_800_001);
        await query(cid, `SELECT 1${target.fromDual}`); // cid stays in use
        await tc.sweep();
        assert.equal(
          (await call("prepare", { connection_id: c, sql: "SELECT 1" })).error,
          "Invalid connection ID",
        );
        assert.equal(
          (await call("fetch_row", { connection_id: c, statement_id: sid })).error,
          "Invalid statement ID",
        );
        assert.equal((await query(cid, `SELECT 2${target.fromDual}`)).success, true);
      });

      await call("do_statement", { connection_id: cid, sql: "DROP TABLE items" });
      await call("disconnect", { connection_id: cid });
    } finally {
      await tc.close();
      await target.cleanup?.();
    }
  });
}
