/**
 * @module
 * How this program was built. `scripts/build_binary.sh` rewrites this file's value in the copy
 * it packs into the single binary; a checkout reports "run from source".
 */

export const BUILD_INFO = "run from source";
