/**
 * @module
 * A fake of the oracledb API subset the Oracle driver uses (`OracleDbApi`), backed by SQLite so
 * the shared contract suite can run through the Oracle driver: real oracledb DbType constants,
 * upper-cased column names, `FROM DUAL`, `resultSet` + `getRows`, `fetchTypeHandler`, autoCommit,
 * OUT binds for `BEGIN :x := expr; END;`, ORA-/NJS- error texts, and `killSessions()` to make
 * every open session fail as a dropped connection does (NJS-500). It records each execute call.
 */

import oracledb from "oracledb";
import { DatabaseSync } from "node:sqlite";
import type {
  OracleConnectionApi,
  OracleDbApi,
  OracleDbType,
  OracleExecOptions,
  OracleExecResult,
  OracleMeta,
} from "../../../helpers/database/oracle.ts";

/** The real module's constants (importing it also proves oracledb loads on Deno). */
const ORA = oracledb as unknown as Record<string, unknown> & OracleDbApi;
const T = (name: string) => ORA[name] as OracleDbType;

/** One recorded `execute` call. */
export interface ExecCall {
  readonly sql: string;
  readonly binds: unknown;
  readonly options: OracleExecOptions;
}

/** The fake module plus test hooks. */
export interface FakeOracle {
  readonly api: OracleDbApi;
  readonly calls: ExecCall[];
  readonly logins: {
    user?: string | undefined;
    connectString: string;
    externalAuth?: boolean | undefined;
  }[];
  killSessions(): void;
  close(): void;
}

function dbTypeOf(declared: string | null, sample: unknown): OracleDbType {
  const d = (declared ?? "").toUpperCase();
  if (/INT|NUMBER|NUMERIC|DECIMAL|REAL|FLOAT/.test(d)) return T("DB_TYPE_NUMBER");
  if (/DATE/.test(d)) return T("DB_TYPE_DATE");
  if (/CLOB/.test(d)) return T("DB_TYPE_CLOB");
  if (/BLOB/.test(d)) return T("DB_TYPE_BLOB");
  if (/RAW/.test(d)) return T("DB_TYPE_RAW");
  if (d === "" && (typeof sample === "number" || typeof sample === "bigint")) {
    return T("DB_TYPE_NUMBER");
  }
  return T("DB_TYPE_VARCHAR");
}

function oraError(e: unknown): Error {
  const m = e instanceof Error ? e.message : String(e);
  if (/no such table/.test(m)) {
    return new Error(
      "ORA-00942: table or view does not exist\nHelp: https://docs.oracle.com/error-help/db/ora-00942/",
    );
  }
  return new Error(`ORA-00900: invalid SQL statement (${m})`);
}

