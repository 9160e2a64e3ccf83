// What each page's first visit downloads of the split release build (brotli q11, as
// served precompressed): the main module everyone gets (the shell, sign-in, the runs
// list), then each lazy page's own module and the shared chunks it needs
// (`__wasm_split_manifest.json`) plus the lazy pages' constants (`fabrik_lazy_data.wasm`,
// fetched with the first chunk), and the total across every file.
// Run after `cargo leptos build --release --split` and `node scripts/wasm_lazy_data.mjs`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";

const PKG = process.env.FABRIK_E2E_SITE ? `${process.env.FABRIK_E2E_SITE}/pkg` : "target/site/pkg";
const br = (file) =>
  zlib.brotliCompressSync(readFileSync(join(PKG, file)), {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
  }).length;
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

const files = readdirSync(PKG);
const sizes = Object.fromEntries(files.filter((f) => /\.(wasm|js)$/.test(f)).map((f) => [f, br(f)]));
const manifest = JSON.parse(readFileSync(join(PKG, "__wasm_split_manifest.json"), "utf8"));
const main = sizes["fabrik.wasm"];
const js = sizes["fabrik.js"] + (sizes[files.find((f) => f.startsWith("__wasm_split") && f.endsWith(".js"))] ?? 0);

console.log("## Release WASM, split by page (cargo leptos build --release --split; brotli q11)");
const lazyData = sizes["fabrik_lazy_data.wasm"] ?? 0;
console.log(`| first visit to /runs (main module) | JS glue | lazy pages' constants | all WASM files | files |`);
console.log("|---|---|---|---|---|");
const allWasm = Object.entries(sizes).filter(([f]) => f.endsWith(".wasm"));
console.log(`| ${(main / 1024).toFixed(1)} KiB (${main} bytes) | ${kib(js)} | ${kib(lazyData)} | ${kib(allWasm.reduce((a, [, n]) => a + n, 0))} | ${allWasm.length} |`);
console.log("\n| page (lazy) | its module + chunks + constants | first visit total (with main) |");
console.log("|---|---|---|");
// Pages inside a lazy frame (`/admin/*`, `/settings/*`) also need the frame's files.
const FRAMES = {
  admin_frame: ["overview", "metrics", "cluster", "credentials", "backups"],
  settings_frame: ["tokens", "notifications", "users", "audit_log", "prices", "observability"],
};
const pageName = (key) => key.replace(/^__/, "").replace(/(_view)?_\d+$/, "");
const filesOf = Object.fromEntries(
  Object.entries(manifest).map(([key, chunks]) => [pageName(key), [`split_${key}.wasm`, ...chunks.map((c) => `${c}.wasm`)]]),
);
const rows = Object.keys(filesOf)
  .filter((name) => !FRAMES[name])
  .map((name) => {
    const frame = Object.keys(FRAMES).find((f) => FRAMES[f].includes(name));
    const needed = new Set([...filesOf[name], ...(frame ? filesOf[frame] ?? [] : [])]);
    return [name, [...needed].reduce((a, f) => a + (sizes[f] ?? 0), lazyData)];
  });
for (const [name, extra] of rows.sort((a, b) => b[1] - a[1])) {
  console.log(`| ${name} | ${kib(extra)} | ${kib(main + extra)} |`);
}
