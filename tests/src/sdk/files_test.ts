import assert from "node:assert/strict";
import { FileReadError, readRegularFile } from "../../../src/sdk/files.ts";

Deno.test("readRegularFile() reads a regular file whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff);
    await Deno.writeFile(`${dir}/f`, bytes);
    assert.deepEqual(await readRegularFile(`${dir}/f`, 200_000), bytes);
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    assert.equal((await readRegularFile(`${dir}/empty`, 0)).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function refused(path: string, max: number, kind: string, text: RegExp) {
  await assert.rejects(readRegularFile(path, max), (err: unknown) => {
    assert.ok(err instanceof FileReadError);
    assert.equal(err.kind, kind);
    assert.match(err.message, text);
    return true;
  });
}

Deno.test("readRegularFile() refuses a file over the limit, naming the limit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/f`, new Uint8Array(11));
    await refused(
      `${dir}/f`,
      10,
      "too_large",
      /larger than 10 bytes \(CPAN_BRIDGE_MAX_FILE_BYTES\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRegularFile() refuses devices, FIFOs and directories without reading", async () => {
  await refused("/dev/zero", 1 << 20, "not_regular", /not a regular file/);
  const dir = await Deno.makeTempDir();
  try {
    await refused(dir, 1 << 20, "not_regular", /a directory/);
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    assert.ok(mk.success);
    await refused(`${dir}/fifo`, 1 << 20, "not_regular", /not a regular file/);
    await refused(`${dir}/missing`, 1 << 20, "not_found", /No such file or directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
