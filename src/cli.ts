/**
 * @module
 * The command line: `daemon` (foreground), client commands for operators and monitoring
 * (`--health`, `--metrics`, `status`, `call`, `ping`, `cleanup`, `stop`, `dashboard`), process mode,
 * and the drop-in entry points the unchanged `CPANBridge.pm` uses: `<binary> …/cpan_daemon.py`
 * starts a detached daemon, `<binary> "…/cpan_bridge.py"` runs one request from stdin.
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { CONFIG_KEYS, ConfigError, type ConfigKey, loadConfig } from "./config.ts";
import { startDaemon } from "./daemon.ts";
import { foreignDaemon, StartupError } from "./server/socket.ts";
import { callFunction, UnreachableError } from "./client/bridge_client.ts";
import { runProcessMode } from "./process_mode.ts";
import { runDashboard } from "./client/dashboard.ts";
import { healthLine, statusLine } from "./client/format.ts";
import { VERSION } from "./version.ts";
import { BUILD_INFO, SELF_EXTRACTING } from "./build_info.ts";

const USAGE =
  `cpan-bridge ${VERSION}: the CPAN Bridge daemon, its client and process mode in one binary.

Usage:
  cpan-bridge daemon [cpan_daemon.py] [--socket PATH] [--log-dir DIR] [--socket-mode 0600] [--socket-group G] [--http ADDR]
  cpan-bridge --health [--json] [--socket PATH]   exit 0 healthy, 1 degraded, 2 unhealthy, 3 unreachable
  cpan-bridge --metrics [--socket PATH]           system.metrics as JSON
  cpan-bridge status [--socket PATH]              one status line
  cpan-bridge dashboard [--interval N]            the operations dashboard, refreshed every N s
  cpan-bridge call MODULE FUNCTION [JSON]         call any function, print the reply envelope
  cpan-bridge ping | cleanup | stop [--socket PATH]
  cpan-bridge process < request.json              process mode: one request on stdin
  cpan-bridge doctor [--json] [--script-dir DIR]  check this host as CPANBridge.pm will see it; exit 0/1/2
  cpan-bridge report [--output FILE] [--lines N]  an incident report to attach to a ticket (secrets removed)
  cpan-bridge proxy --upstream OLD.sock --capture FILE [--socket PATH]   forward to OLD.sock, capture every exchange
  cpan-bridge replay FILE [--socket PATH] [--all] [--json]               replay a capture here; exit 1 on a difference
  cpan-bridge install [--prefix /usr/local] [--systemd [--user NAME] [--socket PATH]] [--logrotate] [--uninstall]
  cpan-bridge --print-config | --version | --help

Drop-in: with PYTHON_EXECUTABLE pointing at this binary, CPANBridge.pm's
'<PYTHON_EXECUTABLE> …/cpan_daemon.py' starts a detached daemon and
'<PYTHON_EXECUTABLE> …/cpan_bridge.py' runs process mode.

Every setting is also an environment variable; see --print-config.`;

const FLAG_TO_KEY: Record<string, ConfigKey> = {
  socket: "socketPath",
  "log-dir": "logDir",
  "socket-mode": "socketMode",
  "socket-group": "socketGroup",
  http: "httpListen",
  "daemon-log": "daemonLog",
  "security-log": "securityLog",
  "log-format": "logFormat",
};

/** How to run this same program again (deno run … main.ts, or the compiled binary). */
export function selfCommand(): string[] {
  // The self-extracting binary runs an unpacked runtime; its launcher names the binary itself.
  const packed = SELF_EXTRACTING ? Deno.env.get("CPAN_BRIDGE_SELF") : undefined;
  if (packed) return [packed];
  const exe = Deno.execPath();
  if (/\/deno$/.test(exe) && Deno.mainModule.startsWith("file:")) {
    return [
      exe,
      "run",
      "--allow-all",
      "--quiet",
      "--v8-flags=--max-semi-space-size=1",
      decodeURIComponent(new URL(Deno.mainModule).pathname),
    ];
  }
  return [exe];
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
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
    },
  });
}

async function readAllStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

