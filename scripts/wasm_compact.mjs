// Compacts how the main WASM module is encoded, changing nothing it does.
//
// - **Import names.** wasm-bindgen names every browser function the module imports after
//   the function and a hash (`__wbg_textContent_240d7f8264a6246e`), once in the import
//   section and once as a key of the import object in `fabrik.js`. The 240-odd hashes are
//   16 hex digits each and don't compress: 3.3 KiB of the module's brotli bytes. Each gets
//   a short name (`$0`, `$1`, …) in both files.
// - **Export names** that are Rust symbol names with their hash (wasm-bindgen's closure
//   shims, `_ZN12wasm_bindgen7convert8closures1_6invoke17h0bacf75849a1261fE`), which
//   `fabrik.js` calls: short names (`$e0`, …) in both files.
// - **The function table's initial contents.** After the split, the slots of functions
//   that live in chunks are written as explicit `ref.null` entries (3 bytes each, 4,000
//   of them), which is what an empty table holds anyway. The non-null entries are
//   written as plain function-index segments instead: 1.4 KiB.
// - **Toolchain notes** (`producers`, `target_features` custom sections), which no
//   browser reads.
//
// It refuses, changing nothing, unless every renamed name appears in `fabrik.js`, no new
// name is already used there, and the result validates. A second run finds nothing to do.
//
//   node scripts/wasm_compact.mjs [site-pkg-dir]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Reader, nameBytes, sectionBytes, sleb, uleb, writeWithPrecompressed } from "./wasm_bytes.mjs";

const PKG = process.argv[2] ?? "target/site/pkg";
const OUTPUT = "fabrik";
const JS_MODULE = `./${OUTPUT}_bg.js`;
const HASHED = /^__wbg_[A-Za-z0-9_$]+_[0-9a-f]{16}$/;
const HASHED_EXPORT = /^_ZN\w+17h[0-9a-f]{16}E(_\d+)?$/;

function fail(msg) {
  console.error(`wasm_compact: ${msg}; nothing was changed`);
  process.exit(1);
}

/// The import section with hashed names replaced (`null`: none left); old → new names.
function renameImports(wasm, start, end, renames) {
  const r = new Reader(wasm, start);
  let count = r.uleb();
  const parts = [uleb(count)];
  while (count--) {
    const module = r.name();
    const field = r.name();
    const descStart = r.pos;
    if (r.importDesc() < 0) fail("an import of unknown kind");
    let name = field;
    if (module === JS_MODULE && HASHED.test(field)) {
      if (renames.has(field)) fail(`${field} is imported twice`);
      name = `$${renames.size.toString(36)}`;
      renames.set(field, name);
    }
    parts.push(nameBytes(module), nameBytes(name), wasm.subarray(descStart, r.pos));
  }
  if (r.pos !== end) fail("the import section did not parse to its end");
  return renames.size ? Buffer.concat(parts) : null;
}

/// The export section with hashed symbol names replaced (`null`: none).
function renameExports(wasm, start, end, renames) {
  const r = new Reader(wasm, start);
  let count = r.uleb();
  const parts = [uleb(count)];
  let renamed = 0;
  while (count--) {
    const field = r.name();
    const descStart = r.pos;
    r.pos++;
    r.uleb();
    let name = field;
    if (HASHED_EXPORT.test(field)) {
      name = `$e${(renamed++).toString(36)}`;
      renames.set(field, name);
    }
    parts.push(nameBytes(name), wasm.subarray(descStart, r.pos));
  }
  if (r.pos !== end) fail("the export section did not parse to its end");
  return renamed ? Buffer.concat(parts) : null;
}

