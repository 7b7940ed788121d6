/**
 * @module
 * `commandInput(args, env)`: what `runCli` hands a command's handler, built from a command line
 * the same way, with the lines the handler writes kept in arrays.
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../../../../src/config.ts";
import {
  type ConfiguredInput,
  FLAG_TO_KEY,
  OPTIONS,
  type Overrides,
} from "../../../../src/client/commands/types.ts";

/** A handler's input plus what it wrote. */
export interface CapturedInput extends ConfiguredInput {
  readonly stdout: string[];
  readonly stderr: string[];
}

/** The input of the command line `args` under `env` (the configuration loaded from both). */
export function commandInput(args: string[], env: Record<string, string> = {}): CapturedInput {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  const overrides: Overrides = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const val = values[flag as keyof typeof FLAG_TO_KEY];
    if (typeof val === "string") overrides[key] = val;
  }
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    io: { out: (l) => stdout.push(l), err: (l) => stderr.push(l) },
    values,
    positionals,
    env,
    overrides,
    config: loadConfig(env, overrides),
    stdout,
    stderr,
  };
}
