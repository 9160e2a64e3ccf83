// The installable app: the manifest passes Chromium's installability check, the service
// worker registers, notifications are enabled from the button (never asked on load), and
// a run reaching its gate shows a notification in the open tab.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, dispatchDemo, open, serverAndBrowser, shot, signIn, waitStatus } from "../harness.mjs";

// A push service on loopback stands in for the browser vendor's (http allowed for it).
const ctx = serverAndBrowser({ taskMs: 300, env: { FABRIK_ALLOW_HTTP_PUSH: "true" } });

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

// The independent RFC 8291 side (PyPI http-ece), as in the server's tests.
function webpush(...args) {
  const python = join(ROOT, ".tools/py/bin/python");
  return JSON.parse(execFileSync(python, [join(ROOT, "server/tests/helpers/webpush.py"), ...args]));
}

// Records what the server pushes, answering 201 like a push service.
async function pushService() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => server.close() };
}

test("a push our server encrypted shows in the service worker with Approve, and Approve decides the gate", async () => {
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const push = await pushService();
  try {
    await context.grantPermissions(["notifications"], { origin: ctx.server.base });
    const page = await context.newPage();
    await signIn(page, ctx.server.base);
    await open(page, `${ctx.server.base}/settings/notifications`);
    await page.getByTestId("notifications-on").waitFor();
    // Headless Chromium can't reach a push service, so the page says so (and keeps tab
    // notifications); a subscription with keys we hold stands in for this browser's.
    await page.getByTestId("push-failed").waitFor({ timeout: 20_000 });
    const keys = webpush("keygen");
    const dir = mkdtempSync(join(tmpdir(), "fabrik-push-"));
    writeFileSync(join(dir, "keys.json"), JSON.stringify(keys));
    const sub = { endpoint: `${push.url}/send/e2e`, keys: { p256dh: keys.p256dh, auth: keys.auth }, device: "e2e browser" };
    const saved = await page.request.post(`${ctx.server.base}/api/v1/push/subscriptions`, { data: sub });
    assert.equal(saved.status(), 201, await saved.text());
    await open(page, `${ctx.server.base}/settings/notifications`);
    await page.getByTestId("device-row").filter({ hasText: "e2e browser" }).waitFor();
    await shot(page, "41-notification-settings");

    const runId = await dispatchDemo(page, ctx.server.base);
    await waitStatus(page, "waiting-approval");
    for (let i = 0; i < 200 && push.received.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(push.received.length, 1, "one push for the gate");
    const [sent] = push.received;
    assert.equal(sent.headers["content-encoding"], "aes128gcm");
    writeFileSync(join(dir, "body.bin"), sent.body);
    const { payload } = webpush("decrypt", join(dir, "keys.json"), join(dir, "body.bin"), sent.headers.authorization, push.url);
    assert.equal(payload.run_id, runId);
    assert.ok(payload.approve?.token, "the gate's push carries an approve token");

    // Deliver the decrypted payload to the page's service worker, as the browser would.
    const cdp = await context.newCDPSession(page);
    const registration = new Promise((resolve) =>
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
        const r = registrations.find((r) => r.scopeURL === `${ctx.server.base}/` && !r.isDeleted);
        if (r) resolve(r.registrationId);
      }),
    );
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registration;
    const notifications = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          actions: n.actions.map((a) => a.action),
          data: n.data,
        })),
      );
    await page.evaluate(async () => (await navigator.serviceWorker.ready).active.state);
    // Chromium may drop a push sent while it (re)starts the worker: send it again until
    // the worker has shown it (the same tag means it is shown once however often).
    let shown = [];
    for (let attempt = 0; attempt < 5 && shown.length === 0; attempt++) {
      await cdp.send("ServiceWorker.deliverPushMessage", {
        origin: ctx.server.base,
        registrationId,
        data: JSON.stringify(payload),
      });
      for (let i = 0; i < 30 && shown.length === 0; i++) {
        shown = await notifications();
        if (!shown.length) await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(shown.length, 1, "the worker's push handler showed it");
    assert.match(shown[0].title, /is waiting for approval/);
    assert.match(shown[0].body, /template demo/);
    assert.deepEqual(shown[0].actions, ["approve", "open"]);

    // Press Approve: the worker's own handler, with the notification's data.
    const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
    await worker.evaluate((data) => act("approve", data), shown[0].data);
    await waitStatus(page, "finished");
    const after = await notifications();
    assert.equal(after.length, 1, "the follow-up replaces the gate notification (same tag)");
    assert.equal(after[0].title, "Approved");
    const detail = await (await page.request.get(`${ctx.server.base}/api/v1/runs/${runId}`)).json();
    assert.equal(detail.smithers.gates[0].decided_by, "admin");
  } finally {
    push.close();
    await context.close();
  }
});
