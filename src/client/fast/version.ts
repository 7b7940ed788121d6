/**
 * @module
 * The `--version` line: cpan-bridge's version, the runtime's, and how this copy was built.
 */

import { BUILD_INFO } from "../../build_info.ts";
import { VERSION } from "../../version.ts";

/** `cpan-bridge 0.1.0 (Deno …, V8 …, TypeScript …; <build info>)`. */
export function versionLine(): string {
  return `cpan-bridge ${VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript}; ${BUILD_INFO})`;
}