/** Runs the daemon until it stops; returns the exit code. */
async function runDaemon(
  overrides: Partial<Record<ConfigKey, string>>,
  env: Record<string, string>,
): Promise<number> {
  const config = loadConfig(env, overrides);
  const daemon = await startDaemon(config, {
    env,
    handleSignals: true,
    executable: Deno.execPath(),
  });
  let http: { close(): Promise<void> } | undefined;
  if (config.httpListen) {
    const { startMonitorServer } = await import("./http/server.ts");
    http = await startMonitorServer(daemon.context, config.httpListen).catch(async (err) => {
      await daemon.stop(`HTTP monitor could not start: ${err.message}`);
      throw err;
    });
  }
  await daemon.finished;
  await http?.close();
  return 0;
}

/** Re-runs the daemon in its own session with no inherited stdio (contract §12 D4). */
function detach(args: string[]): number {
  const [cmd, ...rest] = selfCommand();
  const setsid = ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  }) ?? "setsid";
  const child = new Deno.Command(setsid, {
    args: [cmd!, ...rest, ...args, "--detached"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { CPAN_BRIDGE_DETACHED: "1" },
  }).spawn();
  child.unref();
  return 0;
}

/**
 * `doctor` and `report` run before the configuration is loaded: a bad setting is one of the
 * things they report, not a reason to stop.
 */
async function runHostCommand(
  command: "doctor" | "report",
  v: ReturnType<typeof parse>["values"],
  env: Record<string, string>,
): Promise<number> {
  const doctor = await import("./client/doctor/mod.ts");
  const scriptDir = v["script-dir"];
  // Flags (--socket, --log-dir…) count as the variables they stand for.
  const withFlags: Record<string, string> = { ...env };
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const val = (v as Record<string, unknown>)[flag];
    if (typeof val === "string") withFlags[CONFIG_KEYS[key].env] = val;
  }
  const host = doctor.realHost(withFlags, {
    ...(scriptDir ? { scriptDir } : {}),
    selfPaths: await doctor.selfPaths(env),
  });
  if (command === "doctor") {
    const findings = await doctor.runDoctor(host);
    console.log(v.json ? JSON.stringify(findings, null, 2) : doctor.formatFindings(findings));
    return doctor.doctorExitCode(findings);
  }
  const report = await import("./client/report/mod.ts");
  const lines = Number(v.lines ?? "200");
  if (!Number.isInteger(lines) || lines < 0) {
    console.error("cpan-bridge: --lines needs a whole number; see cpan-bridge --help");
    return 64;
  }
  const path = v.output ?? report.defaultReportPath();
  try {
    await report.writeReport(path, await report.buildReport({ host, lines }));
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    console.error(`cpan-bridge: Cannot write the report: ${path} exists (choose --output)`);
    return 73;
  }
  console.log(`Report written to ${path}`);
  return 0;
}

