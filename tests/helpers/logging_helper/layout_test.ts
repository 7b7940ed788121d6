/**
 * @module
 * Log4perl's PatternLayout and level names, as the `logging_helper` renders them.
 */

import assert from "node:assert/strict";
import { formatDate, levelName, renderPattern } from "../../../helpers/logging_helper/layout.ts";
import type { LogEvent } from "../../../helpers/logging_helper/layout.ts";

const EVENT: LogEvent = {
  category: "App.Db",
  level: "WARN",
  message: "disk 95%",
  time: new Date(2024, 0, 5, 7, 8, 9, 12),
  filename: "job.pl",
  line: 42,
  package: "My::Pkg",
  pid: 4242,
  hostname: "box",
  elapsedMs: 1500,
};

Deno.test("renderPattern() implements Log4perl's PatternLayout", () => {
  assert.equal(renderPattern("%d %p %m%n", EVENT), "2024/01/05 07:08:09 WARN disk 95%\n");
  assert.equal(
    renderPattern("[%-5p] [%5p] %.2p|%c{1}|%C{1}|%F:%L|%P|%H|%r|%%|%x", EVENT),
    "[WARN ] [ WARN] WA|Db|Pkg|job.pl:42|4242|box|1500|%|%x",
  );
  assert.equal(
    renderPattern("%d{EEE yyyy/MM/dd HH:mm:ss}|%m", EVENT),
    "Fri 2024/01/05 07:08:09|disk 95%",
  );
  assert.equal(renderPattern("%d{ISO8601}", EVENT), "2024-01-05 07:08:09,012");
  assert.equal(formatDate("dd MMM yy h:mm a 'at' EEEE", EVENT.time), "05 Jan 24 7:08 AM at Friday");
});

Deno.test("levelName() accepts Log4perl and Python names", () => {
  assert.equal(levelName("warn"), "WARN");
  assert.equal(levelName("WARNING"), "WARN");
  assert.equal(levelName("critical"), "FATAL");
  assert.equal(levelName(40000), "ERROR");
  assert.equal(levelName("LOUD"), undefined);
});
