/**
 * @module
 * PostgreSQL driver on `pg` (imported on first connect). Values come back as PostgreSQL's text
 * output, as DBD::Pg returns them (dates in the session's DateStyle, numerics exact), except
 * booleans, which DBD::Pg turns into 1/0. AutoCommit off opens a transaction before the first
 * statement, as DBD::Pg does. Rows of a query are read in full at execute.
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
import { bufferedResult, hexOf, messageOf } from "./driver.ts";

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

function wireOf(v: unknown, oid: number): WireValue {
  if (v === null || v === undefined) return null;
  if (oid === 16) return v === "t" ? "1" : "0";
  if (oid === 17 && typeof v === "string" && v.startsWith("\\x")) return v.slice(2).toUpperCase();
  if (v instanceof Uint8Array) return hexOf(v);
  return typeof v === "string" ? v : String(v);
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
    const res = await this.#client.query({
      text: sql,
      values: binds.map((b) => b.value),
      rowMode: "array",
      types: RAW_TYPES,
    });
    const fields: {
      name: string;
      dataTypeID: number;
      dataTypeSize: number;
      dataTypeModifier: number;
    }[] = res.fields ?? [];
    const isQuery = fields.length > 0;
    const oids = fields.map((f) => f.dataTypeID);
    const rows: WireValue[][] = isQuery
      ? (res.rows as unknown[][]).map((r) => r.map((v, i) => wireOf(v, oids[i])))
      : [];
    return bufferedResult(
      isQuery ? fields.map(columnOf) : null,
      isQuery ? 0 : (res.rowCount ?? 0),
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
      await client.end().catch(() => {});
      throw e;
    }
    return new PgConnection(client);
  },
  errorText(err: unknown): string {
    const e = err as { severity?: string; message?: string; code?: string };
    if (e && typeof e === "object" && e.severity && e.message) {
      return `${e.severity}:  ${e.message}`;
    }
    return messageOf(err);
  },
};
