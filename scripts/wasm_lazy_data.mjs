// Moves the constants only lazy pages use out of the main WASM module.
//
// `cargo leptos build --split` moves a lazy page's *code* into chunks. Its splitter tries
// to move constants (strings, class lists, HTML templates, tables) too, re-laying them
// out per module; when the re-laid segment comes out longer than the original (padding
// for alignment), it gives up and leaves every constant in the main module's data
// section, at its linked address. Then half of that data is only ever read by lazy code. This step finds it and moves it into a module of its own,
// `<output>_lazy_data.wasm`, which writes the same bytes at the same addresses. The split
// loader instantiates it before the first chunk runs, so no lazy code can read memory
// that isn't there yet; main-module code never reads it.
//
// What reads what comes from the linker's relocations (the split build links with
// `--emit-relocs`): a constant stays in the main module if any function there refers to
// it, directly or through another constant (a vtable, a static table). Anything unsure
// stays. The step refuses to change anything if the built files don't agree with each
// other, and runs once (a second run finds the loader already patched).
//
// Usage, after `cargo leptos build --release --split [--precompress]`:
//   node scripts/wasm_lazy_data.mjs [site-pkg-dir] [front-target-dir]
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Reader, sectionBytes, sleb, uleb, writeWithPrecompressed } from "./wasm_bytes.mjs";

const PKG = process.argv[2] ?? "target/site/pkg";
const FRONT = process.argv[3] ?? "target/front/wasm32-unknown-unknown/release";
const OUTPUT = "fabrik";
const MARKER = "/* lazy data loader */";
// Gaps of zeros shorter than this stay inside a data segment: a new segment costs more.
const MERGE_GAP = 8;

function fail(msg) {
  console.error(`wasm_lazy_data: ${msg}; nothing was changed`);
  process.exit(1);
}

// ---- reading WASM ----
function sections(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) fail("not a WASM file");
  const r = new Reader(buf, 8);
  const out = [];
  while (r.pos < buf.length) {
    const idPos = r.pos;
    const id = r.u8();
    const size = r.uleb();
    const headerStart = r.pos;
    let name = null;
    if (id === 0) name = r.name();
    out.push({ id, name, start: r.pos, end: headerStart + size, idPos });
    r.pos = headerStart + size;
  }
  return out;
}

const section = (secs, id, name) => secs.find((s) => s.id === id && (name === undefined || s.name === name));

function importedFunctionCount(buf, sec) {
  const r = new Reader(buf, sec.start);
  let count = r.uleb(),
    funcs = 0;
  while (count--) {
    r.name();
    r.name();
    const kind = r.importDesc();
    if (kind < 0) fail("an import of unknown kind");
    if (kind === 0) funcs++;
  }
  return funcs;
}

function functionNames(buf, sec) {
  const r = new Reader(buf, sec.start);
  const names = new Map();
  while (r.pos < sec.end) {
    const sub = r.u8();
    const size = r.uleb();
    const end = r.pos + size;
    if (sub === 1) {
      let n = r.uleb();
      while (n--) {
        const index = r.uleb();
        names.set(index, r.name());
      }
    }
    r.pos = end;
  }
  return names;
}

function codeBodyStarts(buf, sec) {
  const r = new Reader(buf, sec.start);
  let n = r.uleb();
  const starts = [];
  while (n--) {
    const size = r.uleb();
    starts.push(r.pos - sec.start);
    r.pos += size;
  }
  return starts;
}

function dataSegments(buf, sec) {
  const r = new Reader(buf, sec.start);
  let n = r.uleb();
  const segs = [];
  while (n--) {
    const flags = r.uleb();
    if (flags === 1) fail("passive data segments are not handled");
    if (flags === 2) r.uleb();
    if (r.u8() !== 0x41) fail("a data segment's offset is not a constant");
    const base = r.sleb();
    if (r.u8() !== 0x0b) fail("a data segment's offset is not a constant");
    const size = r.uleb();
    segs.push({ base, size, start: r.pos });
    r.pos += size;
  }
  return segs;
}

