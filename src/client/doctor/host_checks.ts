/**
 * @module
 * Doctor checks of the host: the log directory (writable, free space), the descriptor limit
 * against the connection limit, and where the single binary unpacks its runtime.
 */

import { statfs } from "node:fs/promises";
import { defaultLogDir } from "../../config.ts";
import { SELF_EXTRACTING } from "../../build_info.ts";
import { type Check, fail, type Finding, ok, warn } from "./types.ts";

const MIN_FREE = 200 * 1024 * 1024;
const UNPACK_FIX = "set CPAN_BRIDGE_CACHE_DIR to a directory of your own with room";

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(0)} MiB`;
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

/** Creates and removes a file in `dir`; the error text when that fails. */
async function writeProbe(dir: string): Promise<string | undefined> {
  try {
    const f = await Deno.makeTempFile({ dir, prefix: ".cpan-bridge-doctor-" });
    await Deno.remove(f);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function dirFindings(check: string, what: string, dir: string): Promise<Finding[]> {
  const why = await writeProbe(dir);
  if (why !== undefined) {
    return [fail(
      check,
      `${what} ${dir} is not writable: ${why}`,
      check === "logs"
        ? "create it or set CPAN_BRIDGE_LOG_DIR (--log-dir) to a writable directory"
        : UNPACK_FIX,
    )];
  }
  const free = await freeBytes(dir);
  if (free !== undefined && free < MIN_FREE) {
    return [warn(
      check,
      `${what} ${dir}: only ${mib(free)} free`,
      `free space there (at least ${mib(MIN_FREE)}) or move it elsewhere`,
    )];
  }
  return [
    ok(check, `${what} ${dir} is writable${free === undefined ? "" : `, ${mib(free)} free`}`),
  ];
}

export const logsCheck: Check = {
  name: "logs",
  run(host) {
    const dir = host.config.logDir || defaultLogDir(host.env);
    return dirFindings("logs", "log directory", dir);
  },
};

/** The soft RLIMIT_NOFILE of `pid` from `<proc>/<pid>/limits`. */
async function openFilesLimit(procDir: string, pid: string): Promise<number | undefined> {
  try {
    const text = await Deno.readTextFile(`${procDir}/${pid}/limits`);
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (!m) return undefined;
    return m[1] === "unlimited" ? Infinity : Number(m[1]);
  } catch {
    return undefined;
  }
}

export const descriptorsCheck: Check = {
  name: "descriptors",
  async run(host) {
    const limit = await openFilesLimit(host.procDir, "self");
    if (limit === undefined) return [];
    const max = host.config.maxConnections;
    // Each connection holds one descriptor; helpers (DB, FTP, SSH sessions) and logs need more.
    const need = max + 64;
    if (limit < need) {
      return [warn(
        "descriptors",
        `open-file limit ${limit} is below what CPAN_BRIDGE_MAX_CONNECTIONS=${max} needs (about ${need})`,
        `raise it (ulimit -n ${
          need * 2
        }, or LimitNOFILE= in the systemd unit) or lower CPAN_BRIDGE_MAX_CONNECTIONS`,
      )];
    }
    return [ok("descriptors", `open-file limit ${limit} for ${max} connections`)];
  },
};

/** The launcher's cache directory order (docs/binary.md). */
export function unpackDir(env: Readonly<Record<string, string>>): string | undefined {
  if (env.CPAN_BRIDGE_CACHE_DIR) return env.CPAN_BRIDGE_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/cpan-bridge`;
  if (env.HOME) return `${env.HOME}/.cache/cpan-bridge`;
  return undefined;
}

export const unpackCheck: Check = {
  name: "unpack",
  async run(host) {
    if (!SELF_EXTRACTING && !host.env.CPAN_BRIDGE_CACHE_DIR) {
      return [ok("unpack", "not a self-extracting build: nothing is unpacked")];
    }
    const dir = unpackDir(host.env);
    if (!dir) {
      return [fail(
        "unpack",
        "no HOME, XDG_CACHE_HOME or CPAN_BRIDGE_CACHE_DIR: the binary has nowhere to unpack",
        UNPACK_FIX,
      )];
    }
    // The launcher creates the directory: check the nearest existing ancestor.
    let parent = dir;
    for (let i = 0; i < 64; i++) {
      const st = await Deno.stat(parent).catch(() => undefined);
      if (st?.isDirectory) break;
      if (st) {
        return [
          fail("unpack", `unpack directory ${dir}: ${parent} is not a directory`, UNPACK_FIX),
        ];
      }
      parent = parent.replace(/\/[^/]*$/, "") || "/";
    }
    return dirFindings("unpack", "unpack directory", parent);
  },
};
