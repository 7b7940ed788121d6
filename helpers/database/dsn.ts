/**
 * @module
 * DBI data source names: `dbi:Oracle:…` (TNS alias, easy connect, descriptor, `host:port:sid`,
 * `k=v;k=v`), `dbi:Pg:dbname=…;host=…;port=…` and `dbi:SQLite:dbname=path`, plus the
 * `user@TNS` username form. A DSN without `dbi:` is an Oracle connect string (helpers contract
 * §3.1). Parsing never looks at passwords, and `describeDsn` drops any `password=` part.
 */

/** A parsed DSN. */
export type Dsn =
  | { readonly driver: "oracle"; readonly connectString: string; readonly label: string }
  | {
    readonly driver: "pg";
    readonly host?: string | undefined;
    readonly port?: number | undefined;
    readonly database?: string | undefined;
    readonly options: Readonly<Record<string, string>>;
  }
  | { readonly driver: "sqlite"; readonly path: string };

/** A DSN that cannot be used, with the reason. */
export interface DsnError {
  readonly error: string;
}

/** Splits `k=v;k=v` (keys lower-cased; empty parts ignored). */
function keyValues(s: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const part of s.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    kv[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return kv;
}

/** An Oracle descriptor for host/port/SID (easy connect only knows service names). */
function sidDescriptor(host: string, port: string | number, sid: string): string {
  return `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=${host})(PORT=${port}))(CONNECT_DATA=(SID=${sid})))`;
}

/** The Oracle connect string of the part after `dbi:Oracle:`. */
function oracleConnectString(info: string, tnsFromUser: string | undefined): string | DsnError {
  const s = info.trim();
  if (s === "") {
    if (tnsFromUser) return tnsFromUser;
    return {
      error:
        "Oracle DSN names no database: use dbi:Oracle:TNSNAME, dbi:Oracle:host:port/service or user@TNSNAME",
    };
  }
  if (s.startsWith("(")) return s; // full descriptor
  if (s.includes("=")) {
    const kv = keyValues(s);
    const host = kv.host;
    const port = kv.port ?? "1521";
    if (kv.service_name) return `${host ?? "localhost"}:${port}/${kv.service_name}`;
    if (kv.sid) return host ? sidDescriptor(host, port, kv.sid) : kv.sid; // sid alone: a TNS alias
    if (kv.tns) return kv.tns;
    return { error: `Oracle DSN ${s} needs service_name=, sid= or a TNS name` };
  }
  const hps = /^([^:/()]+):(\d+):([^:/()]+)$/.exec(s);
  if (hps) {
    const [, host = "", port = "", sid = ""] = hps; // three groups that always take part
    return sidDescriptor(host, port, sid);
  }
  return s.replace(/^\/\//, ""); // TNS alias or easy connect host[:port]/service
}

/**
 * Parses a DSN. `username` may carry `@TNS` (Oracle); the returned `username` has it removed.
 */
export function parseDsn(dsn: string, username: string): { dsn: Dsn; username: string } | DsnError {
  let user = username;
  let tnsFromUser: string | undefined;
  const at = user.indexOf("@");
  if (at >= 0) {
    tnsFromUser = user.slice(at + 1);
    user = user.slice(0, at);
  }
  const m = /^dbi:([A-Za-z0-9_]*):?(.*)$/is.exec(dsn.trim());
  if (!m) {
    const cs = oracleConnectString(dsn, tnsFromUser);
    if (typeof cs !== "string") return cs;
    return { dsn: { driver: "oracle", connectString: cs, label: describe(cs) }, username: user };
  }
  const [, name = "", info = ""] = m; // both groups always take part
  const driver = name.toLowerCase();
  if (driver === "oracle" || driver === "ora") {
    const cs = oracleConnectString(info, tnsFromUser);
    if (typeof cs !== "string") return cs;
    return { dsn: { driver: "oracle", connectString: cs, label: describe(cs) }, username: user };
  }
  if (tnsFromUser !== undefined) user = username; // user@x only means TNS for Oracle
  if (driver === "pg" || driver === "pgpp" || driver === "postgres" || driver === "postgresql") {
    const kv = keyValues(info);
    const database = kv.dbname ?? kv.database ?? kv.db;
    const { dbname: _d, database: _db, db: _x, host, port, password: _p, ...options } = kv;
    if (port !== undefined && !/^\d+$/.test(port)) {
      return { error: `Invalid port in Pg DSN: ${port}` };
    }
    return {
      dsn: {
        driver: "pg",
        host: host || undefined,
        port: port ? Number(port) : undefined,
        database,
        options,
      },
      username: user,
    };
  }
  if (driver === "sqlite" || driver === "sqlite3") {
    const kv = info.includes("=") ? keyValues(info) : {};
    const path = kv.dbname ?? kv.database ?? kv.db ?? (info.includes("=") ? "" : info.trim());
    if (!path) return { error: "SQLite DSN names no file: use dbi:SQLite:dbname=/path/to/file.db" };
    return { dsn: { driver: "sqlite", path }, username: user };
  }
  return {
    error: `Unsupported database driver '${name}' in DSN: supported are Oracle, Pg and SQLite`,
  };
}

/** A loggable description of a connect string (no credentials). */
function describe(cs: string): string {
  return cs.replace(/password\s*=\s*[^;)\s]*/gi, "password=***");
}

/** A loggable description of a parsed DSN: driver and target, never credentials. */
export function describeDsn(d: Dsn): string {
  switch (d.driver) {
    case "oracle":
      return `oracle ${d.label}`;
    case "pg":
      return `pg ${d.database ?? "(default db)"}@${d.host ?? "(default host)"}:${d.port ?? 5432}`;
    case "sqlite":
      return `sqlite ${d.path}`;
  }
}
