/**
 * @module
 * libpq 15's error layout as DBD::Pg's errstr shows it: LINE and cursor, connect messages
 * (tests/perl/database_values.t compares end to end).
 */

import assert from "node:assert/strict";
import {
  errorPosition,
  libpqConnectMessage,
  libpqMessage,
} from "../../../helpers/database/pg_errors.ts";

Deno.test("errorPosition() lays out LINE and the cursor as libpq does", () => {
  assert.equal(
    errorPosition(15, "SELECT * FROM nope"),
    "LINE 1: SELECT * FROM nope\n" +
      " ".repeat(22) + "^\n",
  );
  assert.equal(
    errorPosition(13, "SELECT 1,\n  nope_col\nFROM t"),
    "LINE 2:   nope_col\n          ^\n",
  );
  assert.equal(errorPosition(99, "SELECT 1"), "", "a position past the end shows nothing");
  const long = "SELECT " + "x, ".repeat(40) + "bad";
  const shown = errorPosition(long.length - 2, long);
  assert.match(shown, /^LINE 1: \.\.\..*bad\n *\^\n$/);
});

Deno.test("libpqMessage() and libpqConnectMessage() build DBD::Pg's errstr", () => {
  assert.equal(
    libpqMessage({ severity: "ERROR", message: "boom", hint: "h", where: "ctx" }, undefined),
    "ERROR:  boom\nHINT:  h\nCONTEXT:  ctx",
  );
  assert.equal(
    libpqConnectMessage({ code: "ECONNREFUSED" }, { host: "127.0.0.1", port: 1 }),
    'connection to server at "127.0.0.1", port 1 failed: Connection refused\n' +
      "\tIs the server running on that host and accepting TCP/IP connections?",
  );
  assert.equal(
    libpqConnectMessage(
      { severity: "FATAL", message: 'role "x" does not exist' },
      { host: "/tmp/pg", port: 5432 },
    ),
    'connection to server on socket "/tmp/pg/.s.PGSQL.5432" failed: FATAL:  role "x" does not exist',
  );
});
