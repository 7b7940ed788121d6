import assert from "node:assert/strict";

const HELPERS = new URL("../../helpers/", import.meta.url);

async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* sources(new URL(`${e.name}/`, dir));
    else if (e.name.endsWith(".ts")) yield new URL(e.name, dir);
  }
}

Deno.test("helpers import src/ only through the helper SDK (helpers/types.ts)", async () => {
  const offenders: string[] = [];
  let files = 0;
  for await (const f of sources(HELPERS)) {
    files++;
    if (f.pathname.endsWith("/helpers/types.ts")) continue;
    const text = await Deno.readTextFile(f);
    for (const m of text.matchAll(/from "((?:\.\.\/)+src\/[^"]+)"/g)) {
      offenders.push(`${f.pathname.replace(HELPERS.pathname, "helpers/")}: ${m[1]}`);
    }
  }
  assert.ok(files > 40, `only ${files} helper files found`);
  assert.deepEqual(offenders, []);
});

Deno.test("src/ imports helpers only through helpers/registry.ts (and the SDK types)", async () => {
  const SRC = new URL("../../src/", import.meta.url);
  const offenders: string[] = [];
  let files = 0;
  for await (const f of sources(SRC)) {
    files++;
    const text = await Deno.readTextFile(f);
    for (const m of text.matchAll(/(?:from |import\()"((?:\.\.\/)+helpers\/[^"]+)"/g)) {
      const target = m[1] ?? "";
      if (/\/helpers\/(registry|types)\.ts$/.test(target)) continue;
      offenders.push(`${f.pathname.replace(SRC.pathname, "src/")}: ${target}`);
    }
  }
  assert.ok(files > 40, `only ${files} source files found`);
  assert.deepEqual(offenders, []);
});
