/**
 * @module
 * The command line: parses the arguments, picks a row of `COMMANDS` and runs its handler (the
 * handlers live in `src/client/commands/`), then turns the errors every command shares into exit
 * codes. `--help` is written from the same table. The drop-in entry points the unchanged
 * `CPANBridge.pm` uses are rewritten first: `<binary> …/cpan_daemon.py` starts a detached daemon,
 * `<binary> "…/cpan_bridge.py"` runs one request from stdin.
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import {
  type Config,
  ConfigError,
  loadConfig,
  operatorKeys,
  processEnvironment,
} from "./config.ts";
import { StartupError } from "./errors.ts";
import { foreignDaemon } from "./server/socket.ts";
import { UnreachableError } from "./client/bridge_client.ts";
import { versionLine } from "./client/fast/version.ts";
import { LogOpenError } from "./log/file_sink.ts";
import { VERSION } from "./version.ts";
import * as calls from "./client/commands/daemon_calls.ts";
import { proxy, replay } from "./client/commands/capture.ts";
import { daemon, detach, isDetached } from "./client/commands/daemon.ts";
import { doctor, report } from "./client/commands/host.ts";
import { install } from "./client/commands/install.ts";
import { processMode } from "./client/commands/process.ts";
import {
  type CliValues,
  type Command,
  type CommandInput,
  type ConfiguredInput,
  FLAG_TO_KEY,
  OPTIONS,
  type Output,
  type Overrides,
} from "./client/commands/types.ts";

export { selfCommand } from "./client/commands/daemon.ts";

/** The console, where `runCli` writes. */
const CONSOLE: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** `--help`. */
function help({ io }: CommandInput): Promise<number> {
  io.out(usage());
  return Promise.resolve(0);
}

/** `--version`. */
function version({ io }: CommandInput): Promise<number> {
  io.out(versionLine());
  return Promise.resolve(0);
}

/** `--print-config`: every operator setting, its value and its meaning (internal keys left out). */
function printConfig({ io, config }: ConfiguredInput): Promise<number> {
  for (const [key, def] of operatorKeys()) {
    io.out(`${def.env}=${String(config[key])}\t# ${def.doc}`);
  }
  return Promise.resolve(0);
}

/** Every command, in the order of `--help`. */
export const COMMANDS: readonly Command[] = [
  {
    name: "daemon",
    usage: [
      "daemon [cpan_daemon.py] [--socket PATH] [--log-dir DIR] [--socket-mode 0600] [--socket-group G] [--http ADDR]",
    ],
    config: true,
    run: daemon,
  },
  {
    name: "health",
    flag: "health",
    usage: [
      "--health [--json] [--socket PATH]   exit 0 healthy, 1 degraded, 2 unhealthy, 3 unreachable",
    ],
    client: true,
    config: true,
    run: calls.health,
  },
  {
    name: "metrics",
    flag: "metrics",
    usage: ["--metrics [--socket PATH]           system.metrics as JSON"],
    client: true,
    config: true,
    run: calls.metrics,
  },
  {
    name: "status",
    usage: ["status [--socket PATH]              one status line"],
    client: true,
    config: true,
    run: calls.status,
  },
  {
    name: "dashboard",
    usage: ["dashboard [--interval N]            the operations dashboard, refreshed every N s"],
    client: true,
    config: true,
    run: calls.dashboard,
  },
  {
    name: "call",
    usage: ["call MODULE FUNCTION [JSON]         call any function, print the reply envelope"],
    client: true,
    config: true,
    run: calls.call,
  },
  {
    name: "ping",
    usage: ["ping | cleanup | stop [--socket PATH]"],
    client: true,
    config: true,
    run: calls.ping,
  },
  { name: "cleanup", client: true, config: true, run: calls.cleanup },
  { name: "stop", client: true, config: true, run: calls.stop },
  {
    name: "process",
    usage: ["process < request.json              process mode: one request on stdin"],
    config: true,
    run: processMode,
  },
  {
    name: "doctor",
    usage: [
      "doctor [--json] [--script-dir DIR]  check this host as CPANBridge.pm will see it; exit 0/1/2",
    ],
    early: true,
    config: false,
    run: doctor,
  },
  {
    name: "report",
    usage: [
      "report [--output FILE] [--lines N]  an incident report to attach to a ticket (secrets removed)",
    ],
    early: true,
    config: false,
    run: report,
  },
  {
    name: "proxy",
    usage: [
      "proxy --upstream OLD.sock --capture FILE [--socket PATH]   forward to OLD.sock, capture every exchange",
    ],
    config: true,
    run: proxy,
  },
  {
    name: "replay",
    usage: [
      "replay FILE [--socket PATH] [--all] [--json]               replay a capture here; exit 1 on a difference",
    ],
    config: true,
    run: replay,
  },
  {
    name: "install",
    usage: [
      "install [--prefix /usr/local] [--systemd [--user NAME] [--socket PATH]] [--logrotate] [--uninstall]",
    ],
    config: true,
    run: install,
  },
  {
    name: "print-config",
    words: [],
    flag: "print-config",
    usage: ["--print-config | --version | --help"],
    config: true,
    run: printConfig,
  },
  { name: "version", words: [], flag: "version", config: false, run: version },
  { name: "help", flag: "help", config: false, run: help },
];