/** Entry point: returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const env = Deno.env.toObject();
  // Drop-in entry points: the first argument is the script CPANBridge.pm found.
  const first = argv[0] ?? "";
  if (/cpan_daemon(\.py)?$/.test(first)) {
    if (!argv.includes("--detached") && env.CPAN_BRIDGE_DETACHED !== "1") return detach(argv);
    argv = ["daemon", ...argv.slice(1).filter((a) => a !== "--detached")];
  } else if (/cpan_bridge(\.py)?$/.test(first)) {
    argv = ["process", ...argv.slice(1)];
  }

  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    console.error(
      `cpan-bridge: ${err instanceof Error ? err.message : err}; see cpan-bridge --help`,
    );
    return 64;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (v.version) {
    console.log(
      `cpan-bridge ${VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}; ${BUILD_INFO})`,
    );
    return 0;
  }
  const overrides: Partial<Record<ConfigKey, string>> = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const val = (v as Record<string, unknown>)[flag];
    if (typeof val === "string") overrides[key] = val;
  }
  if (positionals[0] === "doctor" || positionals[0] === "report") {
    return await runHostCommand(positionals[0], v, env);
  }
  let config;
  try {
    config = loadConfig(env, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`cpan-bridge: ${err.message}`);
      return 78;
    }
    throw err;
  }
  if (v["print-config"]) {
    for (const [key, def] of Object.entries(CONFIG_KEYS)) {
      console.log(`${def.env}=${String(config[key as ConfigKey])}\t# ${def.doc}`);
    }
    return 0;
  }
  const socket = config.socketPath;
  const command = v.health ? "health" : v.metrics ? "metrics" : positionals[0] ?? "help";
  // Client commands say whose daemon answers, and refuse another user's unless told.
  if (
    ["health", "metrics", "status", "ping", "cleanup", "stop", "call", "dashboard"].includes(
      command,
    )
  ) {
    const foreign = foreignDaemon(socket, config.allowForeignDaemon);
    if (foreign?.refusal) {
      if (command === "health" && v.json) {
        console.log(JSON.stringify({ overall_status: "unreachable", error: foreign.refusal }));
      } else if (command === "health") console.log(`CPAN-BRIDGE UNKNOWN - ${foreign.refusal}`);
      else console.error(`cpan-bridge: ${foreign.refusal}`);
      return command === "health" ? 3 : 1;
    }
    if (foreign) console.error(`cpan-bridge: the daemon at ${socket} belongs to ${foreign.owner}`);
  }
  try {
    switch (command) {
      case "daemon":
        // An optional label such as `cpan_daemon.py` only shows in `ps`, so the guide's
        // `pgrep -f cpan_daemon` / `pkill -f cpan_daemon.py` find a daemon started this way too.
        if (
          positionals.length > 2 ||
          (positionals[1] !== undefined && !/cpan_daemon/.test(positionals[1]))
        ) {
          console.error(
            "cpan-bridge: daemon takes options only (and an optional cpan_daemon.py label); see --help",
          );
          return 64;
        }
        return await runDaemon(overrides, env);
      case "process": {
        const out = await runProcessMode(
          await readAllStdin(),
          config,
          Number(env.CPAN_BRIDGE_MAX_SIZE) || 10_000_000,
        );
        await Deno.stdout.write(new TextEncoder().encode(out.stdout));
        return out.code;
      }
      case "health": {
        let env0;
        try {
          env0 = await callFunction(socket, "system", "health", {}, 5000);
        } catch (err) {
          if (v.json) {
            console.log(
              JSON.stringify({
                overall_status: "unreachable",
                error: String((err as Error).message),
              }),
            );
          } else console.log(`CPAN-BRIDGE UNKNOWN - unreachable: ${(err as Error).message}`);
          return 3;
        }
        const r = env0.result as Record<string, unknown> | undefined;
        if (env0.success !== true || !r) {
          console.log(`CPAN-BRIDGE UNKNOWN - ${String(env0.error ?? "no result")}`);
          return 3;
        }
        const metrics = await callFunction(socket, "system", "metrics", {}, 5000).catch(() =>
          undefined
        );
        if (v.json) console.log(JSON.stringify(stripShim(r)));
        else console.log(healthLine(r, metrics?.result as Record<string, unknown> | undefined));
        return ({ healthy: 0, degraded: 1, unhealthy: 2 } as Record<string, number>)[
          String(r.overall_status)
        ] ?? 3;
      }
      case "metrics":
      case "status": {
        const env0 = await callFunction(socket, "system", "metrics", {}, 5000);
        if (env0.success !== true) {
          console.error(`cpan-bridge: ${String(env0.error)}`);
          return 1;
        }
        const r = stripShim(env0.result as Record<string, unknown>);
        console.log(command === "metrics" ? JSON.stringify(r, null, 2) : statusLine(r));
        return 0;
      }
      case "ping":
      case "cleanup":
      case "stop": {
        const [m, f] = command === "ping"
          ? ["test", "ping"]
          : ["system", command === "stop" ? "shutdown" : "cleanup"];
        const env0 = await callFunction(socket, m, f, {}, 5000);
        if (env0.success !== true) {
          console.error(`cpan-bridge: ${String(env0.error)}`);
          return 1;
        }
        const r = env0.result as Record<string, unknown>;
        if (command === "ping") {
          console.log(`pong from ${socket} (uptime ${Number(r.uptime).toFixed(1)} s)`);
        } else if (command === "cleanup") {
          console.log(
            `Cleaned ${r.cleaned_connections} stale connections, ${r.remaining_connections} remaining`,
          );
        } else console.log(String(r.message));
        return 0;
      }
      case "call": {
        const [, module, fn, json] = positionals;
        if (!module || !fn) {
          console.error(
            "cpan-bridge: call needs MODULE FUNCTION [JSON params]; see cpan-bridge --help",
          );
          return 64;
        }
        let params: unknown = {};
        if (json !== undefined) {
          try {
            params = JSON.parse(json);
          } catch (err) {
            console.error(`cpan-bridge: Cannot parse params as JSON: ${(err as Error).message}`);
            return 64;
          }
        }
        const env0 = await callFunction(socket, module, fn, params, 600_000);
        console.log(JSON.stringify(env0, null, 2));
        return env0.success === true ? 0 : 1;
      }
      case "dashboard":
        return await runDashboard(
          socket,
          Number(v.interval ?? "5"),
          v.count ? Number(v.count) : undefined,
        );
      case "proxy": {
        if (!v.upstream || !v.capture) {
          console.error(
            "cpan-bridge: proxy needs --upstream SOCKET and --capture FILE; see --help",
          );
          return 64;
        }
        const { startProxy } = await import("./client/capture/proxy.ts");
        const proxy = await startProxy({
          upstream: v.upstream,
          socket,
          capture: v.capture,
          socketMode: config.socketMode,
          log: (m) => console.error(m),
        });
        console.error(`cpan-bridge proxy: ${socket} -> ${v.upstream}, capturing to ${v.capture}`);
        const stopped = Promise.withResolvers<void>();
        for (const sig of ["SIGTERM", "SIGINT"] as const) {
          Deno.addSignalListener(sig, () => stopped.resolve());
        }
        await stopped.promise;
        await proxy.close();
        console.error(`cpan-bridge proxy: stopped after ${proxy.capture.written} exchanges`);
        return 0;
      }
      case "replay": {
        const file = positionals[1];
        if (!file) {
          console.error("cpan-bridge: replay needs a capture FILE; see cpan-bridge --help");
          return 64;
        }
        const { replay, formatReplay } = await import("./client/capture/replay.ts");
        let r;
        try {
          r = await replay(file, socket, { all: v.all === true });
        } catch (err) {
          if (
            !(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.PermissionDenied)
          ) {
            throw err;
          }
          console.error(`cpan-bridge: Cannot read the capture ${file}: ${(err as Error).message}`);
          return 66;
        }
        if (v.json) {
          console.log(JSON.stringify(
            { ...r, byFunction: Object.fromEntries(r.byFunction) },
            null,
            2,
          ));
        } else console.log(formatReplay(r));
        return [...r.byFunction.values()].some((t) => t.different > 0) ? 1 : 0;
      }
      case "install": {
        const { install, uninstall, InstallError } = await import("./client/install/mod.ts");
        const prefix = v.prefix ?? "/usr/local";
        const log = (line: string) => console.log(line);
        const enable = v["no-enable"] ? false : undefined;
        try {
          if (v.uninstall) {
            await uninstall({ prefix, log, ...(enable === undefined ? {} : { enable }) });
            return 0;
          }
          const exe = Deno.execPath();
          const binary = SELF_EXTRACTING
            ? env.CPAN_BRIDGE_SELF
            : /\/deno$/.test(exe)
            ? undefined
            : exe;
          if (!binary) {
            console.error(
              "cpan-bridge: install needs the single binary: build it (deno task build), then run dist/cpan-bridge install",
            );
            return 64;
          }
          await install({
            prefix,
            binary,
            selfExtracting: SELF_EXTRACTING,
            systemd: v.systemd === true,
            logrotate: v.logrotate === true,
            log,
            ...(v["systemd-dir"] ? { systemdDir: v["systemd-dir"] } : {}),
            ...(v["logrotate-dir"] ? { logrotateDir: v["logrotate-dir"] } : {}),
            ...(v.user ? { user: v.user } : {}),
            ...(v.socket ? { socket: v.socket } : {}),
            ...(enable === undefined ? {} : { enable }),
          });
          return 0;
        } catch (err) {
          if (!(err instanceof InstallError) && !(err instanceof Deno.errors.PermissionDenied)) {
            throw err;
          }
          console.error(`cpan-bridge: ${(err as Error).message}`);
          return 1;
        }
      }
      case "help":
        console.log(USAGE);
        return 0;
      default:
        console.error(`cpan-bridge: unknown command '${command}'; see cpan-bridge --help`);
        return 64;
    }
  } catch (err) {
    if (err instanceof UnreachableError) {
      console.error(`cpan-bridge: ${err.message}`);
      return 3;
    }
    if (err instanceof StartupError || err instanceof ConfigError) {
      console.error(`cpan-bridge: ${err.message}`);
      return 1;
    }
    if (err instanceof Error && err.message.startsWith("Cannot open log file")) {
      console.error(
        `cpan-bridge: ${err.message} (set --log-dir or CPAN_BRIDGE_LOG_DIR to a writable directory)`,
      );
      return 1;
    }
    throw err;
  }
}

/** Removes the ops-shim copies (`success`, `result`) from a system.* result for display. */
function stripShim(r: Record<string, unknown>): Record<string, unknown> {
  const { success: _s, result: _r, ...rest } = r;
  return rest;
}
