/**
 * @module
 * Log4perl configuration: levels and appenders inherited up the category tree.
 */

import assert from "node:assert/strict";
import { parseProperties, resolve } from "../../../helpers/logging_helper/config.ts";

Deno.test("resolve() inherits levels and appenders up the category tree", () => {
  const p = parseProperties(`
    # comment
    log4perl.rootLogger = ERROR, Screen
    log4perl.logger.App = INFO, F
    log4perl.appender.Screen = Log::Log4perl::Appender::Screen
    log4perl.appender.Screen.stderr = 0
    log4perl.appender.F = Log::Log4perl::Appender::File
    log4perl.appender.F.filename = app.log
    log4perl.appender.F.layout = PatternLayout
    log4perl.appender.F.layout.ConversionPattern = %p \\
       %m%n
  `);
  const r = resolve(p, "App::Db::Query");
  assert.ok(typeof r === "object");
  assert.equal(r.level, "INFO");
  assert.deepEqual(r.appenders.map((a) => a.name), ["F", "Screen"]);
  assert.deepEqual(r.appenders[0], {
    kind: "file",
    name: "F",
    filename: "app.log",
    mode: "append",
    pattern: "%p %m%n",
    utf8: false,
  });
  assert.deepEqual(r.appenders[1], {
    kind: "screen",
    name: "Screen",
    stderr: false,
    pattern: "%p - %m%n",
    utf8: false,
    autoflush: false,
    chomp: false,
  });
  const other = resolve(p, "Other");
  assert.ok(typeof other === "object" && other.level === "ERROR");
  p.set("log4perl.additivity.App", "0");
  const alone = resolve(p, "App");
  assert.ok(typeof alone === "object" && alone.appenders.length === 1);
  p.set("log4perl.logger.X", "DEBUG, Nope");
  assert.match(String(resolve(p, "X")), /Appender Nope is not defined/);
});
