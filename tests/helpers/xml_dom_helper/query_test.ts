/**
 * @module
 * XML::XPath expressions rewritten for the xpath engine: name tests and XQL operators.
 */

import assert from "node:assert/strict";
import { toXPath } from "../../../helpers/xml_dom_helper/query.ts";

Deno.test("toXPath() rewrites name tests and XQL operators", () => {
  assert.equal(toXPath("//app[@name='x']", false), "//*[name()='app'][@*[name()='name']='x']");
  assert.equal(toXPath("a and b", false), "*[name()='a'] and *[name()='b']");
  assert.equal(toXPath("count(*) * 2", false), "count(*) * 2");
  assert.equal(toXPath("Site[0]", true), "*[name()='Site'][1]");
  assert.equal(toXPath("Site[-1]", true), "*[name()='Site'][last()]");
  assert.equal(
    toXPath("Site[@N $eq$ 'a' $and$ end()]", true),
    "*[name()='Site'][@*[name()='N']='a' and (position()=last())]",
  );
  assert.equal(toXPath("child::q:*", false), "child::*[starts-with(name(),'q:')]");
  assert.throws(() => toXPath("a[$any$ b]", true), /\$any\$ is not supported/);
});
