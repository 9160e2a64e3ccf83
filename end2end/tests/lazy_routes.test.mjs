// Pages built as WASM chunks of their own (`cargo leptos build --split`): each route,
// opened cold, hydrates and works; the runs list needs no page chunk at all, and a page
// that has one fetches it (preloaded by the server-rendered page).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { open, serverAndBrowser, signedInPage } from "../harness.mjs";

const ctx = serverAndBrowser();
const PKG = join(process.env.FABRIK_E2E_SITE ?? "target/site", "pkg");

const ROUTES = [
  "/runs",
  "/runs/board",
  "/runs/activity",
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
  "/no-such-page",
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

const isMain = (w) => w === "/pkg/fabrik.wasm";
const LAZY_DATA = "/pkg/fabrik_lazy_data.wasm";

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
    assert.ok(chunksOf[path].some((w) => w !== LAZY_DATA), `${path} loads its page's chunk`);
    // When the splitter left every constant in the main module, scripts/wasm_lazy_data.mjs
    // moved those only lazy code reads into a module that arrives with the first chunk.
    if (existsSync(join(PKG, "fabrik_lazy_data.wasm"))) {
      assert.ok(chunksOf[path].includes(LAZY_DATA), `${path} loads the lazy pages' constants`);
    }
  }
  await context.close();
});

test("an address nothing answers is a 404 page, a chunk of its own, that hydrates", async () => {
  const { base } = ctx.server;
  const context = (await signedInPage(ctx.browser, base)).context();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const response = await page.goto(`${base}/runs/board/nothing-here`);
  assert.equal(response.status(), 404);
  await page.waitForFunction(() => window.__hydrated === true, null, { timeout: 30_000 });
  await page.getByTestId("not-found").waitFor();
  assert.equal(await page.title(), "Page not found · Fabrik Mission Control");
  await page.getByRole("link", { name: "Go to runs" }).click();
  await page.waitForURL(/\/runs$/);
  await page.getByTestId("runs-count").waitFor({ state: "attached" });
  assert.deepEqual(errors, []);
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

test("constants only lazy pages use live outside the main module", () => {
  const main = readFileSync(join(PKG, "fabrik.wasm"));
  // Either the splitter put them in the page's chunk, or scripts/wasm_lazy_data.mjs moved
  // them to fabrik_lazy_data.wasm: in both cases a file fetched after the main module.
  const later = readdirSync(PKG)
    .filter((f) => f.endsWith(".wasm") && f !== "fabrik.wasm")
    .map((f) => readFileSync(join(PKG, f)));
  const wizard = "Ten questions turn an idea into a spec";
  const runs = "Every run, newest first.";
  assert.ok(!main.includes(wizard), "the spec wizard's text left the main module");
  assert.ok(later.some((b) => b.includes(wizard)), "and is in a chunk or the lazy data module");
  assert.ok(main.includes(runs), "the runs list's text is still in the main module");
});

test("the main module's imports and exports carry short names, not hashes", () => {
  // scripts/wasm_compact.mjs renamed them in the WASM and its JS glue alike; every
  // browser test above ran with the renamed pair.
  const js = readFileSync(join(PKG, "fabrik.js"), "utf8");
  assert.doesNotMatch(js, /__wbg_\w+_[0-9a-f]{16}\s*:/);
  assert.doesNotMatch(js, /_ZN\w+17h[0-9a-f]{16}E/);
  assert.match(js, /\$0\s*:\s*function/);
  assert.match(js, /\.\$e0\(/);
});
