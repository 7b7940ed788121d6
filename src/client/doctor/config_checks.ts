/**
 * @module
 * Doctor check of the environment: every `CPAN_BRIDGE_*` variable that neither the daemon, the
 * v2.00 client nor the binary's launcher knows (a typo, named with its likely meaning), and known
 * ones whose value the daemon would refuse.
 */

import { CONFIG_KEYS, ConfigError, loadConfig } from "../../config.ts";
import { type Check, fail, type Finding, ok, warn } from "./types.ts";

/**
 * Variables read by CPANBridge.pm v2.00 (contract §9.2, §9.3), and by process mode
 * (`CPAN_BRIDGE_MAX_SIZE`). The launcher's and the detached daemon's own variables
 * (`CPAN_BRIDGE_SELF`, `CPAN_BRIDGE_DETACHED`) are internal keys of `CONFIG_KEYS`.
 */
const CLIENT_VARS = [
  "CPAN_BRIDGE_DAEMON",
  "CPAN_BRIDGE_FALLBACK",
  "CPAN_BRIDGE_DAEMON_TIMEOUT",
  "CPAN_BRIDGE_STARTUP_TIMEOUT",
  "CPAN_BRIDGE_DAEMON_SCRIPT",
  "CPAN_BRIDGE_SCRIPT",
  "CPAN_BRIDGE_MAX_SIZE",
  "CPAN_BRIDGE_CACHE_DIR",
];

/** Every variable name cpan-bridge or the client reads. */
export function knownVariables(): Set<string> {
  return new Set([...Object.values(CONFIG_KEYS).map((d) => d.env), ...CLIENT_VARS]);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known name nearest to `name`, when it is close enough to be a typo. */
export function nearestVariable(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 6)) ? best : undefined;
}

export const configCheck: Check = {
  name: "config",
  run(host) {
    const out: Finding[] = [];
    const known = knownVariables();
    const names = Object.keys(host.env).filter((k) => k.startsWith("CPAN_BRIDGE_")).sort();
    for (const name of names) {
      if (!known.has(name)) {
        const near = nearestVariable(name, known);
        out.push(warn(
          "config",
          `${name} is not a variable cpan-bridge or the client reads${
            near ? ` (did you mean ${near}?)` : ""
          }`,
          near
            ? `rename it to ${near}`
            : "remove it; cpan-bridge --print-config lists every setting",
        ));
        continue;
      }
      try {
        loadConfig({ [name]: host.env[name] });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        out.push(fail(
          "config",
          err.message,
          "fix the value; the daemon refuses to start with it (cpan-bridge --print-config shows the defaults)",
        ));
      }
    }
    if (out.length === 0) {
      out.push(ok("config", `${names.length} CPAN_BRIDGE_* variable(s) set, all known and valid`));
    }
    return Promise.resolve(out);
  },
};
