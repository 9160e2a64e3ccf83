// The installable app: the manifest passes Chromium's installability check, the service
// worker registers, notifications are enabled from the button (never asked on load), and
// a run reaching its gate shows a notification in the open tab.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { dispatchDemo, open, serverAndBrowser, shot, signIn, waitStatus } from "../harness.mjs";

const ctx = serverAndBrowser({ taskMs: 300 });

// Records every Notification the page creates (the real one still shows).
const RECORD_NOTIFICATIONS = () => {
  const Real = window.Notification;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: options?.body ?? "" });
    }
  }
  Recorded.requestPermission = (...a) => Real.requestPermission(...a);
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  window.Notification = Recorded;
};

test("installable, service worker registered, gate notification after Enable", async () => {
  // A normal (not incognito) profile: Chromium checks installability only there.
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "fabrik-pwa-")), {
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.addInitScript(RECORD_NOTIFICATIONS);
    await signIn(page, ctx.server.base);
    await open(page, `${ctx.server.base}/runs`);
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, `${ctx.server.base}/`);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, [], JSON.stringify(installabilityErrors));

    // Asked only from the button.
    await open(page, `${ctx.server.base}/settings/notifications`);
    assert.equal(await page.evaluate(() => Notification.permission), "default", "not asked on load");
    await page.getByTestId("notifications-enable").waitFor();
    await context.grantPermissions(["notifications"], { origin: ctx.server.base });
    await page.getByTestId("notifications-enable").click();
    await page.getByTestId("notifications-on").waitFor();
    await shot(page, "40-notifications-enabled");

    const runId = await dispatchDemo(page, ctx.server.base);
    await waitStatus(page, "waiting-approval");
    await page.waitForFunction(() => window.__notifications.length > 0, null, { timeout: 20_000 });
    const [note] = await page.evaluate(() => window.__notifications);
    assert.equal(note.title, `Run ${runId.slice(0, 4)}…${runId.slice(-6)} is waiting for you`);
    assert.match(note.body, /Template demo · spec none/);
  } finally {
    await context.close();
  }
});