/** The `--help` text: the usage lines of {@link COMMANDS}, in order. */
export function usage(): string {
  const lines = COMMANDS.flatMap((c) => c.usage ?? []).map((l) => `  cpan-bridge ${l}`);
  return `cpan-bridge ${VERSION}: the CPAN Bridge daemon, its client and process mode in one binary.

Usage:
${lines.join("\n")}

Drop-in: with PYTHON_EXECUTABLE pointing at this binary, CPANBridge.pm's
'<PYTHON_EXECUTABLE> …/cpan_daemon.py' starts a detached daemon and
'<PYTHON_EXECUTABLE> …/cpan_bridge.py' runs process mode.

Every setting is also an environment variable; see --print-config.`;
}

function byName(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function byWord(word: string): Command | undefined {
  return COMMANDS.find((c) => (c.words ?? [c.name]).includes(word));
}

function byFlag(values: CliValues, flags: readonly NonNullable<Command["flag"]>[]) {
  const set = flags.find((f) => values[f] === true);
  return set === undefined ? undefined : COMMANDS.find((c) => c.flag === set);
}

/**
 * Which command runs, and whether the configuration is loaded first. `--help` and `--version`
 * answer before anything is read; then a word naming an `early` command (`doctor`, `report`);
 * then, with the configuration loaded, `--print-config`, `--health`, `--metrics`, the first
 * word (default: help). An unknown word is undefined, after the configuration was checked.
 */
function select(values: CliValues, word: string | undefined) {
  const first = byFlag(values, ["help", "version"]);
  if (first) return { command: first, load: false };
  const early = word === undefined ? undefined : byWord(word);
  if (early?.early) return { command: early, load: false };
  const flagged = byFlag(values, ["print-config", "health", "metrics"]);
  return { command: flagged ?? (word === undefined ? byName("help") : early), load: true };
}

/** The drop-in forms, as the commands they stand for; undefined once a detached start is made. */
function dropIn(argv: string[], env: Readonly<Record<string, string>>): string[] | undefined {
  const first = argv[0] ?? "";
  if (/cpan_daemon(\.py)?$/.test(first)) {
    if (!isDetached(argv, env)) {
      detach(argv, env);
      return undefined;
    }
    return ["daemon", ...argv.slice(1).filter((a) => a !== "--detached")];
  }
  if (/cpan_bridge(\.py)?$/.test(first)) return ["process", ...argv.slice(1)];
  return argv;
}

/** Says whose daemon answers, and refuses another user's unless allowed; an exit code if refused. */
function refuseForeign(command: Command, values: CliValues, config: Config): number | undefined {
  const socket = config.socketPath;
  const foreign = foreignDaemon(socket, config.allowForeignDaemon);
  if (foreign?.refusal) {
    if (command.name !== "health") console.error(`cpan-bridge: ${foreign.refusal}`);
    else if (values.json) {
      console.log(JSON.stringify({ overall_status: "unreachable", error: foreign.refusal }));
    } else console.log(`CPAN-BRIDGE UNKNOWN - ${foreign.refusal}`);
    return command.name === "health" ? 3 : 1;
  }
  if (foreign) console.error(`cpan-bridge: the daemon at ${socket} belongs to ${foreign.owner}`);
  return undefined;
}

/** The exit code of an error every command may meet; rethrows the others (bugs). */
function exitCodeOf(err: unknown): number {
  if (err instanceof UnreachableError) {
    console.error(`cpan-bridge: ${err.message}`);
    return 3;
  }
  if (err instanceof StartupError || err instanceof ConfigError) {
    console.error(`cpan-bridge: ${err.message}`);
    return 1;
  }
  if (err instanceof LogOpenError) {
    console.error(
      `cpan-bridge: ${err.message} (set --log-dir or CPAN_BRIDGE_LOG_DIR to a writable directory)`,
    );
    return 1;
  }
  throw err;
}

/** Runs one command line; returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const env = processEnvironment();
  const args = dropIn(argv, env);
  if (!args) return 0;
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    console.error(
      `cpan-bridge: ${err instanceof Error ? err.message : err}; see cpan-bridge --help`,
    );
    return 64;
  }
  const { values, positionals } = parsed;
  const overrides: Overrides = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const val = values[flag as keyof typeof FLAG_TO_KEY];
    if (typeof val === "string") overrides[key] = val;
  }
  const input: CommandInput = { io: CONSOLE, values, positionals, env, overrides };
  const { command, load } = select(values, positionals[0]);
  if (command && !load && !command.config) return await command.run(input);

  let config;
  try {
    config = loadConfig(env, overrides);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`cpan-bridge: ${err.message}`);
    return 78;
  }
  if (!command) {
    console.error(`cpan-bridge: unknown command '${positionals[0]}'; see cpan-bridge --help`);
    return 64;
  }
  if (command.client) {
    const refused = refuseForeign(command, values, config);
    if (refused !== undefined) return refused;
  }
  try {
    return command.config ? await command.run({ ...input, config }) : await command.run(input);
  } catch (err) {
    return exitCodeOf(err);
  }
}
