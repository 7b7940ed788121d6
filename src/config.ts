/**
 * @module
 * `loadConfig()`, which turns an environment plus command-line overrides into a frozen `Config`
 * by the table `CONFIG_KEYS` (`src/config/keys.ts`, re-exported here), and the one reader of the
 * process environment (`processEnvironment()`, `processEnvVar()`): nothing else in cpan-bridge
 * reads `Deno.env`.
 */

import { CONFIG_KEYS, type KeyDef, type Kind } from "./config/keys.ts";

export { CONFIG_KEYS, type KeyDef } from "./config/keys.ts";

export type ConfigKey = keyof typeof CONFIG_KEYS;

type ValueOf<K extends Kind> = K extends "int" | "float" | "mode" ? number
  : K extends "bool" | "flag" ? boolean
  : string;

/** The daemon's settings, validated and frozen. */
export type Config = {
  readonly [K in ConfigKey]: (typeof CONFIG_KEYS)[K] extends { choices: readonly (infer C)[] } ? C
    : ValueOf<(typeof CONFIG_KEYS)[K]["kind"]>;
};

/** A bad setting: the message names the variable and what it accepts. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function parseValue(key: string, def: KeyDef, raw: string): number | boolean | string {
  const where = `${def.env} (${key})`;
  switch (def.kind) {
    case "string":
      return raw;
    case "int": {
      if (!/^\s*-?\d+\s*$/.test(raw)) {
        throw new ConfigError(
          `Cannot use ${where}=${JSON.stringify(raw)}: expected a whole number`,
        );
      }
      return Number.parseInt(raw, 10);
    }
    case "float": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) {
        throw new ConfigError(`Cannot use ${where}=${JSON.stringify(raw)}: expected a number`);
      }
      return n;
    }
    case "mode": {
      if (!/^[0-7]{3,4}$/.test(raw.trim())) {
        throw new ConfigError(
          `Cannot use ${where}=${JSON.stringify(raw)}: expected an octal mode such as 0600`,
        );
      }
      return Number.parseInt(raw.trim(), 8);
    }
    case "bool": {
      const v = raw.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(v)) return true;
      if (["0", "false", "no", "off", ""].includes(v)) return false;
      throw new ConfigError(`Cannot use ${where}=${JSON.stringify(raw)}: expected 1 or 0`);
    }
    case "flag":
      return raw === "1";
    case "enum": {
      if (!def.choices?.includes(raw)) {
        throw new ConfigError(
          `Cannot use ${where}=${JSON.stringify(raw)}: expected one of ${def.choices?.join(", ")}`,
        );
      }
      return raw;
    }
  }
}

/**
 * Builds the configuration from an environment and explicit overrides (command-line flags).
 * An empty environment value means the default, as `CPANBridge.pm` treats `CPAN_BRIDGE_SOCKET`.
 *
 * @throws {ConfigError} when a value does not parse
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  overrides: Partial<Record<ConfigKey, string>> = {},
): Config {
  const out: Record<string, number | boolean | string> = {};
  for (const [key, def] of Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef][]) {
    const fromEnv = env[def.env];
    const raw = overrides[key] ?? (fromEnv === undefined || fromEnv === "" ? def.default : fromEnv);
    out[key] = parseValue(key, def, raw);
  }
  if ((out.maxRequestSize as number) < 2) {
    throw new ConfigError("Cannot use CPAN_BRIDGE_MAX_REQUEST_SIZE below 2 bytes");
  }
  if ((out.maxConnections as number) < 1) {
    throw new ConfigError("Cannot use CPAN_BRIDGE_MAX_CONNECTIONS below 1");
  }
  return Object.freeze(out) as Config;
}

/** The settings an operator sets: every key of {@link CONFIG_KEYS} not marked `internal`. */
export function operatorKeys(): Array<[ConfigKey, KeyDef]> {
  return (Object.entries(CONFIG_KEYS) as [ConfigKey, KeyDef][]).filter(([, def]) => !def.internal);
}

/**
 * One setting alone, for the few places that need it before (or without) the whole
 * configuration; a bad value of another key does not matter here.
 *
 * @throws {ConfigError} when this key's value does not parse
 */
export function readSetting<K extends ConfigKey>(
  env: Readonly<Record<string, string | undefined>>,
  key: K,
): Config[K] {
  const def: KeyDef = CONFIG_KEYS[key];
  const fromEnv = env[def.env];
  const raw = fromEnv === undefined || fromEnv === "" ? def.default : fromEnv;
  return parseValue(key, def, raw) as Config[K];
}

/** The log directory of contract §7.1: `$TMPDIR`, `$TEMP`, `$TMP`, else `/tmp`. */
export function defaultLogDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.TMPDIR || env.TEMP || env.TMP || "/tmp";
}

/** The daemon's own environment. This module is the one place that reads `Deno.env`. */
export function processEnvironment(): Record<string, string> {
  return Deno.env.toObject();
}

/** One variable of the daemon's own environment (see {@link processEnvironment}). */
export function processEnvVar(name: string): string | undefined {
  return Deno.env.get(name);
}
