import assert from "node:assert/strict";
import { helperEntry, loadAll, MODULE_NAMES, REGISTRY } from "../../helpers/registry.ts";

Deno.test("REGISTRY behaviour: each entry's names are the functions of the helper it loads", async () => {
  const defs = await loadAll();
  assert.equal(defs.length, REGISTRY.length);
  for (const [i, e] of REGISTRY.entries()) {
    const def = defs[i];
    assert.ok(def, e.name);
    assert.equal(def.name, e.name, `${e.name}: load() gives another helper`);
    assert.deepEqual(e.functions, Object.keys(def.functions), `${e.name} functions`);
    assert.deepEqual(def.aliases ?? [], e.aliases, `${e.name} aliases`);
    assert.equal(def.replaces, e.replaces, `${e.name} replaces`);
    for (const f of e.readOnly) {
      assert.ok(e.functions.includes(f), `${e.name}.${f} is read-only but not a function`);
    }
    for (const f of e.notBuilt) {
      assert.ok(!e.functions.includes(f), `${e.name}.${f} is built, not notBuilt`);
    }
    assert.equal(await e.load(), def, `${e.name}: load() gives the same definition twice`);
  }
});

Deno.test("REGISTRY behaviour: wire names are unique and helperEntry() finds names and aliases", () => {
  const names = REGISTRY.flatMap((e) => [e.name, ...e.aliases]);
  assert.deepEqual(MODULE_NAMES, names);
  assert.equal(new Set(names).size, names.length, "a wire name is used twice");
  for (const e of REGISTRY) {
    for (const n of [e.name, ...e.aliases]) assert.equal(helperEntry(n), e, n);
    assert.equal(new Set(e.functions).size, e.functions.length, `${e.name}: a function twice`);
  }
  assert.equal(helperEntry("xml"), helperEntry("xml_helper"));
  for (const n of ["test", "system", "nope", "constructor", "toString", "__proto__"]) {
    assert.equal(helperEntry(n), undefined, n);
  }
});
