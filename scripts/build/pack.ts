/**
 * @module
 * Writes the payload archive that `scripts/build/launcher.c` unpacks, to stdout:
 *
 *   deno run --allow-read scripts/build/pack.ts [--magic] [--end] ROOT PATH...
 *
 * Each PATH (relative to ROOT) is added with everything below it. `--magic` starts an archive,
 * `--end` finishes it, so one archive can be written in parts and each part compressed on its own
 * (the launcher reads concatenated zstd frames as one). Entries, little-endian:
 * u8 type ('D' directory, 'F' file, 'L' symlink, 'E' end), u16 mode, u16 path length,
 * u64 size, path, data. Directories come first; files are ordered by name, then path, so that
 * copies of a file in different packages sit next to each other and compress well.
 */

const MAGIC = "CPANBRA1";
const enc = new TextEncoder();

interface Entry {
  type: "D" | "F" | "L";
  path: string;
  mode: number;
  abs: string;
}

function header(type: string, mode: number, path: Uint8Array, size: number): Uint8Array {
  const h = new Uint8Array(13 + path.length);
  const v = new DataView(h.buffer);
  h[0] = type.charCodeAt(0);
  v.setUint16(1, mode & 0o7777, true);
  v.setUint16(3, path.length, true);
  v.setBigUint64(5, BigInt(size), true);
  h.set(path, 13);
  return h;
}

async function walk(root: string, rel: string, out: Entry[]): Promise<void> {
  const abs = `${root}/${rel}`;
  const st = await Deno.lstat(abs);
  if (st.isSymlink) {
    out.push({ type: "L", path: rel, mode: 0o777, abs });
  } else if (st.isDirectory) {
    out.push({ type: "D", path: rel, mode: st.mode ?? 0o755, abs });
    for await (const e of Deno.readDir(abs)) await walk(root, `${rel}/${e.name}`, out);
  } else if (st.isFile) {
    out.push({ type: "F", path: rel, mode: st.mode ?? 0o644, abs });
  } else {
    throw new Error(`Cannot pack ${abs}: not a file, directory or symlink`);
  }
}

function order(a: Entry, b: Entry): number {
  const rank = { D: 0, F: 1, L: 2 };
  if (a.type !== b.type) return rank[a.type] - rank[b.type];
  if (a.type === "F") {
    const an = a.path.slice(a.path.lastIndexOf("/") + 1);
    const bn = b.path.slice(b.path.lastIndexOf("/") + 1);
    if (an !== bn) return an < bn ? -1 : 1;
  }
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

async function main(args: string[]): Promise<void> {
  const magic = args.includes("--magic");
  const end = args.includes("--end");
  const [root, ...paths] = args.filter((a) => !a.startsWith("--"));
  if (!root || paths.length === 0) {
    throw new Error("Usage: pack.ts [--magic] [--end] ROOT PATH...");
  }
  const entries: Entry[] = [];
  for (const p of paths) await walk(root, p, entries);
  entries.sort(order);

  const w = Deno.stdout.writable.getWriter();
  if (magic) await w.write(enc.encode(MAGIC));
  for (const e of entries) {
    const path = enc.encode(e.path);
    if (e.type === "D") {
      await w.write(header("D", e.mode, path, 0));
    } else if (e.type === "L") {
      const target = await Deno.readLink(e.abs);
      if (target.startsWith("/")) throw new Error(`Cannot pack ${e.abs}: absolute symlink`);
      const t = enc.encode(target);
      await w.write(header("L", e.mode, path, t.length));
      await w.write(t);
    } else {
      const data = await Deno.readFile(e.abs);
      await w.write(header("F", e.mode, path, data.length));
      await w.write(data);
    }
  }
  if (end) await w.write(header("E", 0, new Uint8Array(0), 0));
  await w.close();
}

if (import.meta.main) await main(Deno.args);
