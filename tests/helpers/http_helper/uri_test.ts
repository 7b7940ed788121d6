/**
 * @module
 * URI escaping as Perl's URI module does it.
 */

import assert from "node:assert/strict";
import { escapeLikeUri } from "../../../helpers/http_helper/uri.ts";

Deno.test("escapeLikeUri() percent-encodes the Perl bytes URI would escape", () => {
  assert.equal(
    escapeLikeUri("http://h/caf\u00c3\u00a9 x?q='a'|"),
    "http://h/caf%C3%A9%20x?q='a'%7C",
  );
  assert.equal(escapeLikeUri("http://h/\u65e5?k=caf\u00e9"), "http://h/%E6%97%A5?k=caf%C3%A9");
});
