/**
 * @module
 * cpan-bridge: the CPAN Bridge daemon, its operations client and process mode, in one program.
 * See README.md.
 *
 * `--version` and `--health` (the commands a monitor runs every minute) are answered by small
 * modules in `src/client/fast/`; everything else loads the whole command line (`src/cli.ts`). In
 * the single binary the rest of the program is a chunk that these two never evaluate, so they
 * start in about the runtime's own start-up time (docs/binary.md).
 */

import { fastCommand } from "./src/client/fast/args.ts";

/** Runs the command line `argv`; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const fast = fastCommand(argv);
  if (fast?.kind === "version") {
    const { versionLine } = await import("./src/client/fast/version.ts");
    // deno-lint-ignore no-console
    console.log(versionLine());
    return 0;
  }
  if (fast?.kind === "health") {
    const { runHealth } = await import("./src/client/fast/health.ts");
    return await runHealth(fast);
  }
  const { runCli } = await import("./src/cli.ts");
  return await runCli(argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
