/**
 * @module
 * cpan-bridge: the CPAN Bridge daemon, its operations client and process mode, in one program.
 * See README.md.
 */

import { runCli } from "./src/cli.ts";

if (import.meta.main) Deno.exit(await runCli(Deno.args));
