/**
 * @module
 * Which command lines `main.ts` answers from a small module instead of loading the whole CLI:
 * `--version` (or `-v`) alone, and `--health` with `--json` and `--socket PATH` in any order.
 * Every other form goes to `runCli` in `src/cli.ts`, including each one whose parse might differ
 * there: a repeated flag, a positional, an empty value or one that looks like an option, any other
 * flag, and a first argument that names a drop-in script (`…/cpan_daemon.py`, `…/cpan_bridge.py`).
 * So a command line taken here means what it means to `runCli`, and one not taken loses nothing.
 */

/** A command line the small entry answers. */
export type FastCommand =
  | { readonly kind: "version" }
  | { readonly kind: "health"; readonly json: boolean; readonly socket?: string };

/** `runCli` dispatches on these before it parses anything (src/cli.ts). */
const DROP_IN = [/cpan_daemon(\.py)?$/, /cpan_bridge(\.py)?$/];

/** `--socket`'s value, as `parseArgs` takes it, or undefined when the form is not plain. */
function plainValue(value: string | undefined): string | undefined {
  return value === undefined || value === "" || value.startsWith("-") ? undefined : value;
}

/** The command that `argv` asks for, when the small entry answers it; otherwise undefined. */
export function fastCommand(argv: readonly string[]): FastCommand | undefined {
  const first = argv[0];
  if (first === undefined || DROP_IN.some((re) => re.test(first))) return undefined;
  if (argv.length === 1 && (first === "--version" || first === "-v")) return { kind: "version" };
  let health = false, json = false;
  let socket: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--health" && !health) health = true;
    else if (arg === "--json" && !json) json = true;
    else if (socket === undefined && (arg === "--socket" || arg.startsWith("--socket="))) {
      socket = plainValue(arg === "--socket" ? argv[++i] : arg.slice("--socket=".length));
      if (socket === undefined) return undefined;
    } else return undefined;
  }
  if (!health) return undefined;
  return socket === undefined ? { kind: "health", json } : { kind: "health", json, socket };
}
