import assert from "node:assert/strict";
import { perlErrno } from "../../../src/sdk/os_errors.ts";

Deno.test("perlErrno() gives Perl's $! texts for Deno's file errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The expected texts are what `perl -e 'open(F, "<", $ARGV[0]) or print "$!"'` prints.
    const perl = async (code: string, arg: string) =>
      new TextDecoder().decode(
        (await new Deno.Command("perl", { args: ["-e", code, arg], stdout: "piped" }).output())
          .stdout,
      );
    const err = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        return e;
      }
      throw new Error("no error");
    };
    const missing = `${dir}/missing`;
    assert.equal(
      perlErrno(await err(() => Deno.readFile(missing))),
      await perl('open(F, "<", $ARGV[0]) or print "$!"', missing),
    );
    await Deno.writeTextFile(`${dir}/f`, "x");
    assert.equal(
      perlErrno(await err(() => Deno.mkdir(`${dir}/f`))),
      await perl('mkdir($ARGV[0]) or print "$!"', `${dir}/f`),
    );
    assert.equal(
      perlErrno(await err(() => Deno.readFile(`${dir}/f/x`))),
      await perl('open(F, "<", $ARGV[0]) or print "$!"', `${dir}/f/x`),
    );
    assert.equal(
      perlErrno(await err(() => Deno.writeFile(dir, new Uint8Array()))),
      await perl('open(F, ">", $ARGV[0]) or print "$!"', dir),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("perlErrno() trims Deno's '(os error N)' suffix from other errors", () => {
  assert.equal(
    perlErrno(new Error("No space left on device (os error 28): write 'x'")),
    "No space left on device",
  );
  assert.equal(perlErrno("plain"), "plain");
});
