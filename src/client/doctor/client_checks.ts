/**
 * @module
 * Doctor checks of how the unchanged `CPANBridge.pm` v2.00 would find its files and start a
 * daemon (daemon contract §1.1, §2.7): the `cpan_bridge.py` and `cpan_daemon.py` it searches for,
 * the interpreter it would run them with, and whether that start reaches this binary.
 */

import { type Check, fail, type Finding, ok, warn } from "./types.ts";

/** The client's search order for `name` (contract §1.1). */
export function scriptCandidates(
  name: "cpan_bridge.py" | "cpan_daemon.py",
  env: Readonly<Record<string, string>>,
  bin: string,
  cwd: string,
): string[] {
  const first = name === "cpan_bridge.py" ? env.CPAN_BRIDGE_SCRIPT : env.CPAN_BRIDGE_DAEMON_SCRIPT;
  const list = [
    `${bin}/python_helpers/${name}`,
    `${bin}/../python_helpers/${name}`,
    `${bin}/${name}`,
    `/opt/controlm/scripts/python_helpers/${name}`,
    `/usr/local/scripts/python_helpers/${name}`,
    `${cwd}/python_helpers/${name}`,
  ];
  return first ? [first, ...list] : list;
}

async function isReadableFile(path: string): Promise<boolean> {
  try {
    if (!(await Deno.stat(path)).isFile) return false;
    (await Deno.open(path, { read: true })).close();
    return true;
  } catch {
    return false;
  }
}

async function firstFound(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) if (await isReadableFile(p)) return p;
  return undefined;
}

/** The `cpan_bridge.py` the client insists on, and the `cpan_daemon.py` auto-start runs. */
export const scriptsCheck: Check = {
  name: "scripts",
  async run(host) {
    const out: Finding[] = [];
    const bridge = scriptCandidates("cpan_bridge.py", host.env, host.scriptDir, host.cwd);
    const b = await firstFound(bridge);
    out.push(
      b ? ok("scripts", `cpan_bridge.py found at ${b}`) : fail(
        "scripts",
        `no readable cpan_bridge.py: CPANBridge->new() croaks "Cannot find cpan_bridge.py script" (searched ${bridge.length} places)`,
        `touch ${host.scriptDir}/python_helpers/cpan_bridge.py (an empty file is enough) or export CPAN_BRIDGE_SCRIPT=/path/to/any/readable/file`,
      ),
    );
    const daemon = scriptCandidates("cpan_daemon.py", host.env, host.scriptDir, host.cwd);
    const d = await firstFound(daemon);
    out.push(
      d ? ok("scripts", `cpan_daemon.py found at ${d}`) : warn(
        "scripts",
        "no readable cpan_daemon.py: the client cannot start a daemon and falls back to process mode (one process per call)",
        `touch ${host.scriptDir}/python_helpers/cpan_daemon.py, or start the daemon as a service (cpan-bridge daemon)`,
      ),
    );
    return out;
  },
};

const UNIX_CANDIDATES = [
  "python3",
  "python",
  "/usr/bin/python3",
  "/usr/bin/python",
  "/usr/local/bin/python3",
  "/usr/local/bin/python",
];

/** Resolves a command name on PATH the way `which` does; absolute paths must be executable. */
async function which(name: string, path: string): Promise<string | undefined> {
  const dirs = name.includes("/") ? [""] : path.split(":").filter((d) => d !== "");
  for (const d of dirs) {
    const p = d === "" ? name : `${d}/${name}`;
    try {
      const st = await Deno.stat(p);
      if (st.isFile && ((st.mode ?? 0) & 0o111) !== 0) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** The interpreter `_get_python_executable` picks, and whether it is this program. */
export const launcherCheck: Check = {
  name: "launcher",
  async run(host) {
    const given = host.env.PYTHON_EXECUTABLE;
    let exe: string | undefined;
    let how: string;
    if (given) {
      exe = (await which(given, host.env.PATH ?? "")) ?? given;
      how = `PYTHON_EXECUTABLE=${given}`;
    } else {
      for (const c of UNIX_CANDIDATES) {
        exe = await which(c, host.env.PATH ?? "");
        if (exe) break;
      }
      how = "no PYTHON_EXECUTABLE; first python on PATH";
    }
    if (!exe) {
      return [warn(
        "launcher",
        'no interpreter: auto-start dies with "No Python executable found"',
        `export PYTHON_EXECUTABLE=${host.selfPaths[0] ?? "/usr/local/bin/cpan-bridge"}`,
      )];
    }
    let real = exe;
    try {
      real = await Deno.realPath(exe);
    } catch {
      return [fail(
        "launcher",
        `${how}: ${exe} does not exist, so every auto-start fails`,
        `export PYTHON_EXECUTABLE=${host.selfPaths[0] ?? "/usr/local/bin/cpan-bridge"}`,
      )];
    }
    if (host.selfPaths.includes(real)) {
      return [ok("launcher", `${how}: ${exe} is this cpan-bridge; auto-start reaches it`)];
    }
    return [warn(
      "launcher",
      `${how}: ${exe} is not cpan-bridge; an auto-started daemon would be the Python one`,
      `export PYTHON_EXECUTABLE=${host.selfPaths[0] ?? "/usr/local/bin/cpan-bridge"}`,
    )];
  },
};
