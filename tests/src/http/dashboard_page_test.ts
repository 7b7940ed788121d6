/**
 * The dashboard page in a real headless Chromium: it loads from the daemon's HTTP monitor, shows
 * the request count, updates it after socket traffic without a reload, loads nothing from
 * elsewhere, fits a phone screen, and leaves screenshots in test-artifacts/.
 */

import assert from "node:assert/strict";
import { startMonitorServer } from "../../../src/http/server.ts";
import { launchChromium } from "../../_support/chromium.ts";
import { ROOT, startTestDaemon } from "../../_support/daemon.ts";
import { waitFor } from "../../_support/wait.ts";
import { rawJson } from "../../_support/raw.ts";

const ARTIFACTS = `${ROOT}/test-artifacts`;

Deno.test("dashboard page in Chromium shows the request count change after traffic", async () => {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await using td = await startTestDaemon();
  const http = await startMonitorServer(td.daemon.context, "127.0.0.1:0");
  try {
    await using browser = await launchChromium({ windowSize: [1280, 900] });
    const page = await browser.newPage();
    await page.setViewport(1280, 900);
    await page.navigate(`${http.address}/?interval=1`);

    const count = () =>
      page.evaluate<string>(`document.getElementById("total-requests").textContent`);
    await waitFor(async () => /^\d+$/.test(await count()), {
      what: "the first refresh",
      deadlineMs: 20_000,
    });
    const before = Number(await count());

    for (let i = 0; i < 20; i++) {
      await rawJson(td.socket, {
        module: "test",
        function: "echo",
        params: { i },
        request_id: `d${i}`,
      });
    }
    await rawJson(td.socket, { module: "no_such_module", function: "f", params: {} });
    const reloads = await page.evaluate<number>(
      "performance.getEntriesByType('navigation').length",
    );
    await waitFor(async () => Number(await count()) >= before + 21, {
      what: "the count to move",
      deadlineMs: 20_000,
    });
    assert.equal(
      await page.evaluate<number>("performance.getEntriesByType('navigation').length"),
      reloads,
      "the page reloaded instead of updating in place",
    );
    // The other sections were filled from the same refresh.
    await waitFor(
      async () =>
        (await page.evaluate<string>(`document.getElementById("sec-events").textContent`)) !== "0",
      { what: "the security event to show", deadlineMs: 20_000 },
    );
    assert.match(
      await page.evaluate<string>(`document.getElementById("memory").textContent`),
      /^\d+\.\d MB$/,
    );
    // Filled from the refresh; which status depends on the machine (this test process's own CPU
    // counts as the in-process daemon's, and a busy CI host can make it "unhealthy").
    assert.match(
      await page.evaluate<string>(`document.getElementById("status").textContent`),
      /^(healthy|degraded|unhealthy)$/,
    );
    assert.ok(
      (await page.evaluate<number>(`document.querySelectorAll("#module-list .chip").length`)) > 0,
      "no modules listed",
    );
    assert.match(
      await page.evaluate<string>(`document.getElementById("top-functions").textContent`),
      /test\.echo/,
    );
    await page.screenshot(`${ARTIFACTS}/dashboard.png`, { fullPage: true });

    // Phone-sized viewport: one column, nothing wider than the screen.
    await page.setViewport(390, 844, true);
    await waitFor(
      async () => (await page.evaluate<number>("window.innerWidth")) === 390,
      { what: "the phone viewport", deadlineMs: 5000 },
    );
    assert.ok(
      await page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth"),
      "page scrolls sideways on a phone",
    );
    const columns = await page.evaluate<number>(
      `new Set([...document.querySelectorAll("main > section")].map((s) => s.getBoundingClientRect().left)).size`,
    );
    assert.equal(columns, 1, "sections should stack in one column on a phone");
    await page.screenshot(`${ARTIFACTS}/dashboard-phone.png`, { fullPage: true });
    await page.send("Emulation.setEmulatedMedia", {
      features: [{ name: "prefers-color-scheme", value: "dark" }],
    });
    await page.screenshot(`${ARTIFACTS}/dashboard-phone-dark.png`);

    // Everything came from the daemon: no CDN, no other origin; no CSP violations or errors.
    const foreign = page.requests.filter((u) => !u.startsWith(`${http.address}/`));
    assert.deepEqual(foreign, []);
    assert.deepEqual(page.logs.filter((l) => ["error", "exception"].includes(l.level)), []);
  } finally {
    await http.close();
  }
  const png = await Deno.readFile(`${ARTIFACTS}/dashboard.png`);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
});
