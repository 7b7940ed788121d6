/**
 * @module
 * Oracle driver on `oracledb` thin mode (pure JavaScript; imported on first connect). To return
 * what DBD::Oracle returns, NUMBER, DATE, TIMESTAMP, INTERVAL, BINARY_FLOAT/DOUBLE and CLOB
 * columns are fetched as strings, so the server formats them (dates follow the session's
 * NLS_DATE_FORMAT, which scripts set with ALTER SESSION); RAW and BLOB come back as upper-case hex.
 * Only the subset of the oracledb API in `OracleDbApi` is used, so tests can put a fake behind it.
 */

import type {
  BoundValue,
  ColumnMeta,
  ConnectRequest,
  Driver,
  DriverConnection,
  DriverResult,
  WireValue,
} from "./driver.ts";
import { messageOf, SQL_BINARY_TYPES } from "./driver.ts";
import { bytesToPerl, perlBytes, perlText } from "../types.ts";
import { Buffer } from "node:buffer";

/** An oracledb DbType object (`oracledb.DB_TYPE_NUMBER`…): `name` like "DB_TYPE_NUMBER", `num`. */
export interface OracleDbType {
  readonly name: string;
  readonly num: number;
}

/** One entry of `result.metaData`. */
export interface OracleMeta {
  readonly name: string;
  readonly dbType?: OracleDbType;
  readonly dbTypeName?: string;
  readonly byteSize?: number;
  readonly precision?: number;
  readonly scale?: number;
  readonly nullable?: boolean;
}

