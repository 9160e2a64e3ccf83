// Signing in and out through the UI, in headless Chromium.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN_PASSWORD, open, serverAndBrowser, shot } from "../harness.mjs";

const ctx = serverAndBrowser();

test("a signed-out visit goes to login, then back to where it was headed; sign-out ends it", async () => {
  const page = await (await ctx.browser.newContext()).newPage();
  await page.goto(`${ctx.server.base}/runs?status=blocked`);
  assert.match(page.url(), /\/login\?next=%2Fruns%3Fstatus%3Dblocked$/);
  await shot(page, "10-login");

  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-password").fill("definitely-wrong");
  await page.getByTestId("login-submit").click();
  await page.getByTestId("login-error").getByText("Wrong username or password").waitFor();
  assert.equal(await page.getByTestId("login-username").inputValue(), "admin", "the name is kept");
  await shot(page, "11-login-error");

  await page.getByTestId("login-password").fill(ADMIN_PASSWORD);
  await page.getByTestId("login-username").fill("admin");
  await page.getByTestId("login-submit").click();
  await page.waitForURL(`${ctx.server.base}/runs?status=blocked`);
  await page.waitForFunction(() => window.__hydrated === true);
  assert.match(await page.getByTestId("current-user").innerText(), /admin/);

  await open(page, `${ctx.server.base}/settings/users`);
  await page.getByTestId("user-row-admin").waitFor();
  await shot(page, "12-settings-users");

  // Sign out lives in the user menu in the header.
  await page.getByTestId("current-user").click();
  await page.getByTestId("logout-button").click();
  await page.waitForURL(/\/login\?signed_out=1/);
  await page.goto(`${ctx.server.base}/runs`);
  assert.match(page.url(), /\/login\?next=%2Fruns$/, "the session is gone");
});
