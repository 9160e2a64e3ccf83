// Steps 2–4 of the foundation issue, through the UI, in headless Chromium.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dispatchDemo, open, serverAndBrowser, shot, signedInPage, waitStatus } from "../harness.mjs";

const ctx = serverAndBrowser({ taskMs: 500 });

test("dispatch → live progress → approve → finished", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1280, height: 900 } });
  const id = await dispatchDemo(page, ctx.server.base);
  await waitStatus(page, "running");
  await page.getByTestId("conn-indicator").and(page.locator('[data-state="live"]')).waitFor();

  // Progress moves without a reload.
  const bar = page.getByTestId("progress-bar").first();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="progress-bar"]')?.dataset.finished) >= 2,
    null, { timeout: 60_000 },
  );
  const finished = Number(await bar.getAttribute("data-finished"));
  const total = Number(await bar.getAttribute("data-total"));
  assert.ok(total >= 10 && finished >= 2, `progress ${finished}/${total}`);
  await page.locator('[data-testid^="task-row-"][data-state="finished"]').first().waitFor();
  await page.getByTestId("log-panel").getByText("[demo]").first().waitFor({ timeout: 30_000 });
  // The page says what keeps the agent away from the ctx.server.
  assert.match(await page.getByTestId("protection").innerText(), /environment cleared/);
  await shot(page, "01-run-live");

  await waitStatus(page, "waiting-approval");
  await page.getByTestId("feedback-link").waitFor();
  await shot(page, "02-run-blocked");

  await open(page, `${ctx.server.base}/runs`);
  await page.getByTestId(`run-row-${id}`).getByTestId("needs-feedback-badge").waitFor();
  await shot(page, "03-runs-needs-feedback");

  await open(page, `${ctx.server.base}/runs/${id}/feedback`);
  assert.equal(await page.locator('[data-testid^="review-"]').count(), 4);
  await page.getByTestId("feedback-notes").fill("Looks good — ship it");
  await shot(page, "04-feedback");
  await page.getByTestId("approve-button").click();
  await page.getByTestId("gate-decision").waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId("gate-decision").innerText(), /admin/);

  await open(page, `${ctx.server.base}/runs/${id}`);
  await waitStatus(page, "finished");
  await shot(page, "05-run-finished");
  // A decided gate shows its decision and offers no buttons.
  await open(page, `${ctx.server.base}/runs/${id}/feedback`);
  await page.getByTestId("gate-decision").waitFor();
  assert.equal(await page.getByTestId("approve-button").count(), 0);
});

test("reject makes the run fail", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base);
  const id = await dispatchDemo(page, ctx.server.base);
  await waitStatus(page, "waiting-approval");
  await open(page, `${ctx.server.base}/runs/${id}/feedback`);
  await page.getByTestId("feedback-notes").fill("Wrong approach");
  await page.getByTestId("reject-button").click();
  await page.getByTestId("gate-decision").waitFor({ timeout: 30_000 });
  await open(page, `${ctx.server.base}/runs/${id}`);
  await waitStatus(page, "failed");
  await shot(page, "06-run-rejected");
});

test("cancel stops a running run", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base);
  await dispatchDemo(page, ctx.server.base);
  await waitStatus(page, "running");
  await page.getByTestId("cancel-button").click();
  await page.getByTestId("cancel-confirm").click();
  await waitStatus(page, "cancelled", 30_000);
  await page.getByTestId("cancel-button").waitFor({ state: "detached" });
  await shot(page, "07-run-cancelled");
});

test("bad dispatch input shows an inline error and keeps the form", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base);
  await open(page, `${ctx.server.base}/dispatch`);
  await page.getByTestId("template-select").selectOption("demo");
  await page.getByTestId("workflow-input").fill("does/not/exist.tsx");
  await page.getByTestId("dispatch-submit").click();
  await page.getByTestId("form-error").getByText("in the allowed workflow directories").waitFor();
  assert.equal(await page.getByTestId("workflow-input").inputValue(), "does/not/exist.tsx");
  await shot(page, "08-dispatch-error");
});

test("dark theme and a phone-sized screen", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 375, height: 800 }, colorScheme: "dark" });
  await open(page, `${ctx.server.base}/runs`);
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains("dark")));
  await shot(page, "09-runs-phone-dark");
});
