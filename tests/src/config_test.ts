/**
 * Tests of `loadConfig()` and the `CONFIG_KEYS` table, called directly: every key's default and
 * variable, each kind's parsing, the clear error of a bad value, overrides, and the one-key and
 * listing helpers.
 */

import assert from "node:assert/strict";
import {
  CONFIG_KEYS,
  ConfigError,
  type ConfigKey,
  defaultLogDir,
  type KeyDef,
  loadConfig,
  operatorKeys,
  processEnvironment,
  processEnvVar,
  readSetting,
} from "../../src/config.ts";

const ENTRIES = Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef][];

/** A valid value of `def` other than its default, and what it parses to. */
function sample(def: KeyDef): [string, unknown] {
  switch (def.kind) {
    case "string":
      return ["/srv/x", "/srv/x"];
    case "int":
      return [String(Number(def.default) + 7), Number(def.default) + 7];
    case "float":
      return [String(Number(def.default) + 0.5), Number(def.default) + 0.5];
    case "mode":
      return ["0660", 0o660];
    case "bool":
      return def.default === "1" ? ["off", false] : ["yes", true];
    case "flag":
      return ["1", true];
    case "enum": {
      const other = def.choices?.find((c) => c !== def.default) ?? def.default;
      return [other, other];
    }
  }
}

Deno.test("loadConfig() with an empty environment gives every key its documented default", () => {
  const c = loadConfig({});
  assert.equal(c.socketPath, "/tmp/cpan_bridge.sock");
  assert.equal(c.socketMode, 0o600);
  assert.equal(c.socketGroup, "");
  assert.equal(c.logFormat, "text");
  assert.equal(c.logMaxBytes, 52_428_800);
  assert.equal(c.logCompress, false);
  assert.equal(c.maxConnections, 100);
  assert.equal(c.connectionWait, 30);
  assert.equal(c.maxRequestSize, 10_485_760);
  assert.equal(c.maxCpuPercent, 200);
  assert.equal(c.strictValidation, true);
  assert.equal(c.encoding, "repair");
  assert.equal(c.allowShutdown, "owner");
  assert.equal(c.healthErrorRateCrit, 0.1);
  assert.equal(c.allowForeignDaemon, false);
  assert.equal(c.selfBinary, "");
  assert.equal(c.detached, false);
  for (const [key, def] of ENTRIES) {
    assert.deepEqual(c[key], readSetting({}, key), `${key} (${def.env})`);
  }
});

Deno.test("loadConfig() reads each key from its own variable", () => {
  for (const [key, def] of ENTRIES) {
    const [raw, value] = sample(def);
    const c = loadConfig({ [def.env]: raw });
    assert.deepEqual(c[key], value, `${def.env}=${raw}`);
    // Only that key moved.
    const others = ENTRIES.filter(([k]) => k !== key).map(([k]) => [k, c[k]]);
    const defaults = ENTRIES.filter(([k]) => k !== key).map(([k]) => [k, loadConfig({})[k]]);
    assert.deepEqual(others, defaults, def.env);
  }
});

Deno.test("loadConfig() takes an empty value as the default, as CPANBridge.pm does", () => {
  const env = Object.fromEntries(ENTRIES.map(([, def]) => [def.env, ""]));
  assert.deepEqual(loadConfig(env), loadConfig({}));
});

Deno.test("loadConfig() lets command-line overrides win over the environment", () => {
  const c = loadConfig(
    { CPAN_BRIDGE_SOCKET: "/env.sock", CPAN_BRIDGE_LOG_FORMAT: "text" },
    { socketPath: "/flag.sock", logFormat: "json" },
  );
  assert.equal(c.socketPath, "/flag.sock");
  assert.equal(c.logFormat, "json");
  assert.throws(
    () => loadConfig({}, { socketMode: "rw" }),
    new ConfigError(
      'Cannot use CPAN_BRIDGE_SOCKET_MODE (socketMode)="rw": expected an octal mode such as 0600',
    ),
  );
});

Deno.test("loadConfig() refuses a bad value with a message naming the variable and what it accepts", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [
      { CPAN_BRIDGE_LOG_KEEP: "five" },
      'CPAN_BRIDGE_LOG_KEEP (logKeep)="five": expected a whole number',
    ],
    [
      { CPAN_BRIDGE_LOG_KEEP: "1.5" },
      'CPAN_BRIDGE_LOG_KEEP (logKeep)="1.5": expected a whole number',
    ],
    [
      { CPAN_BRIDGE_READ_TIMEOUT: "soon" },
      'CPAN_BRIDGE_READ_TIMEOUT (readTimeout)="soon": expected a number',
    ],
    [
      { CPAN_BRIDGE_READ_TIMEOUT: "Infinity" },
      'CPAN_BRIDGE_READ_TIMEOUT (readTimeout)="Infinity": expected a number',
    ],
    [
      { CPAN_BRIDGE_READ_TIMEOUT: "  " },
      'CPAN_BRIDGE_READ_TIMEOUT (readTimeout)="  ": expected a number',
    ],
    [
      { CPAN_BRIDGE_SOCKET_MODE: "0999" },
      'CPAN_BRIDGE_SOCKET_MODE (socketMode)="0999": expected an octal mode such as 0600',
    ],
    [
      { CPAN_BRIDGE_LOG_COMPRESS: "maybe" },
      'CPAN_BRIDGE_LOG_COMPRESS (logCompress)="maybe": expected 1 or 0',
    ],
    [
      { CPAN_BRIDGE_LOG_FORMAT: "xml" },
      'CPAN_BRIDGE_LOG_FORMAT (logFormat)="xml": expected one of text, json',
    ],
    [
      { CPAN_BRIDGE_ALLOW_SHUTDOWN: "Owner" },
      'CPAN_BRIDGE_ALLOW_SHUTDOWN (allowShutdown)="Owner": expected one of owner, always, never',
    ],
  ];
  for (const [env, text] of cases) {
    assert.throws(() => loadConfig(env), new ConfigError(`Cannot use ${text}`), text);
  }
  assert.throws(
    () => loadConfig({ CPAN_BRIDGE_MAX_REQUEST_SIZE: "1" }),
    new ConfigError("Cannot use CPAN_BRIDGE_MAX_REQUEST_SIZE below 2 bytes"),
  );
  assert.throws(
    () => loadConfig({ CPAN_BRIDGE_MAX_CONNECTIONS: "0" }),
    new ConfigError("Cannot use CPAN_BRIDGE_MAX_CONNECTIONS below 1"),
  );
});