/// The element section without its `ref.null` entries (`null`: it has none). Only active
/// segments of the one function table with constant offsets are expected; anything else
/// leaves the section as it is.
function elementsWithoutNulls(wasm, start, end) {
  const r = new Reader(wasm, start);
  let count = r.uleb();
  const slots = new Map();
  let nulls = 0;
  while (count--) {
    const flags = r.uleb();
    if (flags !== 0 && flags !== 4) return null;
    if (wasm[r.pos++] !== 0x41) return null;
    const offset = r.sleb();
    if (wasm[r.pos++] !== 0x0b) return null;
    let n = r.uleb();
    for (let i = 0; n--; i++) {
      let func = null;
      if (flags === 0) func = r.uleb();
      else if (wasm[r.pos] === 0xd2) {
        r.pos++;
        func = r.uleb();
      } else if (wasm[r.pos] === 0xd0 && wasm[r.pos + 1] === 0x70) {
        r.pos += 2;
        nulls++;
      } else return null;
      if (flags === 4 && wasm[r.pos++] !== 0x0b) return null;
      if (slots.has(offset + i)) return null; // segments overlap: order would matter
      if (func !== null) slots.set(offset + i, func);
    }
  }
  if (r.pos !== end || nulls === 0) return null;
  // One segment per run of consecutive slots.
  const runs = [];
  for (const slot of [...slots.keys()].sort((a, b) => a - b)) {
    const last = runs.at(-1);
    if (last && last.offset + last.funcs.length === slot) last.funcs.push(slots.get(slot));
    else runs.push({ offset: slot, funcs: [slots.get(slot)] });
  }
  return Buffer.concat([
    uleb(runs.length),
    ...runs.flatMap((run) => [
      uleb(0),
      Buffer.from([0x41]),
      sleb(run.offset),
      Buffer.from([0x0b]),
      uleb(run.funcs.length),
      ...run.funcs.map(uleb),
    ]),
  ]);
}

const DROPPED_CUSTOM = new Set(["producers", "target_features"]);

/// The compacted module, what changed, and the old → new import names.
function compact(wasm) {
  if (wasm.length < 8 || wasm.readUInt32LE(0) !== 0x6d736100) fail("not a WASM file");
  const r = new Reader(wasm, 8);
  const parts = [wasm.subarray(0, 8)];
  const renames = new Map();
  const changed = [];
  while (r.pos < wasm.length) {
    const sectionStart = r.pos;
    const id = wasm[r.pos++];
    const size = r.uleb();
    const bodyStart = r.pos;
    const bodyEnd = bodyStart + size;
    r.pos = bodyEnd;
    let body = null;
    if (id === 0 && DROPPED_CUSTOM.has(new Reader(wasm, bodyStart).name())) {
      changed.push(`dropped the ${new Reader(wasm, bodyStart).name()} section`);
      continue;
    }
    if (id === 2) {
      body = renameImports(wasm, bodyStart, bodyEnd, renames);
      if (body) changed.push(`renamed ${renames.size} imports`);
    }
    if (id === 7) {
      const before = renames.size;
      body = renameExports(wasm, bodyStart, bodyEnd, renames);
      if (body) changed.push(`renamed ${renames.size - before} exports`);
    }
    if (id === 9) {
      body = elementsWithoutNulls(wasm, bodyStart, bodyEnd);
      if (body) changed.push("wrote the function table without its empty slots");
    }
    parts.push(body ? sectionBytes(id, body) : wasm.subarray(sectionStart, bodyEnd));
  }
  return { wasm: Buffer.concat(parts), changed, renames };
}

/// `fabrik.js` with each renamed import and export replaced. Every old name must occur in
/// it (as a key, a property or, unminified, a function of the same name), and no new
/// name may already be a word in it.
function renameInJs(js, renames) {
  for (const name of renames.values()) {
    if (new RegExp(`(^|[^\\w$])${name.replace("$", "\\$")}(?![\\w$])`).test(js)) {
      fail(`${OUTPUT}.js already has a name ${name}`);
    }
  }
  const found = new Set();
  const out = js.replace(/\b(?:__wbg_[A-Za-z0-9_$]+_[0-9a-f]{16}|_ZN\w+)\b/g, (old) => {
    if (!renames.has(old)) return old;
    found.add(old);
    return renames.get(old);
  });
  for (const old of renames.keys()) {
    if (!found.has(old)) fail(`${OUTPUT}.js never names ${old}`);
  }
  return out;
}

const wasmPath = join(PKG, `${OUTPUT}.wasm`);
const jsPath = join(PKG, `${OUTPUT}.js`);
if (!existsSync(wasmPath) || !existsSync(jsPath)) fail(`no ${wasmPath} or ${jsPath}: build the site first`);
const before = readFileSync(wasmPath);
const { wasm, changed, renames } = compact(before);
if (changed.length === 0) {
  console.log("wasm_compact: nothing to do");
  process.exit(0);
}
if (!WebAssembly.validate(wasm)) fail("the compacted module does not validate");
const js = renames.size ? renameInJs(readFileSync(jsPath, "utf8"), renames) : null;
writeWithPrecompressed(wasmPath, wasm);
if (js !== null) writeWithPrecompressed(jsPath, js);
console.log(`wasm_compact: ${changed.join("; ")} (${OUTPUT}.wasm ${before.length} → ${wasm.length} bytes)`);
