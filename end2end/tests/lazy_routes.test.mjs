// Pages built as WASM chunks of their own (`cargo leptos build --split`): each route,
// opened cold, hydrates and works; the runs list needs no page chunk at all, and a page
// that has one fetches it (preloaded by the server-rendered page).
import assert from "node:assert/strict";
import { test } from "node:test";
import { open, serverAndBrowser, signedInPage } from "../harness.mjs";

const ctx = serverAndBrowser();

const ROUTES = [
  "/runs",
  "/dispatch",
  "/env",
  "/specs",
  "/specs/new",
  "/schedules",
  "/schedules/new",
  "/admin",
  "/admin/metrics",
  "/admin/cluster",
  "/admin/credentials",
  "/admin/backups",
  "/settings/tokens",
  "/settings/notifications",
  "/settings/users",
  "/settings/audit",
  "/settings/prices",
  "/settings/observability",
];

/// A cold visit to `path` in a new tab of `context` (HTTP cache off): its page errors
/// and the WASM files it fetched.
async function coldVisit(context, base, path) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const wasm = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  await open(page, `${base}${path}`);
  return { page, errors, wasm };
}

const isMain = (w) => /\/pkg\/fabrik[^/]*\.wasm$/.test(w);

test("every route hydrates when opened cold, loading only its own chunks", async () => {
  const { base } = ctx.server;
  const context = (await signedInPage(ctx.browser, base)).context();
  const chunksOf = {};
  for (const path of ROUTES) {
    const { page, errors, wasm } = await coldVisit(context, base, path);
    assert.deepEqual(errors, [], `${path}: no page errors`);
    assert.ok(wasm.some(isMain), `${path}: the main module: ${wasm}`);
    chunksOf[path] = wasm.filter((w) => !isMain(w));
    // Hydrated: a client-side navigation from the page's own nav works.
    await page.locator('nav a[href="/runs"]').first().click();
    await page.waitForURL(/\/runs$/);
    await page.getByTestId("runs-count").waitFor({ state: "attached" });
    assert.deepEqual(errors, [], `${path}: no page errors after navigating`);
    await page.close();
  }
  // The test build is split as the release one is (scripts/test.sh).
  assert.deepEqual(chunksOf["/runs"], [], "the runs list is in the main module");
  for (const path of ROUTES.slice(1)) {
    assert.ok(chunksOf[path].length > 0, `${path} loads its page's chunk`);
  }
  await context.close();
});

test("a lazy page reached by a link in the app loads and works", async () => {
  const { base } = ctx.server;
  const context = (await signedInPage(ctx.browser, base)).context();
  const { page, errors } = await coldVisit(context, base, "/runs");
  await page.locator('nav a[href="/specs"]').first().click();
  await page.waitForURL(/\/specs$/);
  await page.getByTestId("spec-new").click();
  await page.waitForURL(/\/specs\/new$/);
  await page.getByTestId("spec-load").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
