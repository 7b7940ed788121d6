/**
 * @module
 * Replaces the staged program's `node_modules` (about 50 MB, 6,000 files) with one bundled file
 * per npm package that the program imports at run time (about 5 MB, a few dozen files), for the
 * self-extracting binary (docs/binary.md):
 *
 *   deno run --allow-all scripts/build/bundle_npm.ts --esbuild PATH --deno PATH STAGE
 *
 * STAGE holds `main.ts`, `src/`, `helpers/`, `deno.json` and the `node_modules` that
 * `deno install` laid out. The packages bundled are the `npm:` entries of `deno.json` `imports`
 * that a source file imports (`from "x"`, `import("x")`); packages used only by tests are left
 * out. Each becomes `node_modules/<name>/` with a `package.json` (same name and version, so
 * Deno's `--node-modules-dir=manual` resolution of `npm:<name>@<version>` still matches) and
 * one file bundled by esbuild with its dependencies, Node built-ins left as imports:
 *
 * - a CommonJS package stays CommonJS (`index.cjs`), so Deno runs it exactly as before (its
 *   `require`, `__dirname`, Node globals); the names Deno found on it before bundling are
 *   declared at the end (`if (0) { exports.x = 0; }`) so that Deno's export analysis offers the
 *   same named imports;
 * - an ES module package stays an ES module (`index.mjs`).
 *
 * Native add-ons (`*.node`) stay external: they were never built (`deno install` runs no
 * scripts), so their optional `require` fails as it did before. The licence files of every
 * package that went into a bundle are kept under `node_modules/<name>/licenses/<package>/`.
 */

// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";

