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

async function keystrokes(page, text, n) {
  return page.evaluate(async ({ text, n, rounds }) => {
    const box = document.querySelector('[data-testid="env-paste-text"]');
    const out = document.querySelector('[data-testid="env-paste-diff"]');
    const nextTask = () => new Promise((ok) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => ok();
      ch.port2.postMessage(0);
    });
    const times = [];
    for (let i = 0; i < rounds; i++) {
      const extra = i % 2 === 0;
      const want = `${extra ? 1 : 0} added, ${n} modified, 0 deleted`;
      box.value = extra ? `${text}ZZ_EXTRA=1\n` : text;
      const start = performance.now();
      box.dispatchEvent(new Event("input", { bubbles: true }));
      for (let spins = 0; out.textContent !== want; spins++) {
        if (spins > 100_000) throw new Error(`the diff never showed '${want}': '${out.textContent}'`);
        await nextTask();
      }
      times.push(performance.now() - start);
      await new Promise((ok) => requestAnimationFrame(() => ok()));
    }
    return times.slice(1);
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
    const times = await keystrokes(page, text, n);
    rows.push({ n, bytes: text.length, median: quantile(times, 0.5), p95: quantile(times, 0.95) });
  }
  const base = rows[0].median;
  console.log("\n## Env: one keystroke in the paste box → diff on screen (release WASM, headless Chromium)");
  console.log(`| keys | bytes | median | p95 | median / 5 keys | of a 16.7 ms frame |`);
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.n} | ${r.bytes} | ${r.median.toFixed(2)} ms | ${r.p95.toFixed(2)} ms | ${(r.median / base).toFixed(1)}× | ${(100 * r.median / 16.7).toFixed(0)}% |`);
  }
} finally {
  await browser.close();
  server.stop();
}
