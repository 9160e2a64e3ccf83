// The admin pages on the local backend: this host (CPU, memory, disk) and the runs'
// workspaces; the credentials file counted per provider, never a value; viewers kept out.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { dispatchDemo, open, serverAndBrowser, shot, signIn, signedInPage, waitStatus } from "../harness.mjs";

const ctx = serverAndBrowser();

test("an admin sees this host, the runs' workspaces and the credentials runs get", async () => {
  const { base, dataDir } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 900 } });
  const id = await dispatchDemo(page, base);
  await waitStatus(page, "waiting-approval");
  await open(page, `${base}/admin`);
  await page.getByTestId("overview").waitFor();
  assert.ok(Number(await page.getByTestId("overview-active").innerText()) >= 1);
  const waiting = page.getByTestId("waiting-run");
  assert.equal(await waiting.count(), 1);
  assert.equal(await waiting.locator("a").first().getAttribute("href"), `/runs/${id}/feedback`);
  assert.match(await waiting.getByTestId("waiting-age").innerText(), /^waiting \d+s$/);
  assert.equal(await page.getByTestId("overview-machine").count(), 1, "this host");
  await shot(page, "59-admin-overview");
  await page.getByTestId("admin-tab-cluster").click();
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
  assert.equal(await anthropic.getByTestId("rate-limit").getAttribute("data-limited"), "false");
  const github = page.locator('[data-testid="provider"][data-provider="github"]');
  assert.equal(await github.getByTestId("rotate").count(), 0, "one key: nothing to rotate to");
  assert.equal(await anthropic.getByTestId("last-rotation").innerText(), "never");
  await anthropic.getByTestId("rotate").click();
  await anthropic.getByTestId("active-key").waitFor();
  assert.equal(await anthropic.getByTestId("active-key").innerText(), "ANTHROPIC_API_KEY_2");
  assert.match(await anthropic.getByTestId("last-rotation").innerText(), /by admin$/);
  await shot(page, "61-admin-credentials-local");
  await anthropic.getByTestId("rotate").click();
  await anthropic.locator('[data-testid="active-key"]', { hasText: "ANTHROPIC_API_KEY_1" }).waitFor();
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

test("metrics: a finished run's tokens and cost, charts, exports, and the price table", async () => {
  const { base } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 1000 } });
  const id = await dispatchDemo(page, base);
  await waitStatus(page, "waiting-approval");
  const decided = await page.request.post(`${base}/api/v1/runs/${id}/feedback`, { data: { decision: "approve" } });
  assert.equal(decided.status(), 200);
  await open(page, `${base}/runs/${id}`);
  await waitStatus(page, "finished");
  assert.match(await page.getByTestId("run-cost").innerText(), /estimated \$0\.00/, "the mock model is free");

  await open(page, `${base}/admin/metrics?range=24h`);
  await page.getByTestId("metrics").waitFor();
  // Other tests in this file dispatch runs on the same server too.
  const runs = Number(await page.getByTestId("run-count").innerText());
  assert.ok(runs >= 1, `runs: ${runs}`);
  assert.notEqual(await page.getByTestId("total-tokens").innerText(), "0");
  for (const chart of ["chart-models", "chart-durations", "chart-outcomes"]) {
    const svg = page.getByTestId(chart).locator("svg.chart");
    await svg.waitFor();
    const box = await svg.boundingBox();
    assert.ok(box && box.width > 200 && box.height > 20, `${chart} is drawn: ${JSON.stringify(box)}`);
  }
  assert.equal(await page.getByTestId("chart-models").locator("rect.chart-bar").count(), 1, "one model");
  assert.equal(await page.locator('[data-testid="model-row"][data-name="mock-demo-1"]').count(), 1);
  await shot(page, "63-admin-metrics");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-csv").click()]);
  assert.equal(download.suggestedFilename(), "fabrik-runs-24h.csv");
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv.length, runs + 1, csv.join("\n"));
  assert.ok(csv.some((line) => line.startsWith(`${id},demo,finished,`)), csv.join("\n"));

  await open(page, `${base}/settings/prices`);
  const text = page.getByTestId("prices-text");
  await text.waitFor();
  await text.fill("gpt-5 -1 10\n");
  await page.getByTestId("prices-save").click();
  await page.getByTestId("form-error").getByText("gpt-5: the input price -1 must be zero or more").waitFor();
  await text.fill("mock-* 2 10\n");
  await page.getByTestId("prices-save").click();
  await page.getByTestId("prices-saved").waitFor();
  await shot(page, "64-settings-prices");
  await open(page, `${base}/admin/metrics?range=24h`);
  await page.getByTestId("metrics").waitFor();
  assert.notEqual(await page.getByTestId("total-cost").innerText(), "$0.00", "the new price applies");
});

test("backups: back up now, see it in the history with its restore command", async () => {
  const { base } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${base}/admin/backups`);
  await page.getByTestId("backup-now").click();
  await page.getByTestId("backup-done").waitFor();
  const row = page.locator('[data-testid="backup-row"][data-state="ok"]').first();
  await row.waitFor();
  assert.match(await row.getByTestId("backup-size").innerText(), /\d+ runs · /);
  assert.match(await row.getByTestId("restore-command").innerText(), /^fabrik-server --data-dir \S+ restore \S+fabrik-backup-/);
  await shot(page, "65-admin-backups");
});

test("observability links: a bad URL is refused, a saved one that is down says what to do", async () => {
  const { base } = ctx.server;
  const page = await signedInPage(ctx.browser, base, { viewport: { width: 1280, height: 900 } });
  await open(page, `${base}/settings/observability`);
  await page.getByTestId("link-loki").fill("loki.local");
  await page.getByTestId("links-save").click();
  await page.getByTestId("form-error").getByText("'loki.local' is not a URL").waitFor();
  await page.getByTestId("link-loki").fill("http://127.0.0.1:9");
  await page.getByTestId("links-save").click();
  await page.getByTestId("links-saved").waitFor();
  await page.getByTestId("links-check").click();
  const check = page.locator('[data-testid="link-check"][data-ok="false"]');
  await check.waitFor();
  assert.match(await check.innerText(), /Loki: Loki at http:\/\/127\.0\.0\.1:9\/ready refused the connection/);
  await shot(page, "66-settings-observability");

  // With Grafana set, the metrics page and a run's page link into it.
  await page.getByTestId("link-grafana").fill("https://grafana.example.com/d/fabrik/runs");
  await page.getByTestId("links-save").click();
  await page.getByTestId("links-saved").waitFor();
  await open(page, `${base}/admin/metrics?range=30d`);
  assert.equal(
    await page.getByTestId("metrics-grafana").getAttribute("href"),
    "https://grafana.example.com/d/fabrik/runs?from=now-30d&to=now",
  );
  await shot(page, "69-metrics-grafana");
  const runs = await (await page.request.get(`${base}/api/v1/runs?limit=1`)).json();
  const id = runs.runs[0].run_id;
  await open(page, `${base}/runs/${id}`);
  assert.equal(
    await page.getByTestId("run-grafana").getAttribute("href"),
    `https://grafana.example.com/d/fabrik/runs?var-run_id=${id}`,
  );
  await shot(page, "70-run-grafana");
});
