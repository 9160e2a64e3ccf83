// Reading and writing the WASM binary format, for the scripts that rewrite the built
// site (`wasm_lazy_data.mjs`, `wasm_compact.mjs`).
import { existsSync, writeFileSync } from "node:fs";
import zlib from "node:zlib";

export class Reader {
  constructor(buf, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
  u8() {
    return this.buf[this.pos++];
  }
  // LEB128: the value, and the last byte and shift for sign extension.
  leb() {
    let value = 0,
      shift = 0,
      byte;
    do {
      byte = this.buf[this.pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return { value, shift, byte };
  }
  uleb() {
    return this.leb().value;
  }
  sleb() {
    const { value, shift, byte } = this.leb();
    return byte & 0x40 ? value - 2 ** shift : value;
  }
  name() {
    const n = this.uleb();
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /// Skips one import's description (what follows its module and field names); its
  /// kind (0 function, 1 table, 2 memory, 3 global, 4 tag), or -1 if unknown.
  importDesc() {
    const kind = this.u8();
    if (kind === 0) this.uleb();
    else if (kind === 1 || kind === 2) {
      if (kind === 1) this.u8();
      const flags = this.uleb();
      this.uleb();
      if (flags & 1) this.uleb();
    } else if (kind === 3) this.pos += 2;
    else if (kind === 4) {
      this.u8();
      this.uleb();
    } else return -1;
    return kind;
  }
}

export function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}

export function sleb(n) {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n = Math.floor(n / 128);
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return Buffer.from(out);
    }
    out.push(byte | 0x80);
  }
}

export const sectionBytes = (id, payload) => Buffer.concat([Buffer.from([id]), uleb(payload.length), payload]);

export const nameBytes = (s) => Buffer.concat([uleb(Buffer.byteLength(s)), Buffer.from(s)]);

/// Writes `bytes` to `path` and, where the site is precompressed, its `.br` (level 11, as
/// cargo-leptos writes them) and `.gz` copies.
export function writeWithPrecompressed(path, bytes, { brotli = existsSync(`${path}.br`), gzip = existsSync(`${path}.gz`) } = {}) {
  writeFileSync(path, bytes);
  if (brotli) {
    writeFileSync(`${path}.br`, zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  if (gzip) writeFileSync(`${path}.gz`, zlib.gzipSync(bytes, { level: 9 }));
}