interface Meta {
  inputs: Record<string, { format?: string }>;
  outputs: Record<string, { entryPoint?: string }>;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(["default", "__esModule", "module.exports"]);

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${err}`);
  if (err.trim()) console.error(err.trim());
  return new TextDecoder().decode(r.stdout);
}

async function sources(dir: string, out: string[]): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules") await sources(p, out);
    else if (e.isFile && /\.(ts|js|mjs)$/.test(e.name)) out.push(p);
  }
}

/** The import-map keys of npm packages that some source imports at run time. */
async function usedPackages(stage: string, imports: Record<string, string>): Promise<string[]> {
  const files = [`${stage}/main.ts`];
  await sources(`${stage}/src`, files);
  await sources(`${stage}/helpers`, files);
  const used = new Set<string>();
  const re =
    /(?:^|[\s;])(?:import|export)\s(?!type\s)[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm;
  for (const f of files) {
    for (const m of (await Deno.readTextFile(f)).matchAll(re)) {
      const spec = m[1] ?? m[2]!;
      if (imports[spec]?.startsWith("npm:")) used.add(spec);
    }
  }
  return [...used].sort();
}

/** What Deno offers as named imports of each package, from the unbundled node_modules. */
async function namedExports(deno: string, stage: string, pkgs: string[]): Promise<string[][]> {
  const probe = `${stage}/.probe_exports.ts`;
  await Deno.writeTextFile(
    probe,
    `const out = [];\nfor (const s of ${
      JSON.stringify(pkgs)
    }) out.push(Object.keys(await import(s)));\n` +
      `console.log(JSON.stringify(out));\n`,
  );
  try {
    const out = await sh(deno, [
      "run",
      "--quiet",
      "--allow-all",
      "--no-lock",
      "--cached-only",
      "--node-modules-dir=manual",
      `--config=${stage}/deno.json`,
      probe,
    ], stage);
    return JSON.parse(out.trim().split("\n").at(-1)!);
  } finally {
    await Deno.remove(probe);
  }
}

async function esbuild(
  bin: string,
  stage: string,
  spec: string,
  format: "esm" | "cjs",
  outfile: string,
): Promise<Meta> {
  const meta = `${outfile}.meta.json`;
  await sh(bin, [
    spec,
    "--bundle",
    "--platform=node",
    `--format=${format}`,
    "--conditions=deno,node",
    "--external:*.node",
    "--log-level=error",
    // An ES module bundle that holds CommonJS code needs a real require() for Node built-ins.
    ...(format === "esm"
      ? [
        '--banner:js=import { createRequire as __cbRequire } from "node:module"; ' +
        "const require = __cbRequire(import.meta.url);",
      ]
      : []),
    `--metafile=${meta}`,
    `--outfile=${outfile}`,
  ], stage);
  const m = JSON.parse(await Deno.readTextFile(meta)) as Meta;
  await Deno.remove(meta);
  return m;
}

/** Copies the licence files of every package whose code is in the bundle. */
async function keepLicences(stage: string, meta: Meta, dest: string): Promise<void> {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/@.][^/]*)\//);
    if (m) dirs.add(m[1]!);
  }
  for (const rel of dirs) {
    const name = rel.replace(/^.*node_modules\//, "");
    for await (const e of Deno.readDir(`${stage}/${rel}`)) {
      if (!e.isFile || !/^(licen[cs]e|copying|notice)/i.test(e.name)) continue;
      await Deno.mkdir(`${dest}/licenses/${name}`, { recursive: true });
      await Deno.copyFile(`${stage}/${rel}/${e.name}`, `${dest}/licenses/${name}/${e.name}`);
    }
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { esbuild: { type: "string" }, deno: { type: "string" } },
    allowPositionals: true,
  });
  const stage = positionals[0];
  if (!stage || !values.esbuild || !values.deno) {
    throw new Error("Usage: bundle_npm.ts --esbuild PATH --deno PATH STAGE");
  }
  const config = JSON.parse(await Deno.readTextFile(`${stage}/deno.json`));
  const imports: Record<string, string> = config.imports ?? {};
  const pkgs = await usedPackages(stage, imports);
  const names = await namedExports(values.deno, stage, pkgs);
  const out = `${stage}/.node_modules.bundled`;
  await Deno.mkdir(out);
  for (const [i, spec] of pkgs.entries()) {
    const version = imports[spec]!.replace(/^npm:(@[^/@]+\/)?[^@]+@/, "");
    const dir = `${out}/${spec}`;
    await Deno.mkdir(dir, { recursive: true });
    let meta = await esbuild(values.esbuild, stage, spec, "esm", `${dir}/index.mjs`);
    const entry = Object.values(meta.outputs).find((o) => o.entryPoint)?.entryPoint;
    const format = entry ? meta.inputs[entry]?.format : undefined;
    let main = "index.mjs";
    if (format === "cjs") {
      await Deno.remove(`${dir}/index.mjs`);
      main = "index.cjs";
      meta = await esbuild(values.esbuild, stage, spec, "cjs", `${dir}/${main}`);
      const keys = names[i]!.filter((k) => IDENT.test(k) && !RESERVED.has(k));
      const decl = keys.map((k) => `exports.${k} = 0;`).join(" ");
      await Deno.writeTextFile(
        `${dir}/${main}`,
        `\n// Named exports for Deno's CommonJS analysis (never run).\nif (0) { ${decl} }\n`,
        { append: true },
      );
    }
    await Deno.writeTextFile(
      `${dir}/package.json`,
      JSON.stringify({
        name: spec,
        version,
        type: main === "index.mjs" ? "module" : "commonjs",
        main,
        description: "Bundled by scripts/build/bundle_npm.ts for the single binary",
      }) + "\n",
    );
    await keepLicences(stage, meta, dir);
    const size = (await Deno.stat(`${dir}/${main}`)).size;
    console.error(`bundled ${spec}@${version} (${main}, ${(size / 1e6).toFixed(2)} MB)`);
  }
  await Deno.remove(`${stage}/node_modules`, { recursive: true });
  await Deno.rename(out, `${stage}/node_modules`);
}

if (import.meta.main) await main();
