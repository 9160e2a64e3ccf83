// Gives the main WASM module's JavaScript imports short names.
//
// wasm-bindgen names every browser function the module imports after the function and
// a hash (`__wbg_textContent_240d7f8264a6246e`), once in `fabrik.wasm`'s import section
// and once as a key of the import object in `fabrik.js`. The 240-odd hashes are 16 hex
// digits each and don't compress: 3.4 KiB of the main module's brotli bytes. This step
// renames each to a short name (`$0`, `$1`, …) in both files, then rewrites their
// precompressed copies.
//
// It refuses, changing nothing, unless every renamed import appears exactly once as a
// key in `fabrik.js`. A second run finds no hashed names and does nothing.
//
//   node scripts/wasm_short_imports.mjs [site-pkg-dir]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";

const PKG = process.argv[2] ?? "target/site/pkg";
const OUTPUT = "fabrik";
const JS_MODULE = `./${OUTPUT}_bg.js`;
const HASHED = /^__wbg_[A-Za-z0-9_$]+_[0-9a-f]{16}$/;

function fail(msg) {
  console.error(`wasm_short_imports: ${msg}; nothing was changed`);
  process.exit(1);
}

class Reader {
  constructor(buf, pos) {
    this.buf = buf;
    this.pos = pos;
  }
  uleb() {
    let value = 0,
      shift = 0,
      byte;
    do {
      byte = this.buf[this.pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  }
  name() {
    const n = this.uleb();
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}

const nameBytes = (s) => Buffer.concat([uleb(Buffer.byteLength(s)), Buffer.from(s)]);

/// Skips one import's description (what follows its module and field names).
function skipImportDesc(r) {
  const kind = r.buf[r.pos++];
  if (kind === 0) r.uleb();
  else if (kind === 1 || kind === 2) {
    if (kind === 1) r.pos++;
    const flags = r.uleb();
    r.uleb();
    if (flags & 1) r.uleb();
  } else if (kind === 3) r.pos += 2;
  else if (kind === 4) {
    r.pos++;
    r.uleb();
  } else fail(`unknown import kind ${kind}`);
}

/// The module with its import section's hashed names replaced; the old → new names.
function renameImports(wasm) {
  if (wasm.readUInt32LE(0) !== 0x6d736100) fail("not a WASM file");
  const r = new Reader(wasm, 8);
  while (r.pos < wasm.length) {
    const sectionStart = r.pos;
    const id = wasm[r.pos++];
    const size = r.uleb();
    const bodyStart = r.pos;
    if (id !== 2) {
      r.pos = bodyStart + size;
      continue;
    }
    const renames = new Map();
    let count = r.uleb();
    const parts = [uleb(count)];
    while (count--) {
      const module = r.name();
      const field = r.name();
      const descStart = r.pos;
      skipImportDesc(r);
      let name = field;
      if (module === JS_MODULE && HASHED.test(field)) {
        if (renames.has(field)) fail(`${field} is imported twice`);
        name = `$${renames.size.toString(36)}`;
        renames.set(field, name);
      }
      parts.push(nameBytes(module), nameBytes(name), wasm.subarray(descStart, r.pos));
    }
    if (r.pos !== bodyStart + size) fail("the import section did not parse to its end");
    const body = Buffer.concat(parts);
    const section = Buffer.concat([Buffer.from([2]), uleb(body.length), body]);
    return {
      wasm: Buffer.concat([wasm.subarray(0, sectionStart), section, wasm.subarray(bodyStart + size)]),
      renames,
    };
  }
  fail("no import section");
}

/// `fabrik.js` with each renamed import's key replaced; every old name must occur once.
function renameKeys(js, renames) {
  const found = new Map();
  const out = js.replace(/__wbg_[A-Za-z0-9_$]+_[0-9a-f]{16}\b/g, (old) => {
    if (!renames.has(old)) return old;
    found.set(old, (found.get(old) ?? 0) + 1);
    return renames.get(old);
  });
  for (const old of renames.keys()) {
    if (found.get(old) !== 1) fail(`${OUTPUT}.js names ${old} ${found.get(old) ?? 0} times, not once`);
  }
  return out;
}

function writeWithPrecompressed(path, bytes) {
  writeFileSync(path, bytes);
  if (existsSync(`${path}.br`)) {
    writeFileSync(`${path}.br`, zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  if (existsSync(`${path}.gz`)) writeFileSync(`${path}.gz`, zlib.gzipSync(bytes, { level: 9 }));
}

const wasmPath = join(PKG, `${OUTPUT}.wasm`);
const jsPath = join(PKG, `${OUTPUT}.js`);
if (!existsSync(wasmPath) || !existsSync(jsPath)) fail(`no ${wasmPath} or ${jsPath}: build the site first`);
const before = readFileSync(wasmPath);
const { wasm, renames } = renameImports(before);
if (renames.size === 0) {
  console.log("wasm_short_imports: no hashed import names left; nothing to do");
  process.exit(0);
}
const js = renameKeys(readFileSync(jsPath, "utf8"), renames);
if (!WebAssembly.validate(wasm)) fail("the renamed module does not validate");
writeWithPrecompressed(wasmPath, wasm);
writeWithPrecompressed(jsPath, js);
console.log(
  `wasm_short_imports: renamed ${renames.size} imports (${OUTPUT}.wasm ${before.length} → ${wasm.length} bytes)`,
);
