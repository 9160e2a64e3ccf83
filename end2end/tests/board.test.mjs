// The runs board (the active runs' tasks in lanes), the activity feed, and the runs
// list's CSV export, each opened cold in a real browser.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { dispatchDemo, open, serverAndBrowser, shot, signedInPage, waitStatus } from "../harness.mjs";

const ctx = serverAndBrowser();

test("the board puts a run's tasks in lanes and follows it; the feed and export show it", async () => {
  const { base } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${base}/runs/board`);
  await page.getByTestId("board-empty").waitFor();

  const id = await dispatchDemo(page, base);
  await waitStatus(page, "waiting-approval");
  // The board's address before it had a path of its own still leads there.
  await open(page, `${base}/runs?view=board`);
  assert.equal(new URL(page.url()).pathname, "/runs/board");
  assert.equal(await page.getByTestId("lane").count(), 4);
  const review = page.locator('[data-testid="lane"][data-lane="review"]');
  const card = review.getByTestId("card");
  await card.waitFor();
  assert.equal(await card.getAttribute("href"), `/runs/${id}/feedback`);
  assert.equal(await card.getAttribute("data-state"), "waiting-approval");
  const done = page.locator('[data-testid="lane"][data-lane="done"]');
  assert.ok((await done.getByTestId("card").count()) >= 1, "the tasks before the gate are done");
  assert.equal(await page.getByTestId("runs-view-board").getAttribute("aria-current"), "page");
  await shot(page, "67-runs-board");

  // Approved elsewhere: the open board follows without a reload.
  const decided = await page.request.post(`${base}/api/v1/runs/${id}/feedback`, { data: { decision: "approve" } });
  assert.equal(decided.status(), 200);
  await page.getByTestId("board-empty").waitFor({ timeout: 60_000 });

  await page.getByTestId("runs-view-activity").click();
  await page.waitForURL(/\/runs\/activity$/);
  const items = page.getByTestId("activity-item");
  await items.first().waitFor();
  const kinds = await items.evaluateAll((els) => els.map((e) => e.dataset.kind));
  assert.ok(kinds.includes("dispatched"), kinds.join(","));
  assert.match(await page.getByTestId("activity").innerText(), /by admin/);
  await shot(page, "68-runs-activity");

  await page.getByTestId("runs-view-list").click();
  await page.waitForURL(/\/runs$/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("runs-export-csv").click()]);
  assert.equal(download.suggestedFilename(), "fabrik-runs.csv");
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.match(csv[0], /^run_id,status,template/);
  assert.equal(csv.length, 2);
  assert.ok(csv[1].startsWith(`${id},`), csv[1]);

  // A filter applied in the browser: the rows stay and the list says it is loading until
  // the new page arrives (the Transition's pending state, wired in the browser only).
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route("**/api/list_runs*", async (route) => {
    await held;
    await route.continue();
  });
  await page.getByTestId("filter-status").selectOption("cancelled");
  await page.getByTestId("filter-apply").click();
  await page.getByTestId("runs-loading").waitFor();
  assert.equal(await page.getByTestId(`run-row-${id}`).count(), 1, "the old rows stay while it loads");
  release();
  await page.locator('[data-testid="runs-empty"][data-reason="filtered"]').waitFor();
  assert.equal(await page.getByTestId("runs-loading").count(), 0);
});
