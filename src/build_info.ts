/**
 * @module
 * How this program was built. `scripts/build_binary.sh` rewrites these values in the copy it
 * packs into the single binary; a checkout reports "run from source".
 */

/** Shown by `--version`: how the binary was built (route, runtime, commit, date). */
export const BUILD_INFO = "run from source";

/**
 * True in the self-extracting binary, whose launcher runs an unpacked Deno runtime and names
 * the binary itself in `CPAN_BRIDGE_SELF` (see docs/binary.md).
 */
export const SELF_EXTRACTING: boolean = false;