/** A result set (`execute(…, { resultSet: true })`). */
export interface OracleResultSet {
  getRows(n: number): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** What `connection.execute` resolves to. */
export interface OracleExecResult {
  readonly metaData?: readonly OracleMeta[];
  readonly resultSet?: OracleResultSet;
  readonly rowsAffected?: number;
  readonly outBinds?: Record<string, unknown> | unknown[];
}

/** The bind value object of an OUT/INOUT bind. */
export interface OracleBindDef {
  readonly dir: number;
  readonly type: OracleDbType;
  readonly maxSize: number;
  readonly val?: unknown;
}

/** Options passed to `connection.execute`. */
export interface OracleExecOptions {
  readonly outFormat: number;
  readonly resultSet: boolean;
  readonly autoCommit: boolean;
  readonly fetchTypeHandler: (meta: OracleMeta) => { type: OracleDbType } | undefined;
}

/** The subset of an oracledb Connection this driver uses. */
export interface OracleConnectionApi {
  execute(
    sql: string,
    binds: Record<string, unknown> | unknown[],
    options: OracleExecOptions,
  ): Promise<OracleExecResult>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

/** The subset of the oracledb module this driver uses. */
export interface OracleDbApi {
  getConnection(cfg: {
    user?: string;
    password?: string;
    connectString: string;
    externalAuth?: boolean;
  }): Promise<OracleConnectionApi>;
  initOracleClient?(): void;
  readonly OUT_FORMAT_ARRAY: number;
  readonly BIND_INOUT: number;
  readonly BIND_OUT: number;
  readonly STRING: OracleDbType;
  readonly BUFFER: OracleDbType;
  readonly CLOB: OracleDbType;
  readonly BLOB: OracleDbType;
}

/** Python helper's type names for `column_info.types` (DbType name without `DB_TYPE_`). */
const TYPE_NAMES: Record<string, string> = {
  VARCHAR: "VARCHAR2",
  NVARCHAR: "NVARCHAR2",
  TIMESTAMP_TZ: "TIMESTAMP WITH TIME ZONE",
  TIMESTAMP_LTZ: "TIMESTAMP WITH LOCAL TIME ZONE",
  LONG_RAW: "LONG RAW",
  INTERVAL_DS: "INTERVAL DAY TO SECOND",
  INTERVAL_YM: "INTERVAL YEAR TO MONTH",
  BINARY_INTEGER: "BINARY_INTEGER",
};

/** Types fetched as strings, so the server formats them as DBD::Oracle shows them. */
const AS_STRING = new Set([
  "NUMBER",
  "BINARY_FLOAT",
  "BINARY_DOUBLE",
  "BINARY_INTEGER",
  "DATE",
  "TIMESTAMP",
  "TIMESTAMP_TZ",
  "TIMESTAMP_LTZ",
  "INTERVAL_DS",
  "INTERVAL_YM",
  "CLOB",
  "NCLOB",
  "LONG",
  "JSON",
]);

/** Errors meaning the session is gone (network, killed session, closed handle). */
const LOST =
  /^(NJS-500|NJS-501|NJS-003|NJS-521|DPI-1010|DPI-1080|ORA-03113|ORA-03114|ORA-03135|ORA-00028|ORA-02396|ORA-01012)\b/;

/** Oracle type name of a DbType, as the Python helper reported it (VARCHAR2, NUMBER, CLOB…). */
export function oracleTypeName(t: OracleDbType | undefined): string {
  if (!t) return "UNKNOWN";
  const base = t.name.replace(/^DB_TYPE_/, "");
  return TYPE_NAMES[base] ?? base;
}

/** The fetch type for a column: strings for numbers, dates and CLOBs; buffers for BLOB. */
export function fetchTypeFor(
  api: OracleDbApi,
  meta: OracleMeta,
): { type: OracleDbType } | undefined {
  const base = meta.dbType?.name.replace(/^DB_TYPE_/, "") ?? "";
  if (AS_STRING.has(base)) return { type: api.STRING };
  if (base === "BLOB") return { type: api.BUFFER };
  return undefined;
}

/** A fetched value as Perl sees it. */
export function oracleWire(v: unknown): WireValue {
  if (v === null || v === undefined) return null;
  // BLOB and LONG RAW data are bytes in Perl (DBD::Oracle with LongReadLen): one char per byte.
  if (v instanceof Uint8Array) return bytesToPerl(v);
  if (v instanceof Date) return v.toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
  return String(v);
}

/**
 * A RAW column value as DBD::Oracle returns it: fetched as a string, which Oracle renders as
 * upper-case hex (unverified here: no Oracle). BLOB and LONG RAW stay bytes.
 */
export function oracleRawWire(v: unknown): WireValue {
  if (!(v instanceof Uint8Array)) return oracleWire(v);
  let s = "";
  for (const b of v) s += b.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

function columnOf(m: OracleMeta): ColumnMeta {
  const base = m.dbType?.name.replace(/^DB_TYPE_/, "") ?? "";
  const isChar = /CHAR/.test(base);
  return {
    name: m.name,
    type: oracleTypeName(m.dbType),
    type_code: m.dbType?.num ?? null,
    display_size: isChar ? m.byteSize ?? null : null,
    internal_size: m.byteSize ?? null,
    precision: m.precision ?? null,
    scale: m.scale ?? null,
    nullable: m.nullable ?? null,
  };
}

/**
 * The value oracledb gets for an IN bind. Unverified assumptions about DBD::Oracle (no Oracle
 * here): with an AL32UTF8 client character set it sends a Perl byte string's bytes, which the
 * server reads as UTF-8, hence `perlText`; `ora_type` 113 (ORA_BLOB), 23/24 (RAW/LONG RAW) or a
 * binary SQL_* type binds the raw bytes.
 */
function bindValue(b: BoundValue): unknown {
  const v = b.value;
  if (typeof v !== "string") return v;
  const ora = b.attr?.oraType;
  const sql = b.attr?.sqlType;
  if (ora === 113 || ora === 23 || ora === 24 || (sql !== undefined && SQL_BINARY_TYPES.has(sql))) {
    return Buffer.from(perlBytes(v));
  }
  return perlText(v);
}

/** Oracle bind: an array for `:1…:n` in order, else an object by name. */
function bindsOf(
  api: OracleDbApi,
  binds: readonly BoundValue[],
): Record<string, unknown> | unknown[] {
  const one = (b: BoundValue): unknown => {
    if (!b.out) return bindValue(b);
    const type = b.out.kind === "clob" ? api.CLOB : b.out.kind === "blob" ? api.BLOB : api.STRING;
    const def: OracleBindDef = {
      dir: b.value === null ? api.BIND_OUT : api.BIND_INOUT,
      type,
      maxSize: b.out.size,
      ...(b.value === null ? {} : { val: b.value }),
    };
    return def;
  };
  if (binds.every((b, i) => b.key === String(i + 1))) return binds.map(one);
  return Object.fromEntries(binds.map((b) => [b.key, one(b)]));
}

async function readOut(v: unknown): Promise<WireValue> {
  const lob = v as { getData?: () => Promise<unknown> } | null;
  if (lob && typeof lob === "object" && typeof lob.getData === "function") {
    return oracleWire(await lob.getData());
  }
  return oracleWire(v);
}

class OracleConnection implements DriverConnection {
  #api: OracleDbApi;
  #conn: OracleConnectionApi;
  lost: string | undefined;

  constructor(api: OracleDbApi, conn: OracleConnectionApi) {
    this.#api = api;
    this.#conn = conn;
  }

  isConnectionError(err: unknown): boolean {
    const m = messageOf(err);
    if (LOST.test(m)) {
      this.lost ??= m.split("\n")[0];
      return true;
    }
    return this.lost !== undefined;
  }

  async execute(
    sql: string,
    binds: readonly BoundValue[],
    opts: { autoCommit: boolean },
  ): Promise<DriverResult> {
    const api = this.#api;
    const res = await this.#conn.execute(sql, bindsOf(api, binds), {
      outFormat: api.OUT_FORMAT_ARRAY,
      resultSet: true,
      autoCommit: opts.autoCommit,
      fetchTypeHandler: (meta) => fetchTypeFor(api, meta),
    });
    const outValues: Record<string, WireValue> = {};
    const ob = res.outBinds;
    if (ob) {
      for (const [i, b] of binds.entries()) {
        if (!b.out) continue;
        const raw = Array.isArray(ob)
          ? ob[binds.slice(0, i).filter((x) => x.out).length]
          : ob[b.key];
        outValues[b.key] = await readOut(raw);
      }
    }
    const rs = res.resultSet;
    const rawColumn = (res.metaData ?? []).map((m) => m.dbType?.name === "DB_TYPE_RAW");
    return {
      columns: res.metaData && rs ? res.metaData.map(columnOf) : null,
      rowsAffected: res.rowsAffected ?? 0,
      outValues,
      fetch: async (max: number) => {
        if (!rs) return [];
        const rows = await rs.getRows(max);
        return rows.map((r) => r.map((v, i) => (rawColumn[i] ? oracleRawWire : oracleWire)(v)));
      },
      close: async () => {
        await rs?.close().catch(() => {});
      },
    };
  }

