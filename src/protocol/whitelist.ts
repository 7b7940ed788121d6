/**
 * @module
 * The module/function whitelist: every helper in the registry (helpers/registry.ts) with its
 * functions and the names the Python daemon allowed that this build does not serve (contract
 * §5.6, answered "not implemented in this version" instead of "not allowed"), under its name and
 * aliases, plus the built-ins. The Python list and the calls the unchanged Perl wrappers make
 * (contract §5.6b, helpers contract §2.1) are all served.
 *
 * DEFECT-FIX: the Python whitelist rejected XMLHelper, XPathHelper, LogHelper, MailHelper and parts
 * of ExcelHelper, which then ran in process mode without their state (contract §12 V3).
 */

import { REGISTRY } from "../../helpers/registry.ts";

/** The built-in pseudo-modules' functions (contract §4). */
export const BUILTIN_WHITELIST: Readonly<Record<"test" | "system", readonly string[]>> = {
  test: ["ping", "health", "stats", "echo", "check_module"],
  system: [
    "info",
    "shutdown",
    "health",
    "stats",
    "performance",
    "connections",
    "cleanup",
    "metrics",
    "validation_stats",
  ],
};

/** Wire module → allowed functions: the registry's helpers, then the built-ins. */
function registryWhitelist(): Map<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>();
  for (const e of REGISTRY) {
    const fns = new Set([...e.functions, ...e.notBuilt]);
    for (const name of [e.name, ...e.aliases]) out.set(name, fns);
  }
  for (const [m, fs] of Object.entries(BUILTIN_WHITELIST)) out.set(m, new Set(fs));
  return out;
}

/** The whitelist of this build, from the registry alone (no helper loaded). */
export const WHITELIST: ReadonlyMap<string, ReadonlySet<string>> = registryWhitelist();

/**
 * The effective whitelist (a new map): {@linkcode WHITELIST} plus the functions of `extra`
 * helpers outside the registry (test-only helpers a host reports), wire module → function names.
 */
export function buildWhitelist(
  extra: Iterable<readonly [string, readonly string[]]> = [],
): Map<string, ReadonlySet<string>> {
  const out = new Map(WHITELIST);
  for (const [m, fs] of extra) {
    const known = out.get(m);
    if (known && fs.every((f) => known.has(f))) continue;
    out.set(m, new Set([...(known ?? []), ...fs]));
  }
  return out;
}
