// The env editor's paste box in headless Chromium: the time from one keystroke (an
// input event carrying the whole text) to the new diff summary on screen — parse +
// diff in WASM + render — for a 5,000-key .env against a 5,000-key set, as a ratio to
// the same keystroke with 5 keys, measured in the same page load.
// Run by scripts/bench.sh after `cargo leptos build --release`.
import { launchBrowser, open, signedInPage, startServer } from "../harness.mjs";

const SIZES = [5, 1_000, 5_000];
const ROUNDS = 41;

function dotenv(n) {
  let text = "";
  for (let i = 0; i < n; i++) text += `KEY_${String(i).padStart(5, "0")}="value ${i} with a space and a \\"quote\\""\n`;
  return text;
}

/// Per keystroke: `script` — the input event until the new summary is in the DOM,
/// polled between microtasks (parse + diff in WASM and the DOM update, nothing else);
/// `paint` — until the next frame has been produced (adds the browser's own layout of
/// the textarea and the page).
async function keystrokes(page, text, n) {
  return page.evaluate(async ({ text, n, rounds }) => {
    const box = document.querySelector('[data-testid="env-paste-text"]');
    const out = document.querySelector('[data-testid="env-paste-diff"]');
    const script = [], paint = [];
    for (let i = 0; i < rounds; i++) {
      const extra = i % 2 === 0;
      const want = `${extra ? 1 : 0} added, ${n} modified, 0 deleted`;
      box.value = extra ? `${text}ZZ_EXTRA=1\n` : text;
      await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
      const start = performance.now();
      box.dispatchEvent(new Event("input", { bubbles: true }));
      for (let spins = 0; out.textContent !== want; spins++) {
        if (spins > 10_000) throw new Error(`the diff never showed '${want}': '${out.textContent}'`);
        await Promise.resolve();
      }
      script.push(performance.now() - start);
      await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
      paint.push(performance.now() - start);
    }
    return { script: script.slice(1), paint: paint.slice(1) };
  }, { text, n, rounds: ROUNDS });
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const server = await startServer({ binary: "target/server-release/fabrik-server" });
const browser = await launchBrowser();
try {
  const page = await signedInPage(browser, server.base, { viewport: { width: 1280, height: 900 } });
  const rows = [];
  for (const n of SIZES) {
    const vars = {};
    for (let i = 0; i < n; i++) vars[`KEY_${String(i).padStart(5, "0")}`] = `value ${i}`;
    const put = await page.request.put(`${server.base}/api/v1/env/bench/k${n}`, {
      data: { vars }, headers: { origin: server.base },
    });
    if (!put.ok()) throw new Error(`storing the ${n}-key set: ${put.status()} ${await put.text()}`);
    await open(page, `${server.base}/env/bench/k${n}`);
    await page.getByTestId("env-paste").click();
    const text = dotenv(n);
    const { script, paint } = await keystrokes(page, text, n);
    rows.push({
      n, bytes: text.length,
      median: quantile(script, 0.5), p95: quantile(script, 0.95),
      paint: quantile(paint, 0.5),
    });
  }
  const base = rows[0].median;
  console.log("\n## Env: one keystroke in the paste box → diff on screen (release WASM, headless Chromium)");
  console.log("| keys | bytes | parse + diff + DOM, median | p95 | median / 5 keys | of a 16.7 ms frame | to the next frame, median |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.n} | ${r.bytes} | ${r.median.toFixed(2)} ms | ${r.p95.toFixed(2)} ms | ${(r.median / base).toFixed(1)}× | ${(100 * r.median / 16.7).toFixed(0)}% | ${r.paint.toFixed(1)} ms |`);
  }
} finally {
  await browser.close();
  server.stop();
}