// The linker's symbol table and segment names (the `linking` custom section).
function linking(buf, sec) {
  const r = new Reader(buf, sec.start);
  r.uleb(); // version
  const symbols = [];
  const segmentNames = [];
  while (r.pos < sec.end) {
    const kind = r.u8();
    const size = r.uleb();
    const end = r.pos + size;
    if (kind === 8) {
      let n = r.uleb();
      while (n--) {
        const sym = { kind: r.u8(), flags: r.uleb() };
        const undefined_ = sym.flags & 0x10;
        if (sym.kind === 0 || sym.kind === 2 || sym.kind === 4 || sym.kind === 5) {
          sym.index = r.uleb();
          if (!undefined_ || sym.flags & 0x40) sym.name = r.name();
        } else if (sym.kind === 1) {
          sym.name = r.name();
          if (!undefined_) {
            sym.segment = r.uleb();
            sym.offset = r.uleb();
            sym.size = r.uleb();
          }
        } else if (sym.kind === 3) {
          sym.section = r.uleb();
        } else fail(`unknown symbol kind ${sym.kind}`);
        symbols.push(sym);
      }
    } else if (kind === 5) {
      let n = r.uleb();
      while (n--) {
        segmentNames.push(r.name());
        r.uleb();
        r.uleb();
      }
    }
    r.pos = end;
  }
  return { symbols, segmentNames };
}

const WITH_ADDEND = new Set([3, 4, 5, 8, 9, 11, 14, 15, 16, 17, 21, 22, 23, 25]);
const MEMORY_ADDRESS = new Set([3, 4, 5, 11, 14, 15, 16, 17, 23]);
// Relocation type → width of a function-table index or function index stored in data.
const TABLE_INDEX_IN_DATA = { 2: 4, 19: 8, 26: 4 };

function relocations(buf, sec) {
  const r = new Reader(buf, sec.start);
  r.uleb(); // target section
  let n = r.uleb();
  const out = [];
  while (n--) {
    const type = r.u8();
    const offset = r.uleb();
    const symbol = r.uleb();
    const addend = WITH_ADDEND.has(type) ? r.sleb() : 0;
    out.push({ type, offset, symbol, addend });
  }
  return out;
}

