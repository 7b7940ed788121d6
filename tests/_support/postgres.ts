/**
 * @module
 * A throwaway PostgreSQL 15 (Debian) for tests: `initdb` into a temporary directory owned by the
 * `postgres` user (initdb refuses root), `pg_ctl start` on a loopback high port plus a Unix socket
 * in the same directory, a password-authenticated test role and database, and `stop()` that kills
 * the server and removes the directory. Also runnable as a script, so the Perl tests can start the
 * same server: `deno run -A tests/_support/postgres.ts` prints one JSON line with the connection
 * details and runs until stdin closes.
 */

const BIN = "/usr/lib/postgresql/15/bin";

/** The test role and its password (valid only for this throwaway cluster). */
export const PG_USER = "cbtest";
export const PG_PASS = "cb-pg-test-pw";
export const PG_DB = "cbtest";

/** A running PostgreSQL. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** Directory holding the Unix socket `.s.PGSQL.<port>`. */
  readonly socketDir: string;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** `dbi:Pg:dbname=…;host=127.0.0.1;port=…` */
  readonly dsn: string;
  /** Runs SQL as the superuser over the Unix socket (psql), returning its stdout. */
  psql(sql: string): Promise<string>;
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}${text}`,
    );
  }
  return text;
}

/** Runs a command as the postgres user. */
function asPostgres(cmd: string, args: string[], cwd: string): Promise<string> {
  return run("runuser", ["-u", "postgres", "--", cmd, ...args], { cwd });
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts a fresh cluster; throws with the server log when it does not come up. */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await Deno.makeTempDir({ prefix: "cb_pg_" });
  const pw = (await run("id", ["-u", "postgres"])).trim();
  const gid = (await run("id", ["-g", "postgres"])).trim();
  await Deno.chown(dir, Number(pw), Number(gid));
  const data = `${dir}/data`;
  const port = freePort();
  const log = `${dir}/server.log`;
  try {
    await asPostgres(`${BIN}/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ], dir);
    await asPostgres(`${BIN}/pg_ctl`, [
      "-D",
      data,
      "-l",
      log,
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=120`,
      "start",
    ], dir);
  } catch (e) {
    const tail = await Deno.readTextFile(log).catch(() => "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${tail}`);
  }
  const psql = (sql: string, db = "postgres") =>
    asPostgres(`${BIN}/psql`, [
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      db,
      "-XAtq",
      "-v",
      "ON_ERROR_STOP=1",
      "-c",
      sql,
    ], dir);
  await psql(`CREATE ROLE ${PG_USER} LOGIN SUPERUSER PASSWORD '${PG_PASS}'`);
  await psql(`CREATE DATABASE ${PG_DB} OWNER ${PG_USER}`);
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    socketDir: dir,
    user: PG_USER,
    password: PG_PASS,
    database: PG_DB,
    dsn: `dbi:Pg:dbname=${PG_DB};host=127.0.0.1;port=${port}`,
    psql: (sql: string) => psql(sql, PG_DB),
    async stop() {
      if (stopped) return;
      stopped = true;
      await asPostgres(`${BIN}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"], dir).catch(
        () => {},
      );
      await Deno.remove(dir, { recursive: true });
    },
  };
}

if (import.meta.main) {
  const pg = await startPostgres();
  const info = {
    host: pg.host,
    port: pg.port,
    socket_dir: pg.socketDir,
    user: pg.user,
    password: pg.password,
    database: pg.database,
    dsn: pg.dsn,
  };
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(info) + "\n"));
  // Runs until the parent closes stdin (or exits).
  for await (const _ of Deno.stdin.readable) { /* drain */ }
  await pg.stop();
}