/** Creates a fake: `password` is the only accepted password; one SQLite file per connect string. */
export function createFakeOracle(dir: string, password = "tiger"): FakeOracle {
  const calls: ExecCall[] = [];
  const logins: FakeOracle["logins"] = [];
  const open = new Set<FakeConn>();

  class FakeConn implements OracleConnectionApi {
    db: DatabaseSync;
    killed = false;
    constructor(path: string) {
      this.db = new DatabaseSync(path);
      this.db.exec("PRAGMA busy_timeout = 0");
      this.db.exec("CREATE TABLE IF NOT EXISTS dual (dummy VARCHAR(1))");
      if (!this.db.prepare("SELECT 1 FROM dual").get()) {
        this.db.exec("INSERT INTO dual VALUES ('X')");
      }
    }
    #check(): void {
      if (this.killed) throw new Error("NJS-500: connection to the Oracle Database was broken");
    }
    execute(
      sql: string,
      binds: Record<string, unknown> | unknown[],
      options: OracleExecOptions,
    ): Promise<OracleExecResult> {
      calls.push({ sql, binds, options });
      try {
        this.#check();
        return Promise.resolve(this.#run(sql, binds, options));
      } catch (e) {
        return Promise.reject(/^(NJS|ORA)-/.test((e as Error).message) ? e : oraError(e));
      }
    }
    #run(
      sql: string,
      binds: Record<string, unknown> | unknown[],
      options: OracleExecOptions,
    ): OracleExecResult {
      const named: Record<string, unknown> = Array.isArray(binds)
        ? Object.fromEntries(binds.map((v, i) => [String(i + 1), v]))
        : { ...binds };
      // PL/SQL `BEGIN :x := expr; END;` with OUT/INOUT binds.
      const plsql = /^\s*BEGIN\s+:(\w+)\s*:=\s*(.+?);\s*END;\s*$/is.exec(sql);
      if (plsql) {
        const [, target, expr] = plsql;
        if (target === undefined || expr === undefined) throw new Error("BEGIN :x := expr; END;");
        const inputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(named)) {
          inputs[k] = v && typeof v === "object" && "dir" in v
            ? (v as { val?: unknown }).val ?? null
            : v;
        }
        const row = this.db.prepare(`SELECT ${expr}`).get(
          inputs as Record<string, null>,
        ) as Record<string, unknown>;
        const value = Object.values(row)[0];
        const outBinds = Array.isArray(binds) ? [value] : { [target]: value };
        return { outBinds };
      }
      const plain: Record<string, string | number | null> = {};
      for (const [k, v] of Object.entries(named)) plain[k] = v as string | number | null;
      const text = sql.replace(/\bFROM\s+DUAL\b/gi, "FROM dual");
      const stmt = this.db.prepare(text);
      const cols = stmt.columns();
      if (cols.length === 0) {
        if (!this.db.isTransaction) this.db.exec("BEGIN");
        const r = stmt.run(plain);
        if (options.autoCommit) this.db.exec("COMMIT");
        // oracledb reports rowsAffected for DML only (SQLite's changes() is stale after DDL).
        const dml = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i.test(sql);
        return dml ? { rowsAffected: Number(r.changes) } : {};
      }
      (stmt as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      const rows = stmt.all(plain) as unknown as unknown[][];
      const first = rows[0] ?? [];
      const metaData: OracleMeta[] = cols.map((c, i) => {
        const dbType = dbTypeOf(c.type, first[i]);
        return {
          name: c.name.toUpperCase(),
          dbType,
          dbTypeName: dbType.name,
          nullable: true,
          byteSize: 40,
        };
      });
      const fetchAs = metaData.map((m) => options.fetchTypeHandler(m)?.type);
      let data = rows.map((r) =>
        r.map((v, i) => {
          if (v === null) return null;
          if (fetchAs[i] === ORA.STRING) return String(v);
          return v;
        })
      );
      return {
        metaData,
        resultSet: {
          getRows: (n: number) => {
            if (this.killed) {
              return Promise.reject(
                new Error("NJS-500: connection to the Oracle Database was broken"),
              );
            }
            const batch = data.slice(0, n);
            data = data.slice(n);
            return Promise.resolve(batch);
          },
          close: () => Promise.resolve(),
        },
      };
    }
    commit(): Promise<void> {
      try {
        this.#check();
      } catch (e) {
        return Promise.reject(e);
      }
      if (this.db.isTransaction) this.db.exec("COMMIT");
      return Promise.resolve();
    }
    rollback(): Promise<void> {
      if (!this.killed && this.db.isTransaction) this.db.exec("ROLLBACK");
      return Promise.resolve();
    }
    close(): Promise<void> {
      if (open.delete(this)) this.db.close();
      return Promise.resolve();
    }
  }

  const api: OracleDbApi = {
    OUT_FORMAT_ARRAY: ORA.OUT_FORMAT_ARRAY,
    BIND_INOUT: ORA.BIND_INOUT,
    BIND_OUT: ORA.BIND_OUT,
    STRING: ORA.STRING,
    BUFFER: ORA.BUFFER,
    CLOB: ORA.CLOB,
    BLOB: ORA.BLOB,
    getConnection(cfg) {
      logins.push({
        user: cfg.user,
        connectString: cfg.connectString,
        externalAuth: cfg.externalAuth,
      });
      if (cfg.connectString.startsWith("unreachable")) {
        return Promise.reject(
          new Error(
            `NJS-503: connection to host unreachable port 1521 could not be established.\nconnect ECONNREFUSED`,
          ),
        );
      }
      if (cfg.password !== password) {
        return Promise.reject(
          new Error("ORA-01017: invalid credential or not authorized; logon denied"),
        );
      }
      const conn = new FakeConn(`${dir}/${cfg.connectString.replace(/[^A-Za-z0-9]/g, "_")}.db`);
      open.add(conn);
      return Promise.resolve(conn);
    },
  };
  return {
    api,
    calls,
    logins,
    killSessions() {
      for (const c of open) {
        c.killed = true;
        if (c.db.isTransaction) c.db.exec("ROLLBACK"); // the server rolls back a dead session
      }
    },
    close() {
      for (const c of [...open]) void c.close();
    },
  };
}