// ---- which constants only lazy code reads ----
function lazyRanges(full, mainSplit) {
  const secs = sections(full);
  const need = (id, name) => section(secs, id, name) ?? fail(`${FRONT}/frontend.wasm has no ${name ?? id} section (was it built with --split?)`);
  const code = need(10);
  const data = need(11);
  const imported = importedFunctionCount(full, need(2));
  const names = functionNames(full, need(0, "name"));
  const { symbols, segmentNames } = linking(full, need(0, "linking"));
  const segs = dataSegments(full, data);
  const bodyStarts = codeBodyStarts(full, code);

  const mainSecs = sections(mainSplit);
  const mainNames = new Set(functionNames(mainSplit, section(mainSecs, 0, "name") ?? fail("the split main module has no names")).values());
  const fullNames = new Set(names.values());
  const known = [...mainNames].filter((n) => fullNames.has(n)).length;
  if (known < mainNames.size * 0.9) fail(`only ${known} of ${mainNames.size} main-module functions are in frontend.wasm: the two builds differ`);

  const rodata = segmentNames.indexOf(".rodata");
  if (rodata < 0) fail("no .rodata segment");
  const splitRodata = dataSegments(mainSplit, section(mainSecs, 11) ?? fail("the split main module has no data")).find(
    (s) => s.base === segs[rodata].base,
  );
  if (!splitRodata || splitRodata.size !== segs[rodata].size) return null; // the splitter moved them
  const dataSyms = [];
  symbols.forEach((s, i) => {
    if (s.kind === 1 && s.segment !== undefined) {
      s.address = segs[s.segment].base + s.offset;
      dataSyms.push(i);
    }
  });
  dataSyms.sort((a, b) => symbols[a].address - symbols[b].address);
  const addresses = dataSyms.map((i) => symbols[i].address);
  const containing = (address) => {
    let lo = 0,
      hi = addresses.length - 1,
      found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (addresses[mid] <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const s = symbols[dataSyms[found]];
    return address < s.address + Math.max(s.size, 1) ? dataSyms[found] : undefined;
  };
  const functionAt = (offset) => {
    let lo = 0,
      hi = bodyStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bodyStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + imported;
  };
  // A reference marks the symbol and the symbol its address + addend falls in.
  const targets = (rel) => {
    const s = symbols[rel.symbol];
    const out = [];
    if (s.kind === 1 && s.address !== undefined) {
      out.push(rel.symbol);
      const inner = containing(s.address + rel.addend);
      if (inner !== undefined) out.push(inner);
    } else if (s.kind === 1) {
      // An undefined data symbol: nothing to place.
    } else fail(`a memory relocation against a symbol of kind ${s.kind}`);
    return out;
  };

  const fromMain = new Set();
  const fromAny = new Set();
  for (const rel of relocations(full, need(0, "reloc.CODE")).filter((r) => MEMORY_ADDRESS.has(r.type))) {
    const inMain = mainNames.has(names.get(functionAt(rel.offset)));
    for (const t of targets(rel)) {
      fromAny.add(t);
      if (inMain) fromMain.add(t);
    }
  }
  // Constants that point at constants (vtables, static tables, &str in structs).
  const pointsTo = new Map();
  // Function-table indices in data (vtables): the split renumbers the table, so these
  // bytes differ between the linker's output and the built module.
  const tableIndexBytes = [];
  for (const rel of relocations(full, need(0, "reloc.DATA"))) {
    const at = data.start + rel.offset;
    const seg = segs.find((s) => s.start <= at && at < s.start + s.size);
    if (!seg) continue;
    if (TABLE_INDEX_IN_DATA[rel.type]) {
      tableIndexBytes.push([seg.base + (at - seg.start), TABLE_INDEX_IN_DATA[rel.type]]);
      continue;
    }
    if (!MEMORY_ADDRESS.has(rel.type)) continue;
    const from = containing(seg.base + (at - seg.start));
    if (from === undefined) fail("a pointer in data outside any symbol");
    if (!pointsTo.has(from)) pointsTo.set(from, new Set());
    for (const t of targets(rel)) pointsTo.get(from).add(t);
  }
  const closure = (roots) => {
    const seen = new Set(roots);
    const stack = [...roots];
    while (stack.length) {
      for (const t of pointsTo.get(stack.pop()) ?? []) {
        if (!seen.has(t)) {
          seen.add(t);
          stack.push(t);
        }
      }
    }
    return seen;
  };
  const keep = closure(fromMain);
  const any = closure(fromAny);
  const ranges = [];
  for (const i of any) {
    const s = symbols[i];
    if (!keep.has(i) && s.segment === rodata && s.size > 0) ranges.push([s.address, s.address + s.size]);
  }
  // Bytes a kept symbol covers stay, even if a lazy one overlaps them.
  const kept = [];
  for (const i of keep) {
    const s = symbols[i];
    if (s.segment === rodata) kept.push([s.address, s.address + Math.max(s.size, 1)]);
  }
  return { ranges, kept, tableIndexBytes, rodata: segs[rodata], full };
}

// ---- rewriting ----
function activeSegments(image, base, mask) {
  // Runs of bytes where mask is set, merged across short gaps.
  const segs = [];
  let i = 0;
  while (i < image.length) {
    if (!mask(i)) {
      i++;
      continue;
    }
    let end = i + 1,
      gap = 0;
    for (let j = end; j < image.length; j++) {
      if (mask(j)) {
        end = j + 1;
        gap = 0;
      } else if (++gap >= MERGE_GAP) break;
    }
    segs.push([i, end]);
    i = end;
  }
  const payload = [uleb(segs.length)];
  for (const [s, e] of segs) {
    payload.push(Buffer.from([0, 0x41]), sleb(base + s), Buffer.from([0x0b]), uleb(e - s), image.subarray(s, e));
  }
  return { count: segs.length, payload: Buffer.concat(payload) };
}

function rewriteMain(mainBuf, lazy) {
  const secs = sections(mainBuf);
  const dataSec = section(secs, 11) ?? fail("the main module has no data");
  const segs = dataSegments(mainBuf, dataSec);
  const base = Math.min(...segs.map((s) => s.base));
  const top = Math.max(...segs.map((s) => s.base + s.size));
  const image = Buffer.alloc(top - base);
  for (const s of segs) mainBuf.copy(image, s.base - base, s.start, s.start + s.size);

  // The built main module must hold the very bytes the linker placed there.
  const ro = lazy.rodata;
  const linked = Buffer.from(lazy.full.subarray(ro.start, ro.start + ro.size));
  const built = Buffer.from(image.subarray(ro.base - base, ro.base - base + ro.size));
  for (const [at, width] of lazy.tableIndexBytes) {
    if (at >= ro.base && at + width <= ro.base + ro.size) {
      linked.fill(0, at - ro.base, at - ro.base + width);
      built.fill(0, at - ro.base, at - ro.base + width);
    }
  }
  for (const [s, e] of lazy.ranges) {
    const a = linked.subarray(s - ro.base, e - ro.base);
    const b = built.subarray(s - ro.base, e - ro.base);
    if (Buffer.compare(a, b) !== 0) fail(`the main module's bytes at ${s} differ from the linker's: was it built from another frontend.wasm?`);
  }
  const move = new Uint8Array(image.length);
  for (const [s, e] of lazy.ranges) move.fill(1, s - base, e - base);
  for (const [s, e] of lazy.kept) move.fill(0, Math.max(s - base, 0), Math.min(e - base, image.length));

  const stay = activeSegments(image, base, (i) => !move[i] && image[i] !== 0);
  const moved = activeSegments(image, base, (i) => move[i] === 1);

  const parts = [mainBuf.subarray(0, 8)];
  for (const s of secs) {
    const whole = mainBuf.subarray(s.idPos, s.end);
    if (s.id === 11) parts.push(sectionBytes(11, stay.payload));
    else if (s.id === 12) parts.push(sectionBytes(12, uleb(stay.count)));
    else parts.push(whole);
  }
  const header = Buffer.concat([
    Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0]),
    // (import "__wasm_split" "memory" (memory 0))
    sectionBytes(2, Buffer.concat([uleb(1), uleb(12), Buffer.from("__wasm_split"), uleb(6), Buffer.from("memory"), Buffer.from([2, 0, 0])])),
    sectionBytes(11, moved.payload),
  ]);
  return { main: Buffer.concat(parts), lazyModule: header, movedBytes: move.reduce((a, b) => a + b, 0) };
}

