// The admin pages on the local backend: this host (CPU, memory, disk) and the runs'
// workspaces; the credentials file counted per provider, never a value; viewers kept out.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { dispatchDemo, open, serverAndBrowser, shot, signIn, signedInPage } from "../harness.mjs";

const ctx = serverAndBrowser();

test("an admin sees this host, the runs' workspaces and the credentials runs get", async () => {
  const { base, dataDir } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 900 } });
  await dispatchDemo(page, base);
  await open(page, `${base}/admin`);
  await page.waitForURL(/\/admin\/cluster$/);
  const host = page.getByTestId("machine");
  await host.waitFor();
  assert.equal(await host.getByTestId("machine-status").innerText(), "Ready");
  for (const meter of ["meter-cpu", "meter-memory", "meter-disk"]) {
    assert.match(await host.getByTestId(meter).innerText(), / of /, meter);
  }
  assert.equal(await page.getByTestId("volume-row").count(), 1);
  assert.match(await page.getByTestId("fleet-source").innerText(), /this host/);
  await shot(page, "60-admin-cluster-local");

  await page.getByTestId("admin-tab-credentials").click();
  await page.getByTestId("credentials-empty").waitFor();
  assert.match(await page.getByTestId("credentials-empty").innerText(), /credentials\.env/);
  writeFileSync(join(dataDir, "credentials.env"), "ANTHROPIC_API_KEY_1=sk-one\nANTHROPIC_API_KEY_2=sk-two\nGITHUB_TOKEN=ghp_x\n");
  await open(page, `${base}/admin/credentials`);
  const anthropic = page.locator('[data-testid="provider"][data-provider="anthropic"]');
  await anthropic.waitFor();
  assert.equal(await anthropic.getByTestId("provider-keys").innerText(), "2");
  assert.doesNotMatch(await page.locator("main").innerText(), /sk-one|ghp_x/, "never a value");
  await shot(page, "61-admin-credentials-local");
});

test("a viewer is told the admin pages are for admins", async () => {
  const { base } = ctx.server;
  const admin = await signedInPage(ctx.browser, base);
  const made = await admin.request.post(`${base}/api/v1/users`, {
    data: { username: "vic", password: "vics-password-1", role: "viewer" },
  });
  assert.equal(made.status(), 201);
  const context = await ctx.browser.newContext();
  const page = await context.newPage();
  await signIn(page, base, { user: "vic", password: "vics-password-1" });
  assert.equal(await page.getByTestId("nav-admin").count(), 0, "no Admin link");
  await open(page, `${base}/admin/cluster`);
  await page.getByTestId("admin-only").waitFor();
  assert.equal(await page.getByTestId("machine").count(), 0);
  await shot(page, "62-admin-viewer");
});
