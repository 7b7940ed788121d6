/**
 * @module
 * PostgreSQL driver on `pg` (imported on first connect), answering as DBD::Pg 3.16 does: values
 * as `pg_values.ts` converts them, binds sent as the Perl string's characters (DBD::Pg upgrades a
 * byte string, so `"Z\xc3\xbcrich"` is stored as the 7 characters it holds), cut at a NUL as
 * libpq's text parameters are, and as raw bytes for bytea binds (`{pg_type => 17}`, `SQL_BLOB`,
 * `SQL_VARBINARY`…). Errors read as libpq prints them. AutoCommit off opens a transaction before
 * the first statement, as DBD::Pg does. Rows of a query are read in full at execute, so execute
 * reports the row count, as DBD::Pg's does.
 */

import { Buffer } from "node:buffer";
import type {
  BoundValue,
  ColumnMeta,
  ConnectRequest,
  Driver,
  DriverConnection,
  DriverResult,
  WireValue,
} from "./driver.ts";
import { bufferedResult, messageOf, SQL_BINARY_TYPES } from "./driver.ts";
import { perlBytes, perlNumberText } from "../types.ts";
import { isServerError, libpqConnectMessage, libpqMessage, type PgTarget } from "./pg_errors.ts";
import { pgWireValue } from "./pg_values.ts";

/** Type names of common OIDs (pg_type.typname, in format_type's spelling). */
const PG_TYPES: Record<number, string> = {
  16: "boolean",
  17: "bytea",
  18: "char",
  19: "name",
  20: "bigint",
  21: "smallint",
  23: "integer",
  25: "text",
  26: "oid",
  114: "json",
  700: "real",
  701: "double precision",
  1042: "character",
  1043: "character varying",
  1082: "date",
  1083: "time without time zone",
  1114: "timestamp without time zone",
  1184: "timestamp with time zone",
  1186: "interval",
  1266: "time with time zone",
  1700: "numeric",
  2950: "uuid",
  3802: "jsonb",
};

/** Text parser that keeps PostgreSQL's text output (no JS Date or number conversion). */
const RAW_TYPES = { getTypeParser: () => (v: string) => v };

/** The pg type DBD::Pg declares for a bind_param SQL_* type (its types table). */
const SQL_TO_PG: Record<number, number> = {
  1: 1042,
  2: 1700,
  3: 1700,
  4: 23,
  5: 21,
  6: 701,
  7: 700,
  8: 701,
  9: 1082,
  11: 1114,
  12: 1043,
  16: 16,
  91: 1082,
  93: 1114,
  [-1]: 25,
  [-5]: 20,
};

/** The SQL text each failed query was sent with (for libpq's LINE display), and connect targets. */
const queryOfError = new WeakMap<object, string>();
const targetOfError = new WeakMap<object, PgTarget>();

/** The parameter type DBD::Pg declares for a bind (0: the server infers it). */
function paramType(b: BoundValue): number {
  if (b.attr?.pgType !== undefined) return b.attr.pgType;
  const t = b.attr?.sqlType;
  if (t === undefined) return 0;
  return SQL_BINARY_TYPES.has(t) ? 17 : SQL_TO_PG[t] ?? 0;
}

/** The value DBD::Pg sends: text up to a NUL, or the raw bytes for a bytea parameter. */
function paramValue(b: BoundValue, type: number): string | Buffer | null {
  const v = b.value;
  if (v === null) return null;
  const text = typeof v === "number" ? perlNumberText(v) : String(v);
  if (type === 17) return Buffer.from(perlBytes(text));
  const nul = text.indexOf("\0");
  return nul < 0 ? text : text.slice(0, nul);
}

/** Connection error codes: admin shutdown, crash, cannot connect now. */
const LOST_CODES = new Set([
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08003",
  "08006",
  "ECONNRESET",
  "EPIPE",
]);

function columnOf(
  f: { name: string; dataTypeID: number; dataTypeSize: number; dataTypeModifier: number },
): ColumnMeta {
  const mod = f.dataTypeModifier;
  let precision: number | null = null;
  let scale: number | null = null;
  let display: number | null = null;
  if (f.dataTypeID === 1700 && mod >= 4) {
    precision = ((mod - 4) >> 16) & 0xffff;
    scale = (mod - 4) & 0xffff;
  } else if ((f.dataTypeID === 1043 || f.dataTypeID === 1042) && mod >= 4) {
    display = mod - 4;
  }
  return {
    name: f.name,
    type: PG_TYPES[f.dataTypeID] ?? `oid ${f.dataTypeID}`,
    type_code: f.dataTypeID,
    display_size: display,
    internal_size: f.dataTypeSize > 0 ? f.dataTypeSize : null,
    precision,
    scale,
    nullable: null,
  };
}

// deno-lint-ignore no-explicit-any
type PgClient = any;