function patchLoader(js, file) {
  const wait = "await Promise.all(parallelStuff);";
  if (!js.includes(wait) || !js.includes("function makeLoad(")) fail("the split loader looks different from what this step knows");
  const loader = `${MARKER}
let lazyData = undefined;
function loadLazyData() {
    if (lazyData === undefined) {
        lazyData = WebAssembly.instantiateStreaming(fetch(new URL("./${file}", import.meta.url)), getSharedImports());
        lazyData.catch(() => { lazyData = undefined; });
    }
    return lazyData;
}
function makeLoad(`;
  return js.replace("function makeLoad(", loader).replace(wait, "await Promise.all([...parallelStuff, loadLazyData()]);");
}

// New files get precompressed copies when the main module has them.
const precompressed = (path) => ({
  brotli: existsSync(`${path}.br`) || existsSync(join(PKG, `${OUTPUT}.wasm.br`)),
  gzip: existsSync(`${path}.gz`) || existsSync(join(PKG, `${OUTPUT}.wasm.gz`)),
});

const loaderFile = readdirSync(PKG).find((f) => f.startsWith("__wasm_split") && f.endsWith(".js"));
if (!loaderFile) fail(`no split loader in ${PKG}: build with --split`);
const loaderJs = readFileSync(join(PKG, loaderFile), "utf8");
if (loaderJs.includes(MARKER)) {
  console.log("wasm_lazy_data: already applied to this build");
  process.exit(0);
}
const lazy = lazyRanges(readFileSync(join(FRONT, "frontend.wasm")), readFileSync(join(FRONT, "frontend_split.wasm")));
const lazyFile = `${OUTPUT}_lazy_data.wasm`;
if (lazy === null) {
  for (const suffix of ["", ".br", ".gz"]) rmSync(join(PKG, lazyFile + suffix), { force: true });
  console.log("wasm_lazy_data: the splitter already put each chunk's constants in the chunk; nothing to do");
  process.exit(0);
}
const mainPath = join(PKG, `${OUTPUT}.wasm`);
const before = readFileSync(mainPath);
const { main, lazyModule, movedBytes } = rewriteMain(before, lazy);
await WebAssembly.compile(main).catch((e) => fail(`the rewritten main module does not validate: ${e.message}`));
await WebAssembly.compile(lazyModule).catch((e) => fail(`the lazy data module does not validate: ${e.message}`));

writeWithPrecompressed(join(PKG, lazyFile), lazyModule, precompressed(join(PKG, lazyFile)));
writeWithPrecompressed(join(PKG, loaderFile), Buffer.from(patchLoader(loaderJs, lazyFile)), precompressed(join(PKG, loaderFile)));
writeWithPrecompressed(mainPath, main);
console.log(
  `wasm_lazy_data: moved ${movedBytes} bytes of lazy-only constants out of ${OUTPUT}.wasm ` +
    `(${before.length} → ${main.length} bytes; ${lazyFile} ${lazyModule.length} bytes)`,
);