  commit(): Promise<void> {
    return this.#conn.commit();
  }

  rollback(): Promise<void> {
    return this.#conn.rollback();
  }

  async ping(): Promise<void> {
    const r = await this.execute("SELECT 1 FROM DUAL", [], { autoCommit: false });
    await r.fetch(1);
    await r.close();
  }

  async close(): Promise<void> {
    this.lost ??= "closed";
    await this.#conn.close().catch(() => {});
  }
}

/** Kerberos failures, with the Python helper's explanations. */
function kerberosHelp(err: unknown): string {
  const m = messageOf(err);
  const l = m.toLowerCase();
  if (l.includes("ora-01017")) {
    return "Kerberos authentication failed - ORA-01017\nPossible causes:\n1. No valid Kerberos ticket (run 'kinit username')\n2. Ticket expired (run 'kinit -R' to renew)\n3. Oracle database not configured for Kerberos\n4. Check 'klist' to verify ticket status";
  }
  if (l.includes("ora-12641")) {
    return "Kerberos authentication failed - ORA-12641\nAuthentication service not initialized\nCheck Oracle sqlnet.ora: AUTHENTICATION_SERVICES=(KERBEROS5)";
  }
  if (l.includes("ora-12649")) {
    return "Kerberos authentication failed - ORA-12649\nUnknown encryption/checksum type\nKerberos encryption type may not be supported by Oracle";
  }
  return `Kerberos connection failed: ${m}`;
}

/** Builds the Oracle driver over an oracledb-compatible module (tests pass a fake). */
export function createOracleDriver(load: () => Promise<OracleDbApi>): Driver {
  let thick: Promise<void> | undefined;
  return {
    dbType: "oracle",
    placeholder: (_ordinal, key) => `:${key}`,
    async connect(req: ConnectRequest): Promise<DriverConnection> {
      if (req.dsn.driver !== "oracle") throw new TypeError("not an Oracle DSN");
      const api = await load();
      if (req.externalAuth) {
        thick ??= Promise.resolve().then(() => {
          if (!api.initOracleClient) throw new Error("this oracledb build has no thick mode");
          api.initOracleClient();
        });
        try {
          await thick;
        } catch (e) {
          thick = undefined;
          throw new Error(
            `Cannot use Kerberos authentication: Oracle thick client initialization failed: ${
              messageOf(e)
            }\n` +
              "Kerberos requires Oracle thick client mode (Oracle Instant Client). Unset KRB5_CONFIG/KRB5CCNAME " +
              "or pass auth_mode 'password' to use password authentication.",
          );
        }
        try {
          return new OracleConnection(
            api,
            await api.getConnection({ connectString: req.dsn.connectString, externalAuth: true }),
          );
        } catch (e) {
          throw new Error(kerberosHelp(e));
        }
      }
      const conn = await api.getConnection({
        user: req.username,
        password: req.password,
        connectString: req.dsn.connectString,
      });
      return new OracleConnection(api, conn);
    },
    errorText(err: unknown): string {
      return messageOf(err).split("\n").filter((l) => !/^Help: https?:/.test(l)).join("\n").trim();
    },
  };
}

/** The production Oracle driver: the real oracledb module, thin mode. */
export const oracleDriver: Driver = createOracleDriver(async () => {
  const mod = await import("oracledb");
  return (mod.default ?? mod) as unknown as OracleDbApi;
});
