import assert from "node:assert/strict";
import { HELPERS } from "../../helpers/mod.ts";
import { MANIFEST } from "../../helpers/manifest.ts";

Deno.test("helpers/manifest.ts matches helpers/mod.ts (run `deno task manifest` when this fails)", async () => {
  assert.deepEqual(MANIFEST.map((m) => m.name), HELPERS.map((h) => h.name));
  for (const [i, h] of HELPERS.entries()) {
    const m = MANIFEST[i]!;
    assert.deepEqual(m.aliases, h.aliases ?? [], `${h.name} aliases`);
    assert.equal(m.replaces, h.replaces, `${h.name} replaces`);
    assert.deepEqual(m.functions, Object.keys(h.functions), `${h.name} functions`);
    assert.deepEqual(m.readOnly, h.readOnly ?? [], `${h.name} read-only functions`);
    for (const f of m.readOnly) assert.ok(f in h.functions, `${h.name}.${f} is not a function`);
    assert.equal(await m.load(), h, `${h.name} loader`);
  }
});