class PgConnection implements DriverConnection {
  #client: PgClient;
  #inTxn = false;
  lost: string | undefined;

  constructor(client: PgClient) {
    this.#client = client;
    // Without these listeners a server-side disconnect would be an unhandled 'error' event.
    client.on("error", (e: unknown) => {
      this.lost ??= messageOf(e);
    });
    client.on("end", () => {
      this.lost ??= "the server closed the connection";
    });
  }

  isConnectionError(err: unknown): boolean {
    const code = (err as { code?: string })?.code;
    if (code && LOST_CODES.has(code)) return true;
    if (/Connection terminated|not queryable|connection error/i.test(messageOf(err))) return true;
    return this.lost !== undefined;
  }

  async execute(
    sql: string,
    binds: readonly BoundValue[],
    opts: { autoCommit: boolean },
  ): Promise<DriverResult> {
    if (!opts.autoCommit && !this.#inTxn) {
      await this.#client.query("BEGIN");
      this.#inTxn = true;
    }
    const types: number[] = [];
    const values: (string | Buffer | null)[] = [];
    for (const b of binds) {
      const type = paramType(b);
      types.push(type);
      values.push(paramValue(b, type));
    }
    let reply;
    try {
      reply = await this.#client.query({
        text: sql,
        values,
        rowMode: "array",
        // pg sends `types` as the Parse message's parameter types and asks it for result parsers.
        types: Object.assign(types, RAW_TYPES),
      });
    } catch (e) {
      if (e && typeof e === "object") queryOfError.set(e, sql);
      throw e;
    }
    // Several statements in one simple query: DBD::Pg (PQexec) reports the last one.
    const res = Array.isArray(reply) ? reply[reply.length - 1] : reply;
    const fields: {
      name: string;
      dataTypeID: number;
      dataTypeSize: number;
      dataTypeModifier: number;
    }[] = res.fields ?? [];
    const isQuery = fields.length > 0;
    const oids = fields.map((f) => f.dataTypeID);
    const rows: WireValue[][] = isQuery
      ? (res.rows as unknown[][]).map((r) => oids.map((oid, i) => pgWireValue(r[i], oid)))
      : [];
    // DBD::Pg's execute and do both return the row count of a query, "0E0" for DDL.
    return bufferedResult(
      isQuery ? fields.map(columnOf) : null,
      isQuery ? rows.length : (res.rowCount ?? 0),
      rows,
      binds,
    );
  }

  async commit(): Promise<void> {
    if (!this.#inTxn) return;
    this.#inTxn = false;
    await this.#client.query("COMMIT");
  }

  async rollback(): Promise<void> {
    if (!this.#inTxn) return;
    this.#inTxn = false;
    await this.#client.query("ROLLBACK");
  }

  async ping(): Promise<void> {
    if (this.lost) throw new Error(this.lost);
    await this.#client.query("SELECT 1");
  }

  async close(): Promise<void> {
    this.lost ??= "closed";
    await this.#client.end().catch(() => {});
  }
}

/** The PostgreSQL driver. */
export const postgresDriver: Driver = {
  dbType: "postgresql",
  placeholder: (ordinal) => `$${ordinal}`,
  async connect(req: ConnectRequest): Promise<DriverConnection> {
    if (req.dsn.driver !== "pg") throw new TypeError("not a Pg DSN");
    const { default: pg } = await import("pg");
    const d = req.dsn;
    const host = d.host ?? (await req.env("PGHOST")) ?? "/var/run/postgresql";
    const port = d.port ?? Number((await req.env("PGPORT")) ?? 5432);
    const client = new pg.Client({
      host,
      port,
      user: req.username || (await req.env("PGUSER")) || (await req.env("USER")) || "postgres",
      password: req.password,
      database: d.database ?? (await req.env("PGDATABASE")) ?? (req.username || undefined),
      keepAlive: true,
      connectionTimeoutMillis: 30_000,
      application_name: d.options.application_name ?? "cpan-bridge",
      types: RAW_TYPES,
    });
    // A failed connect also emits 'error' on some paths; swallow it, the promise carries it.
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (e) {
      const address = client.connection?.stream?.remoteAddress;
      if (e && typeof e === "object") targetOfError.set(e, { host, port, address });
      await client.end().catch(() => {});
      throw e;
    }
    return new PgConnection(client);
  },
  errorText(err: unknown): string {
    if (isServerError(err)) return libpqMessage(err, queryOfError.get(err as object));
    return messageOf(err);
  },
  connectErrorText(err: unknown, req: ConnectRequest): string {
    const t = err && typeof err === "object" ? targetOfError.get(err) : undefined;
    const d = req.dsn.driver === "pg" ? req.dsn : undefined;
    return libpqConnectMessage(err, t ?? { host: d?.host ?? "", port: d?.port ?? 5432 });
  },
};
