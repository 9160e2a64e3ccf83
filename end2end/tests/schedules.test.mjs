// A schedule as a new user makes one: the cron in words with the next five fires, a
// bad cron refused, then one that fires within a minute and its run appearing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { open, serverAndBrowser, shot, signedInPage } from "../harness.mjs";

const ctx = serverAndBrowser();

test("create a schedule that fires within a minute and see its run", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1280, height: 1000 } });
  await open(page, `${ctx.server.base}/schedules`);
  await page.getByTestId("schedules-empty").waitFor();
  await page.getByTestId("schedule-new").click();
  await page.waitForURL(/\/schedules\/new$/);
  await page.waitForFunction(() => window.__hydrated === true);

  await page.getByTestId("schedule-zone").fill("Europe/Berlin");
  await page.getByTestId("schedule-cron").fill("61 * * * *");
  await page.getByTestId("schedule-cron-error").waitFor();
  assert.match(await page.getByTestId("schedule-cron-error").innerText(), /^cron: '61 \* \* \* \*' is not a schedule/);

  await page.getByTestId("schedule-cron").fill("* * * * *");
  await page.getByTestId("schedule-next-fires").waitFor();
  const fires = (await page.getByTestId("schedule-next-fires").innerText()).trim().split("\n");
  assert.equal(fires.length, 5);
  assert.match(fires[0], /:00\+0[12]:00$/, "Berlin time, on the minute");
  assert.ok((await page.getByTestId("schedule-description").innerText()).length > 0);

  await page.getByTestId("schedule-name").fill("every-minute");
  await page.getByTestId("schedule-policy-allow").check();
  await page.getByTestId("template-select").selectOption("demo");
  await shot(page, "30-schedule-new");
  await page.getByTestId("schedule-submit").click();
  await page.waitForURL(/\/schedules$/);
  await page.getByTestId("schedule-every-minute").waitFor();
  assert.match(await page.getByTestId("schedule-next").innerText(), /^next /);

  // Within a minute (plus the scheduler's one-second tick), a run appears.
  const deadline = Date.now() + 80_000;
  while ((await page.getByTestId("schedule-run-link").count()) === 0) {
    assert.ok(Date.now() < deadline, "no run within 80 s");
    await new Promise((r) => setTimeout(r, 3000));
    await open(page, `${ctx.server.base}/schedules`);
  }
  await shot(page, "31-schedule-fired");
  await page.getByTestId("schedule-suspend").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="schedule-next"]')?.innerText === "suspended");
  await page.getByTestId("schedule-run-link").first().click();
  await page.waitForURL(/\/runs\/[0-9A-Z]{26}$/);
  assert.equal(await page.getByTestId("run-template").innerText(), "demo");
});
