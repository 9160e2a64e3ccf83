// Starts a real fabrik-server (built by `cargo leptos build`) on a free port with a temp
// data dir, and a headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

export const ADMIN_PASSWORD = "admin-password-1";
export const ROOT = resolve(import.meta.dirname, "..");
export const SHOTS = join(ROOT, "end2end/screenshots");
mkdirSync(SHOTS, { recursive: true });

function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/// `binary`: the server to run (the benchmarks pass the release build's).
export async function startServer({ taskMs = 400, binary = "target/debug/fabrik-server", env = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "fabrik-e2e-"));
  const bundled = readFileSync(join(ROOT, "templates/demo.toml"), "utf8");
  mkdirSync(join(dataDir, "templates"));
  writeFileSync(
    join(dataDir, "templates/demo.toml"),
    bundled.replace('DEMO_TASK_MS = "2500"', `DEMO_TASK_MS = "${taskMs}"`),
  );
  const port = await freePort();
  const child = spawn(
    join(ROOT, binary),
    ["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, "--root", ROOT],
    {
      env: { ...process.env, FABRIK_ADMIN_PASSWORD: ADMIN_PASSWORD, LEPTOS_SITE_ROOT: process.env.FABRIK_E2E_SITE ?? join(ROOT, "target/site"), RUST_LOG: "warn", ...env },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, dataDir, stop: () => child.kill("SIGTERM") };
}

/// Starts a server and a browser before the calling file's tests and stops them after;
/// `ctx.server` and `ctx.browser` are set once they run.
export function serverAndBrowser(options) {
  const ctx = {};
  before(async () => {
    ctx.server = await startServer(options);
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    ctx.server?.stop();
  });
  return ctx;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/// Opens a page and waits until the WASM has hydrated it (clicks before are lost).
export async function open(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__hydrated === true, null, { timeout: 30_000 });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/// Signs in through the login form (a plain form post: works before hydration).
export async function signIn(page, base, { user = "admin", password = ADMIN_PASSWORD, next } = {}) {
  await page.goto(`${base}/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByTestId("login-username").fill(user);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"), { timeout: 30_000 });
}

/// A fresh signed-in page (own cookies).
export async function signedInPage(browser, base, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await signIn(page, base);
  return page;
}

export async function dispatchDemo(page, base) {
  await open(page, `${base}/dispatch`);
  await page.getByTestId("template-select").selectOption("demo");
  await page.getByTestId("dispatch-submit").click();
  await page.waitForURL(/\/runs\/[0-9A-Z]{26}$/, { timeout: 30_000 });
  return page.url().split("/").pop();
}

export async function waitStatus(page, status, timeout = 90_000) {
  await page.locator(`[data-testid="run-status"][data-status="${status}"]`).waitFor({ timeout });
}