Deno.test("loadConfig() reads whole numbers, modes and booleans in their accepted spellings", () => {
  assert.equal(loadConfig({ CPAN_BRIDGE_LOG_KEEP: " 3 " }).logKeep, 3);
  assert.equal(loadConfig({ CPAN_BRIDGE_DEBUG: "-1" }).debug, -1);
  assert.equal(loadConfig({ CPAN_BRIDGE_SOCKET_MODE: "770" }).socketMode, 0o770);
  assert.equal(loadConfig({ CPAN_BRIDGE_SOCKET_MODE: " 0640 " }).socketMode, 0o640);
  assert.equal(loadConfig({ CPAN_BRIDGE_READ_TIMEOUT: "1e1" }).readTimeout, 10);
  for (const v of ["1", "true", "YES", " on "]) {
    assert.equal(loadConfig({ CPAN_BRIDGE_LOG_COMPRESS: v }).logCompress, true, v);
  }
  for (const v of ["0", "false", "No", "OFF"]) {
    assert.equal(loadConfig({ CPAN_BRIDGE_STRICT_VALIDATION: v }).strictValidation, false, v);
  }
});

Deno.test("loadConfig() reads the internal flag CPAN_BRIDGE_DETACHED as true only for 1, never an error", () => {
  assert.equal(loadConfig({ CPAN_BRIDGE_DETACHED: "1" }).detached, true);
  for (const v of ["0", "true", "yes", " 1", "anything"]) {
    assert.equal(loadConfig({ CPAN_BRIDGE_DETACHED: v }).detached, false, v);
  }
});

Deno.test("loadConfig() returns a frozen object", () => {
  const c = loadConfig({});
  assert.ok(Object.isFrozen(c));
  assert.throws(() => {
    (c as { socketPath: string }).socketPath = "/elsewhere";
  }, TypeError);
});

Deno.test("readSetting() parses one key and ignores bad values of the others", () => {
  const env = { CPAN_BRIDGE_SELF: "/opt/cpan-bridge", CPAN_BRIDGE_LOG_KEEP: "many" };
  assert.equal(readSetting(env, "selfBinary"), "/opt/cpan-bridge");
  assert.equal(readSetting(env, "detached"), false);
  assert.throws(() => readSetting(env, "logKeep"), ConfigError);
});

Deno.test("CONFIG_KEYS names each variable once, documents it, and lists the internal keys last", () => {
  const names = ENTRIES.map(([, def]) => def.env);
  assert.equal(new Set(names).size, names.length);
  for (const [key, def] of ENTRIES) {
    assert.match(def.env, /^CPAN_BRIDGE_[A-Z_]+$/, key);
    assert.ok(def.doc.length > 10, key);
    assert.ok(def.kind !== "enum" || def.choices?.includes(def.default), key);
  }
  const internal = ENTRIES.filter(([, def]) => def.internal).map(([key]) => key);
  assert.deepEqual(internal, ["selfBinary", "detached"]);
  assert.deepEqual(ENTRIES.slice(-internal.length).map(([key]) => key), internal);
  assert.deepEqual(
    operatorKeys().map(([key]) => key),
    ENTRIES.filter(([, def]) => !def.internal).map(([key]) => key),
  );
  for (const [key] of ENTRIES.filter(([, def]) => def.internal)) {
    assert.match(CONFIG_KEYS[key].doc, /^internal: /);
  }
});

Deno.test("defaultLogDir() takes TMPDIR, TEMP, TMP, then /tmp", () => {
  assert.equal(defaultLogDir({ TMPDIR: "/a", TEMP: "/b", TMP: "/c" }), "/a");
  assert.equal(defaultLogDir({ TEMP: "/b", TMP: "/c" }), "/b");
  assert.equal(defaultLogDir({ TMPDIR: "", TMP: "/c" }), "/c");
  assert.equal(defaultLogDir({}), "/tmp");
});

Deno.test("processEnvironment() and processEnvVar() read this process's environment", () => {
  const env = processEnvironment();
  assert.equal(typeof env.PATH, "string");
  assert.equal(processEnvVar("PATH"), env.PATH);
  assert.equal(processEnvVar("CPAN_BRIDGE_CONFIG_TEST_UNSET_VARIABLE"), undefined);
});
