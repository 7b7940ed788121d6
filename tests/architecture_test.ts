/**
 * The layers of docs/architecture.md, checked: which part of `src/` may import which. A rule
 * names a part (a directory or file under src/) and the parts it must not import; the test reads
 * every relative import (static and dynamic) of every source file.
 */

import { ok } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** The part of the tree a path belongs to: `src/wire/`, `src/cli.ts`, `helpers/`, … */
function part(path: string): string {
  const m = /^(src\/[^/]+\/|src\/[^/]+\.ts|helpers\/|main\.ts)/.exec(path);
  return m?.[1] ?? path;
}

const DAEMON = ["src/daemon.ts", "src/daemon/", "src/janitor.ts"];
const CLIENT = ["src/cli.ts", "src/client/"];
const ABOVE_OPS = ["src/server/", "src/protocol/", "src/builtins/", "src/host/", "src/http/"];

/** part → the parts it must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  "src/wire/": [...ABOVE_OPS, "src/ops/", "src/log/", "src/config.ts", ...DAEMON, ...CLIENT],
  "src/sdk/": [...ABOVE_OPS, "src/ops/", "src/log/", "src/wire/", ...DAEMON, ...CLIENT],
  "src/ops/": [...ABOVE_OPS, ...DAEMON, ...CLIENT],
  "src/log/": [...ABOVE_OPS, "src/ops/", ...DAEMON, ...CLIENT],
  "src/host/": [
    "src/server/",
    "src/protocol/",
    "src/builtins/",
    "src/http/",
    "src/ops/",
    ...DAEMON,
    ...CLIENT,
  ],
  "src/protocol/": ["src/server/", "src/http/", ...DAEMON, ...CLIENT],
  "src/builtins/": ["src/server/", "src/http/", ...DAEMON, ...CLIENT],
  "src/server/": ["src/host/", "src/http/", ...DAEMON, ...CLIENT],
  "src/http/": ["src/host/", "src/server/", ...DAEMON, ...CLIENT],
  "src/helper_runtime.ts": [...ABOVE_OPS, "src/ops/", ...DAEMON, ...CLIENT],
  "src/daemon.ts": CLIENT,
  "src/daemon/": CLIENT,
  "src/janitor.ts": [...ABOVE_OPS, "src/ops/", "src/log/", ...CLIENT],
};

async function* sources(dir: URL, rel: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* sources(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
    else if (e.name.endsWith(".ts")) yield `${rel}${e.name}`;
  }
}

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

Deno.test("src/ parts import only the layers docs/architecture.md allows", async () => {
  const offenders: string[] = [];
  let files = 0;
  for await (const file of sources(new URL("src/", ROOT), "src/")) {
    files++;
    const rule = FORBIDDEN[part(file)] ?? [];
    const text = await Deno.readTextFile(new URL(file, ROOT));
    for (const m of text.matchAll(/(?:from|import\(?)\s*"(\.\.?\/[^"]+)"/g)) {
      const target = part(resolve(file, m[1] ?? ""));
      if (rule.includes(target)) offenders.push(`${file} imports ${target}`);
    }
  }
  ok(files > 50, `read ${files} files`);
  ok(offenders.length === 0, offenders.join("\n"));
});

Deno.test("part() files a path under the layer it belongs to", () => {
  ok(part("src/wire/framing.ts") === "src/wire/");
  ok(part("src/cli.ts") === "src/cli.ts");
  ok(part("helpers/ftp_helper/mod.ts") === "helpers/");
  ok(resolve("src/log/safe_open.ts", "../server/socket.ts") === "src/server/socket.ts");
});
