/**
 * @module
 * Calling a helper's functions directly in unit tests: `helperFn()` looks one up by wire name and
 * fails the test with the name when the helper has none (instead of a TypeError on `undefined`).
 */

import type { HelperDefinition, HelperFunction } from "../../helpers/types.ts";

/** The function `name` of `helper`; throws when the helper does not define it. */
export function helperFn(helper: HelperDefinition, name: string): HelperFunction {
  const fn = helper.functions[name];
  if (!fn) throw new Error(`helper ${helper.name} has no function ${name}`);
  return fn;
}
