// The spec wizard as a new user meets it: a refused Next names the field and the fix,
// Back keeps answers, a reload keeps the draft, the JSON preview follows; then the todo
// is generated, edited and approved, and Dispatch opens the form with the spec.
import assert from "node:assert/strict";
import { test } from "node:test";
import { open, serverAndBrowser, shot, signedInPage } from "../harness.mjs";

const ctx = serverAndBrowser();

async function fillList(page, testid, items) {
  const start = await page.getByTestId(`${testid}-input`).count();
  for (const [i, item] of items.entries()) {
    await page.getByTestId(`${testid}-add`).click();
    await page.getByTestId(`${testid}-input`).nth(start + i).fill(item);
  }
}

const next = (page) => page.getByTestId("spec-next").click();
const stepTitle = (page) => page.getByTestId("spec-step-title").innerText();

test("complete the wizard, generate and approve the todo, dispatch from it", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1400, height: 1000 } });
  await open(page, `${ctx.server.base}/specs`);
  await page.getByTestId("specs-empty").waitFor();
  await page.getByTestId("spec-new").click();
  await page.waitForURL(/\/specs\/new$/);
  await page.waitForFunction(() => window.__hydrated === true);

  await page.getByTestId("spec-id").fill("Weekly Summary");
  await next(page);
  assert.match(await page.getByTestId("spec-step-problems").innerText(), /id: use kebab-case/);
  await page.getByTestId("spec-id").fill("weekly-summary");
  await next(page);
  assert.equal(await stepTitle(page), "Title");
  await page.getByTestId("spec-title").fill("Send each team a weekly summary of its merged work");
  await next(page);
  assert.equal(await stepTitle(page), "Status");
  assert.match(await page.getByTestId("spec-last-updated").inputValue(), /^\d{4}-\d{2}-\d{2}$/);
  await next(page);

  await fillList(page, "spec-goals", ["Send the summary every Monday at 09:00", "Show merged pull requests by repository"]);
  await next(page);
  assert.match(await page.getByTestId("spec-step-problems").innerText(), /goals: 2 given, 3–7 required/);
  await shot(page, "20-spec-wizard-refused");
  await fillList(page, "spec-goals", ["", "", "Reduce status-report writing to zero"]);
  await page.getByTestId("spec-goals-remove").nth(2).click();
  await page.getByTestId("spec-goals-remove").nth(2).click();
  assert.equal(await page.getByTestId("spec-goals-input").count(), 3);
  await next(page);

  // Back keeps the answers.
  await page.getByTestId("spec-back").click();
  assert.equal(await page.getByTestId("spec-goals-input").nth(2).inputValue(), "Reduce status-report writing to zero");
  await next(page);
  await fillList(page, "spec-non-goals", ["No Slack integration"]);
  await next(page);
  await fillList(page, "spec-api", ["POST /api/v1/summaries/run triggers a summary"]);
  await next(page);
  assert.equal(await stepTitle(page), "Behaviour");
  await page.getByTestId("spec-gwt-given").fill("a team with merged work");
  await page.getByTestId("spec-gwt-when").fill("Monday 09:00 comes");
  await page.getByTestId("spec-gwt-then").fill("the summary is sent");
  await page.getByTestId("spec-gwt-add").click();
  assert.equal(
    await page.getByTestId("spec-behavior-input").first().inputValue(),
    "Given a team with merged work, when Monday 09:00 comes, then the summary is sent",
  );

  // A reload (and a server restart would too) keeps the draft and the step.
  await open(page, `${ctx.server.base}/specs/new`);
  await page.waitForFunction(() => document.querySelector('[data-testid="spec-step-title"]')?.innerText === "Behaviour");
  assert.match(await page.getByTestId("spec-preview").innerText(), /"id": "weekly-summary"/);
  await next(page);
  await fillList(page, "spec-obs", ["summaries_sent_total counter"]);
  await next(page);
  await fillList(page, "spec-accept", ["The summary is fast"]);
  await next(page);
  assert.match(await page.getByTestId("spec-step-problems").innerText(), /'fast' can't be checked/);
  await page.getByTestId("spec-accept-input").first().fill("The summary lists every pull request merged in the last 7 days");
  await next(page);
  await fillList(page, "spec-assume", ["Teams have a time zone set"]);
  const preview = JSON.parse(await page.getByTestId("spec-preview").innerText());
  assert.deepEqual(preview.req.api, ["POST /api/v1/summaries/run triggers a summary"]);
  assert.equal(preview.goals.length, 3);
  await shot(page, "21-spec-wizard-last-step");
  await page.getByTestId("spec-save").click();
  await page.waitForURL(/\/specs\/weekly-summary$/);
  assert.equal(await page.getByTestId("spec-status-badge").first().innerText(), "draft");
  await shot(page, "22-spec-detail");

  await page.getByTestId("spec-generate-todo").click();
  await page.waitForURL(/\/specs\/weekly-summary\/todo$/);
  await page.getByTestId("todo-task").first().waitFor();
  const tasks = await page.getByTestId("todo-task").count();
  assert.ok(tasks >= 3 && tasks <= 15, `${tasks} tasks`);
  assert.ok(await page.getByTestId("todo-approve").isEnabled());
  await page.getByTestId("todo-task-do").first().fill("Set up the crate, its config and the test harness.");
  assert.ok(await page.getByTestId("todo-approve").isDisabled(), "save edits first");
  await page.getByTestId("todo-save").click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="todo-approve"]').disabled);
  await page.getByTestId("todo-approve").click();
  await page.getByTestId("todo-dispatch").waitFor();
  assert.equal(await page.getByTestId("spec-status-badge").innerText(), "ready");
  await shot(page, "23-spec-todo-approved");
  await page.getByTestId("todo-dispatch").click();
  await page.waitForURL(/\/dispatch\?spec=weekly-summary$/);
  await page.waitForFunction(() => window.__hydrated === true);
  assert.equal(await page.getByTestId("spec-select").inputValue(), "weekly-summary");
  await page.getByTestId("repo-input").fill("https://github.com/acme/app.git");
  await page.getByTestId("cpu-input").fill("500m");
  await page.getByTestId("memory-input").fill("1Gi");
  await page.getByTestId("model-input").fill("claude-sonnet-4-5");
  await page.getByTestId("iterations-input").fill("3");
  await shot(page, "25-dispatch-from-spec");
  await page.getByTestId("dispatch-submit").click();
  await page.waitForURL(/\/runs\/[0-9A-Z]{26}$/, { timeout: 30_000 });
  assert.equal(await page.getByTestId("run-spec").innerText(), "weekly-summary");
  assert.match(await page.getByTestId("run-settings").innerText(), /500m[\s\S]*1Gi[\s\S]*claude-sonnet-4-5[\s\S]*3/);
  await shot(page, "26-run-with-settings");

  // The list shows it ready, with its todo approved; the draft is gone.
  await open(page, `${ctx.server.base}/specs`);
  assert.match(await page.getByTestId("spec-row-weekly-summary").innerText(), /ready[\s\S]*approved/);
  await open(page, `${ctx.server.base}/specs/new`);
  assert.equal(await page.getByTestId("spec-id").inputValue(), "");
  await page.setViewportSize({ width: 375, height: 800 });
  await shot(page, "24-spec-wizard-phone");
});

test("a fabrik spec file that breaks the schema is refused with every field named", async () => {
  const page = await signedInPage(ctx.browser, ctx.server.base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${ctx.server.base}/specs/new`);
  await page.getByTestId("spec-load-input").setInputFiles({
    name: "022-doctor.json", mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ v: 1, id: "x", req: { checks: [] } })),
  });
  const error = await page.getByTestId("spec-load-error").innerText();
  for (const field of ["title: is required", "req.api: is required", "req.checks: is not a field"]) {
    assert.ok(error.includes(field), `${field} in ${error}`);
  }
});
