/**
 * @module
 * cpan-bridge: the CPAN Bridge daemon, its operations client and process mode, in one program.
 * See README.md.
 *
 * `--version` and `--health` (the commands a monitor runs every minute) are answered by small
 * modules in `src/client/fast/`; everything else loads the whole command line (`src/cli.ts`).
 * Deno loads every module that an import names with a literal, dynamic imports included, before
 * it runs the entry, so these three are named at run time (`ENTRIES`): a command reads and
 * compiles only the modules it runs. `scripts/build_binary.sh` bundles each of them as an entry
 * point of its own and points `ENTRIES` at the bundled names (docs/binary.md).
 */

import { fastCommand } from "./src/client/fast/args.ts";

/** The modules this entry loads, relative to it (rewritten by scripts/build_binary.sh). */
const ENTRIES = {
  cli: "./src/cli.ts",
  version: "./src/client/fast/version.ts",
  health: "./src/client/fast/health.ts",
} as const;

/** Imports one of {@link ENTRIES}; the specifier is computed, so Deno loads it only now. */
function load(entry: keyof typeof ENTRIES): Promise<unknown> {
  return import(new URL(ENTRIES[entry], import.meta.url).href);
}

/** Runs the command line `argv`; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const fast = fastCommand(argv);
  if (fast?.kind === "version") {
    const { versionLine } = await load("version") as typeof import("./src/client/fast/version.ts");
    // deno-lint-ignore no-console
    console.log(versionLine());
    return 0;
  }
  if (fast?.kind === "health") {
    const { runHealth } = await load("health") as typeof import("./src/client/fast/health.ts");
    return await runHealth(fast);
  }
  const { runCli } = await load("cli") as typeof import("./src/cli.ts");
  return await runCli(argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
