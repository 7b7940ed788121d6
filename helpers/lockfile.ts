/**
 * @module
 * Compatibility path for helpers/manifest.ts (generated; it still imports "./lockfile.ts" until
 * `deno task manifest` is re-run): the helper lives in helpers/lockfile/.
 */

export * from "./lockfile/mod.ts";
export { default } from "./lockfile/mod.ts";
