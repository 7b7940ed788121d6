/**
 * @module
 * What a command of the command line is: a row of `COMMANDS` (`src/cli.ts`) with its name, the
 * words and flag that select it, its lines of `--help`, and a handler that gets the parsed
 * arguments (and the configuration, loaded once) and returns the exit code. `OPTIONS` is every
 * option `parseArgs` accepts.
 */

import type { parseArgs } from "node:util";
import type { Config, ConfigKey } from "../../config.ts";

/** Every option of every command (`parseArgs` with `strict: true`). */
export const OPTIONS = {
  socket: { type: "string" },
  "log-dir": { type: "string" },
  "socket-mode": { type: "string" },
  "socket-group": { type: "string" },
  http: { type: "string" },
  "daemon-log": { type: "string" },
  "security-log": { type: "string" },
  "log-format": { type: "string" },
  health: { type: "boolean" },
  metrics: { type: "boolean" },
  json: { type: "boolean" },
  interval: { type: "string" },
  count: { type: "string" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
  "print-config": { type: "boolean" },
  detached: { type: "boolean" },
  "script-dir": { type: "string" },
  output: { type: "string", short: "o" },
  lines: { type: "string" },
  upstream: { type: "string" },
  capture: { type: "string" },
  all: { type: "boolean" },
  prefix: { type: "string" },
  systemd: { type: "boolean" },
  "systemd-dir": { type: "string" },
  user: { type: "string" },
  logrotate: { type: "boolean" },
  "logrotate-dir": { type: "string" },
  "no-enable": { type: "boolean" },
  uninstall: { type: "boolean" },
} as const;

/** The parsed options. */
export type CliValues = ReturnType<
  typeof parseArgs<
    { args: string[]; allowPositionals: true; strict: true; options: typeof OPTIONS }
  >
>["values"];

/** Options that stand for a setting (`--socket` for `CPAN_BRIDGE_SOCKET`, …). */
export const FLAG_TO_KEY = {
  socket: "socketPath",
  "log-dir": "logDir",
  "socket-mode": "socketMode",
  "socket-group": "socketGroup",
  http: "httpListen",
  "daemon-log": "daemonLog",
  "security-log": "securityLog",
  "log-format": "logFormat",
} as const satisfies Partial<Record<keyof typeof OPTIONS, ConfigKey>>;

/** Settings given on the command line, as raw text (they win over the environment). */
export type Overrides = Partial<Record<ConfigKey, string>>;

/** Where a command's lines go: the console, or a test's arrays. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** What every handler gets. */
export interface CommandInput {
  /** Standard output and standard error, one line per call. */
  readonly io: Output;
  readonly values: CliValues;
  /** The positional arguments, the command's word first. */
  readonly positionals: readonly string[];
  /** The process environment, read once (`processEnvironment()`). */
  readonly env: Readonly<Record<string, string>>;
  readonly overrides: Overrides;
}

/** What the handler of a command that needs the configuration gets. */
export interface ConfiguredInput extends CommandInput {
  readonly config: Config;
}

interface CommandBase {
  /** The command's name (in messages and tests). */
  readonly name: string;
  /** Positional words that select it; default: its name. Flag-only commands have none. */
  readonly words?: readonly string[];
  /** The boolean option that selects it (`--health`…), if any. */
  readonly flag?: "health" | "metrics" | "print-config" | "version" | "help";
  /** Its lines of `--help` (after "  cpan-bridge "); one line may cover several commands. */
  readonly usage?: readonly string[];
  /** Talks to the daemon at the socket: another user's daemon is refused unless allowed. */
  readonly client?: true;
  /**
   * Runs before the configuration is loaded, when its word selects it: a bad setting is one of
   * the things it reports, not a reason to stop (`doctor`, `report`).
   */
  readonly early?: true;
}

/** A command whose handler does not read the configuration (`doctor`, `report`, `help`…). */
export interface PlainCommand extends CommandBase {
  readonly config: false;
  run(input: CommandInput): Promise<number>;
}

/** A command that runs with the configuration. */
export interface ConfiguredCommand extends CommandBase {
  readonly config: true;
  run(input: ConfiguredInput): Promise<number>;
}

/** One row of the command table. */
export type Command = PlainCommand | ConfiguredCommand;
