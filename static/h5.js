// The HDF5 side of regaudit in the browser: h5wasm, wrapped in a few plain functions that
// Python calls through `pyodide.registerJsModule("regaudit_h5", api)` (see
// src/regaudit/sources/h5wasm_backend.py). Values cross as plain numbers, strings and arrays.
//
// Reads stay inside the file (docs/security.md): while HDF5 runs, h5wasm's file system opens
// nothing but the file being opened (an external link's file, a virtual dataset's sources and
// external raw storage are all refused, and each refusal is counted); `kind` follows hard links
// only; `dataset_info` says when a dataset's numbers live elsewhere.
//
// Weight sums are computed here, over typed-array views of h5wasm's heap, in row slices of at
// most WINDOW_BYTES, so memory stays flat whatever the tensor's size; a big tensor stored in one
// piece is read past HDF5 with the streams API instead (rawPlace, rawStats, jobs). They
// reproduce the CPython backend bit for bit: the same blocks of BLOCK_BYTES
// (h5py_backend.SLICE_BYTES) and, inside a block, numpy's pairwise summation order (addBlock),
// so the page's JSON equals the CLI's.

const BLOCK_BYTES = 32 * 1024 * 1024; // = regaudit.sources.h5py_backend.SLICE_BYTES
const WINDOW_BYTES = 8 * 1024 * 1024; // what is read from the file at once
const RAW_MIN_BYTES = 4 * BLOCK_BYTES; // datasets this big are read by rawStats when they can
const PW_BLOCKSIZE = 128; // numpy's pairwise-summation leaf size

// H5T_class_t
const INTEGER = 0;
const FLOAT = 1;
const STRING = 3;
const ENUM = 8;

export function makeH5Api(h5wasm, Module) {
  const { FS } = Module;
  const files = new Map(); // handle -> { file, memPath, sliceDir }
  let nextHandle = 1;
  let nextMem = 1;
  let nextSlice = 1;
  const utf8 = new TextDecoder("utf-8");
  const stderr = captureStderr(FS, utf8);
  const opens = guardOpens(FS);

  // Run one HDF5 call; turn a failure into an Error with HDF5's own words, h5py-style
  // ("Unable to synchronously open file (truncated file: eof = ...)"). During the call the
  // file system opens `path` (the file being opened) and nothing else.
  function call(fn, path = null) {
    stderr.take();
    try {
      return opens.only(path, fn);
    } catch (e) {
      if (e instanceof Outside) throw e;
      const hdf5 = hdf5Message(stderr.take());
      throw new Error(hdf5 || (e && e.message) || String(e));
    }
  }

  // Links on the way to `path` that are not hard links: "soft", "external" or null. Each
  // prefix is asked about before anything goes through it (h5wasm's two link readers do not
  // follow the last link of the path they are given); known hard prefixes are remembered.
  function linkOnTheWay(handle, fid, path) {
    const hard = files.get(handle).hard;
    let prefix = "";
    for (const part of path.split("/")) {
      if (!part) continue;
      prefix += `/${part}`;
      if (hard.has(prefix)) continue;
      if (Module.get_symbolic_link(fid, prefix) !== null) return "soft";
      const external = Module.get_external_link(fid, prefix);
      if (external && external.filename !== undefined) return "external";
      hard.add(prefix);
    }
    return null;
  }

  // Why a dataset's numbers are not in the file ("virtual", "external-storage"), or null.
  // h5wasm does not report external raw storage: reading one element tells, since HDF5 then
  // asks the file system for another file. Such storage is always contiguous.
  function storageOutside(fid, path, md) {
    if (md.virtual_sources) return "virtual";
    if (md.chunks || md.vlen || !md.shape || !md.total_size) return null;
    const ptr = malloc(md.size);
    const refused = opens.refused;
    try {
      const one = md.shape.length ? md.shape.map(() => 1n) : null;
      const origin = md.shape.length ? md.shape.map(() => 0n) : null;
      Module.get_dataset_data(fid, path, one, origin, one, BigInt(ptr));
    } catch {
      // a damaged dataset: reading it later says so
    } finally {
      Module._free(ptr);
    }
    return opens.refused > refused ? "external-storage" : null;
  }

  function failed(what) {
    return new Error(hdf5Message(stderr.take()) || what);
  }

  function fileOf(handle) {
    const entry = files.get(handle);
    if (!entry) throw new Error("the HDF5 file is already closed");
    return entry.file;
  }

  function malloc(nbytes) {
    const ptr = Module._malloc(Math.max(1, nbytes));
    if (!ptr) throw new Error(`out of memory reading ${nbytes} bytes`);
    return ptr;
  }

  function cString(ptr) {
    if (!ptr) return "";
    const heap = Module.HEAPU8;
    let end = ptr;
    while (heap[end] !== 0) end++;
    return utf8.decode(heap.subarray(ptr, end));
  }

  // Raw bytes (copied) of `count` elements of `size` bytes, plus a numeric reader.
  function numbers(bytes, md, count) {
    const { type, size, signed } = md;
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + size * count);
    if (type === FLOAT) {
      if (size === 8) return Array.from(new Float64Array(buf));
      if (size === 4) return Array.from(new Float32Array(buf));
      if (size === 2) return Array.from(new Uint16Array(buf), halfToNumber);
      return null;
    }
    if (size === 8) return Array.from(signed ? new BigInt64Array(buf) : new BigUint64Array(buf), Number);
    if (size === 4) return Array.from(signed ? new Int32Array(buf) : new Uint32Array(buf));
    if (size === 2) return Array.from(signed ? new Int16Array(buf) : new Uint16Array(buf));
    if (size === 1) return Array.from(signed ? new Int8Array(buf) : new Uint8Array(buf));
    return null;
  }

  function isBoolEnum(md) {
    const names = md.enum_type && md.enum_type.members ? Object.keys(md.enum_type.members) : [];
    return names.length === 2 && names.includes("FALSE") && names.includes("TRUE");
  }

  // numpy's name for an HDF5 type, as h5py reports it (str(dataset.dtype)).
  function dtypeName(md) {
    const le = md.littleEndian || md.size === 1;
    if (md.type === FLOAT) {
      return le ? `float${md.size * 8}` : `>f${md.size}`;
    }
    if (md.type === INTEGER) {
      const kind = md.signed ? "int" : "uint";
      return le ? `${kind}${md.size * 8}` : `>${md.signed ? "i" : "u"}${md.size}`;
    }
    if (md.type === ENUM) {
      if (isBoolEnum(md)) return "bool";
      return dtypeName({ ...md, type: md.enum_type.type, signed: md.enum_type.signed ?? md.signed });
    }
    if (md.type === STRING) return md.vlen ? "object" : `|S${md.size}`;
    return `|V${md.size}`;
  }

  function readAttr(fid, path, name) {
    const md = Module.get_attribute_metadata(fid, path, name);
    if (!md.shape) return { kind: "none", shape: [], values: [] };
    const count = md.total_size;
    const nbytes = md.size * count;
    const ptr = malloc(nbytes);
    let kind = "bytes";
    let values = null;
    try {
      if (Module.get_attribute_data(fid, path, name, BigInt(ptr)) < 0) {
        throw failed(`Unable to read attribute '${name}'`);
      }
      const bytes = Module.HEAPU8.subarray(ptr, ptr + nbytes);
      if (md.type === STRING) {
        kind = "str";
        values = [];
        if (md.vlen) {
          const ptrs = new Uint32Array(bytes.slice().buffer);
          for (const p of ptrs) values.push(cString(p));
          Module.reclaim_vlen_memory(fid, path, name, BigInt(ptr));
        } else {
          for (let i = 0; i < count; i++) {
            let item = bytes.subarray(i * md.size, (i + 1) * md.size);
            let end = item.length;
            while (end > 0 && item[end - 1] === 0) end--; // numpy strips trailing NULs only
            values.push(utf8.decode(item.subarray(0, end)));
          }
        }
      } else if (md.type === FLOAT || md.type === INTEGER) {
        values = numbers(bytes, md, count);
        kind = md.type === FLOAT ? "float" : "int";
      } else if (md.type === ENUM) {
        values = numbers(bytes, { ...md, type: md.enum_type.type }, count);
        kind = isBoolEnum(md) ? "bool" : "int";
      }
      if (values === null) {
        kind = "bytes";
        values = [Array.from(bytes)];
      }
    } finally {
      Module._free(ptr);
    }
    return { kind, shape: md.shape, values };
  }

  // Numbers of a window, as something indexable by element: views where possible.
  function windowView(ptr, md, count) {
    const { type, size, signed } = md;
    const buffer = Module.HEAPU8.buffer;
    if (type === FLOAT && size === 4) return new Float32Array(buffer, ptr, count);
    if (type === FLOAT && size === 8) return new Float64Array(buffer, ptr, count);
    const bytes = Module.HEAPU8.subarray(ptr, ptr + size * count);
    const out = new Float64Array(count);
    const nums = numbers(bytes, md, count);
    if (nums === null) throw new Error(`unsupported number type (${size} bytes)`);
    out.set(nums);
    return out;
  }

  // What a dataset's sums need to know, or null when there is nothing to sum.
  function numericLayout(fid, path) {
    const md = Module.get_dataset_metadata(fid, path);
    if (md.virtual_sources) throw new Outside("virtual"); // checked before, and again here
    let numeric = md.type === FLOAT || md.type === INTEGER;
    if (md.type === ENUM) {
      numeric = true;
      Object.assign(md, { type: md.enum_type.type });
    }
    if (!numeric || !md.shape) return null;
    const shape = md.shape;
    const rowLen = shape.slice(1).reduce((a, b) => a * b, 1);
    const rowBytes = Math.max(1, md.size * rowLen);
    const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
    return { md, shape, rows: shape[0], rowLen, rowBytes, blockRows };
  }

  // fn(), a read through HDF5; one that wanted another file (external raw storage, refused by
  // guardOpens) is reported as such.
  function inFile(fn) {
    const refused = opens.refused;
    try {
      return fn();
    } catch (e) {
      if (opens.refused > refused) throw new Outside("external-storage");
      throw e;
    }
  }

  // Rows [row, row + count) through HDF5 into the heap at ptr, as numbers.
  function readRows(fid, path, layout, ptr, row, count) {
    const { md, shape, rowLen } = layout;
    const sizes = [BigInt(count), ...shape.slice(1).map(BigInt)];
    const offset = [BigInt(row), ...shape.slice(1).map(() => 0n)];
    const strides = shape.map(() => 1n);
    const status = inFile(() => Module.get_dataset_data(fid, path, sizes, offset, strides,
      BigInt(ptr)));
    if (status < 0) throw failed(`Unable to read dataset '${path}'`);
    return windowView(ptr, md, count * rowLen);
  }

  function scalarStats(fid, path, md) {
    const ptr = malloc(md.size);
    try {
      const status = inFile(() => Module.get_dataset_data(fid, path, null, null, null,
        BigInt(ptr)));
      if (status < 0) throw failed(`Unable to read dataset '${path}'`);
      const v = windowView(ptr, md, 1)[0];
      return [1, Math.abs(v), v * v];
    } finally {
      Module._free(ptr);
    }
  }

  // Sums read through HDF5, a window of at most WINDOW_BYTES at a time.
  function datasetStats(fid, path) {
    const layout = numericLayout(fid, path);
    if (!layout) return [0, 0, 0];
    if (layout.shape.length === 0) return scalarStats(fid, path, layout.md);
    const { rows, rowLen, rowBytes, blockRows } = layout;
    const windowRows = Math.max(2, Math.floor(WINDOW_BYTES / rowBytes));
    const ptr = malloc(Math.min(windowRows, rows) * rowLen * layout.md.size);
    const sums = [0, 0, 0];
    try {
      for (let start = 0; start < rows; start += blockRows) {
        const end = Math.min(start + blockRows, rows);
        addBlock(sums, start, end, rowLen, (row) => {
          const to = Math.min(row + windowRows, end);
          return { view: readRows(fid, path, layout, ptr, row, to - row), from: row, to };
        });
      }
    } finally {
      Module._free(ptr);
    }
    return sums;
  }

  // Where the numbers of a big dataset of little-endian floats stored in one piece (HDF5's
  // contiguous layout) are in the file, so that they can be read without HDF5: HDF5 reads the
  // first window, and if it read it straight from the file into our buffer, in one piece, that
  // is where the data starts. Null for any other dataset (read through HDF5 instead).
  function rawPlace(fid, path) {
    const layout = numericLayout(fid, path);
    if (!layout || layout.shape.length === 0) return null;
    const { md, rows, rowBytes, blockRows } = layout;
    const floats = md.littleEndian && md.type === FLOAT && (md.size === 4 || md.size === 8);
    const bytes = rows * rowBytes;
    if (!floats || md.chunks || bytes < RAW_MIN_BYTES || blockRows * rowBytes > BLOCK_BYTES) {
      return null;
    }
    const probeRows = Math.min(rows, Math.max(1, Math.floor(WINDOW_BYTES / rowBytes)));
    const ptr = malloc(probeRows * rowBytes);
    lastBigRead = null;
    try {
      readRows(fid, path, layout, ptr, 0, probeRows);
    } finally {
      Module._free(ptr);
    }
    const read = lastBigRead;
    if (!read || read.into !== ptr || read.length !== probeRows * rowBytes) return null;
    return { blob: read.file.slice(read.position, read.position + bytes), layout };
  }

  // Sums of such a dataset, read with the streams API (faster than FileReaderSync, which is
  // all a synchronous call can use) into one reused buffer, a block at a time.
  async function rawStats({ blob, layout }) {
    const { md, rows, rowLen, rowBytes, blockRows } = layout;
    const Typed = md.size === 4 ? Float32Array : Float64Array;
    const reader = blob.stream().getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(Math.min(blockRows, rows) * rowBytes);
    const sums = [0, 0, 0];
    try {
      for (let start = 0; start < rows; start += blockRows) {
        const end = Math.min(start + blockRows, rows);
        buffer = await fill(reader, buffer, (end - start) * rowBytes);
        const view = new Typed(buffer, 0, (end - start) * rowLen);
        addBlock(sums, start, end, rowLen, () => ({ view, from: start, to: end }));
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return sums;
  }

  // Big tensors, read asynchronously between two passes of an audit (see worker.js): while
  // `deferring`, stats() of a big contiguous tensor with no sums known yet notes where it is
  // and answers with its count and zero sums; readDeferred() then reads them all, and the
  // second pass gets the real sums from `known`.
  let deferring = false;
  const deferred = new Map(); // key -> place
  const known = new Map(); // key -> [count, Σ|v|, Σv²]

  function open(path) {
    const file = call(() => new h5wasm.File(path, "r"), path);
    if (file.file_id < 0n) throw failed("Unable to open the file as HDF5");
    const handle = nextHandle++;
    // origin: which bytes of the audited file this is (a key for `known`, see stats).
    files.set(handle, { file, memPath: null, sliceDir: null, origin: "file", hard: new Set() });
    return handle;
  }

  const api = {
    // Open a path in h5wasm's file system (the worker mounts the user's File there).
    open,
    // An in-memory copy, for a file object (a member of a .keras zip): create, write, open.
    mem_create() {
      try {
        FS.mkdir("/mem");
      } catch {
        // exists
      }
      const path = `/mem/${nextMem++}.h5`;
      FS.writeFile(path, new Uint8Array(0));
      return path;
    },
    mem_write(path, chunk) {
      const view = chunk.getBuffer("u8");
      try {
        const stream = FS.open(path, "a");
        try {
          FS.write(stream, view.data, 0, view.data.length);
        } finally {
          FS.close(stream);
        }
      } finally {
        view.release();
      }
    },
    mem_delete(path) {
      FS.unlink(path);
    },
    open_mem(path) {
      let handle;
      try {
        handle = open(path);
      } catch (e) {
        FS.unlink(path);
        throw e;
      }
      Object.assign(files.get(handle), { memPath: path, origin: "copy" });
      return handle;
    },
    // Bytes [start, start + size) of a mounted file, as an HDF5 file of its own, read in
    // place: a .keras archive stores model.weights.h5 uncompressed, so no copy is needed.
    open_slice(path, start, size) {
      const file = mounted.get(path);
      if (!file) throw new Error(`not a mounted file: ${path}`);
      const blob = file.slice(start, start + size);
      if (blob.size !== size || !startsWithHdf5(blob)) throw new Error("not an HDF5 member");
      const dir = `/slices/${nextSlice++}`;
      const slicePath = mountFile(FS, dir, blob, "member.h5");
      let handle;
      try {
        handle = open(slicePath);
      } catch (e) {
        unmountFile(FS, dir);
        throw e;
      }
      Object.assign(files.get(handle), { sliceDir: dir, origin: `bytes ${start}+${size}` });
      return handle;
    },
    close(handle) {
      const entry = files.get(handle);
      if (!entry) return;
      files.delete(handle);
      entry.file.close();
      if (entry.memPath) FS.unlink(entry.memPath);
      if (entry.sliceDir) unmountFile(FS, entry.sliceDir);
    },
    // "group", "dataset", "soft" / "external" (a link that is not followed), or undefined
    // (-> None: a JS null would arrive in Python as jsnull) when there is nothing there.
    kind(handle, path) {
      return call(() => {
        const fid = fileOf(handle).file_id;
        const link = linkOnTheWay(handle, fid, path);
        if (link) return link;
        const type = Module.get_type(fid, path);
        if (type === Module.H5G_GROUP) return "group";
        if (type === Module.H5G_DATASET) return "dataset";
        if (type === Module.H5G_LINK || type === Module.H5G_UDLINK) return "other";
        return undefined;
      });
    },
    keys(handle, path) {
      return call(() => Module.get_names(fileOf(handle).file_id, path, false));
    },
    attr_names(handle, path) {
      return call(() => Module.get_attribute_names(fileOf(handle).file_id, path));
    },
    attr(handle, path, name) {
      return call(() => {
        const fid = fileOf(handle).file_id;
        if (!Module.get_attribute_names(fid, path).includes(name)) return undefined; // -> None
        return readAttr(fid, path, name);
      });
    },
    dataset_info(handle, path) {
      return call(() => {
        const fid = fileOf(handle).file_id;
        const md = Module.get_dataset_metadata(fid, path);
        const outside = storageOutside(fid, path, md);
        return { shape: md.shape ?? [], dtype: dtypeName(md), itemsize: md.size, outside };
      });
    },
    // [count, Σ|v|, Σv²] (or, while deferring, zero sums for now: see `deferring`); an Error
    // "outside: <kind>" when the numbers are in another file.
    stats(handle, path) {
      return call(() => {
        const fid = fileOf(handle).file_id;
        const key = `${files.get(handle).origin}:${path}`;
        if (known.has(key)) return known.get(key);
        const place = deferring ? deferred.get(key) || rawPlace(fid, path) : null;
        if (!place) return datasetStats(fid, path);
        deferred.set(key, place);
        return [place.layout.rows * place.layout.rowLen, 0, 0];
      });
    },
  };
  // For the worker, around each audit (Python does not see these).
  const jobs = {
    // One audit begins: big tensors may be deferred from now on.
    begin() {
      deferring = typeof ReadableStreamBYOBReader === "function";
      deferred.clear();
      known.clear();
    },
    // Whether the pass that just ended deferred any tensor.
    deferredAny() {
      return deferred.size > 0;
    },
    // Reads the deferred tensors; a tensor that cannot be read so is left to HDF5 in the
    // next pass (the error, if it is one, then comes from there). Returns how many it read.
    async readDeferred() {
      for (const [key, place] of deferred) {
        try {
          known.set(key, await rawStats(place));
        } catch {
          // read through HDF5 next time
        }
      }
      deferred.clear();
      deferring = false;
      return known.size; // all of this audit's
    },
    end() {
      deferring = false;
      deferred.clear();
      known.clear();
    },
  };
  return { api, jobs };
}

// Adds Σ|v|, Σv² and the count of rows [start, end) (one block) to sums, in numpy's pairwise
// order. window(row) gives the numbers of some rows from `row` on: {view, from, to}, view[0]
// being the first number of row `from`.
function addBlock(sums, start, end, rowLen, window) {
  const n = (end - start) * rowLen;
  let w = null;
  let wFirst = 0; // element index (in the block) of w[0]
  let wEnd = 0;
  // Leaf of numpy's pairwise sum: elements [lo, lo + len) of the block.
  let leafAbs = 0;
  let leafSq = 0;
  const leaf = (lo, len) => {
    if (w === null || lo < wFirst || lo + len > wEnd) {
      const got = window(start + Math.floor(lo / rowLen));
      w = got.view;
      wFirst = (got.from - start) * rowLen;
      wEnd = (got.to - start) * rowLen;
    }
    const o = lo - wFirst;
    if (len < 8) {
      let a = 0;
      let s = 0;
      for (let i = 0; i < len; i++) {
        const v = w[o + i];
        a += Math.abs(v);
        s += v * v;
      }
      leafAbs = a;
      leafSq = s;
      return;
    }
    // Eight running sums, as numpy's unrolled loop keeps them.
    let v0 = w[o], v1 = w[o + 1], v2 = w[o + 2], v3 = w[o + 3];
    let v4 = w[o + 4], v5 = w[o + 5], v6 = w[o + 6], v7 = w[o + 7];
    let a0 = Math.abs(v0), a1 = Math.abs(v1), a2 = Math.abs(v2), a3 = Math.abs(v3);
    let a4 = Math.abs(v4), a5 = Math.abs(v5), a6 = Math.abs(v6), a7 = Math.abs(v7);
    let s0 = v0 * v0, s1 = v1 * v1, s2 = v2 * v2, s3 = v3 * v3;
    let s4 = v4 * v4, s5 = v5 * v5, s6 = v6 * v6, s7 = v7 * v7;
    let i = 8;
    for (const stop = o + len - (len % 8); o + i < stop; i += 8) {
      const k = o + i;
      v0 = w[k]; v1 = w[k + 1]; v2 = w[k + 2]; v3 = w[k + 3];
      v4 = w[k + 4]; v5 = w[k + 5]; v6 = w[k + 6]; v7 = w[k + 7];
      a0 += Math.abs(v0); a1 += Math.abs(v1); a2 += Math.abs(v2); a3 += Math.abs(v3);
      a4 += Math.abs(v4); a5 += Math.abs(v5); a6 += Math.abs(v6); a7 += Math.abs(v7);
      s0 += v0 * v0; s1 += v1 * v1; s2 += v2 * v2; s3 += v3 * v3;
      s4 += v4 * v4; s5 += v5 * v5; s6 += v6 * v6; s7 += v7 * v7;
    }
    let a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    let s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    for (; i < len; i++) {
      const v = w[o + i];
      a += Math.abs(v);
      s += v * v;
    }
    leafAbs = a;
    leafSq = s;
  };
  const pairwise = (lo, len) => {
    if (len <= PW_BLOCKSIZE) {
      leaf(lo, len);
      return;
    }
    let half = Math.floor(len / 2);
    half -= half % 8;
    pairwise(lo, half);
    const a = leafAbs;
    const s = leafSq;
    pairwise(lo + half, len - half);
    leafAbs = a + leafAbs;
    leafSq = s + leafSq;
  };
  if (n > 0) {
    pairwise(0, n);
    sums[1] += leafAbs;
    sums[2] += leafSq;
  }
  sums[0] += n;
}

// Reads `size` bytes from a BYOB stream reader into `buffer` (which the reader takes over and
// gives back); returns the buffer.
async function fill(reader, buffer, size) {
  let filled = 0;
  while (filled < size) {
    const { done, value } = await reader.read(new Uint8Array(buffer, filled, size - filled));
    if (done) throw new Error("the file ended early");
    buffer = value.buffer;
    filled += value.byteLength;
  }
  return buffer;
}

// A dataset whose numbers are in another file; h5wasm_backend.py reads the message.
class Outside extends Error {
  constructor(kind) {
    super(`outside: ${kind}`);
  }
}

// Wrap the file system's open so that, inside `only(path, fn)`, no path but `path` opens. HDF5
// opens every file through it (its own, an external link's, a virtual dataset's sources,
// external raw storage); `refused` counts the refusals, which a caller reads as "this read
// wanted another file".
function guardOpens(FS) {
  const realOpen = FS.open;
  const ENOENT = 44; // Emscripten's errno numbering
  let guarding = false;
  let allowed = null;
  const state = {
    refused: 0,
    only(path, fn) {
      const outer = [guarding, allowed];
      [guarding, allowed] = [true, path];
      try {
        return fn();
      } finally {
        [guarding, allowed] = outer;
      }
    },
  };
  FS.open = function (path, ...rest) {
    if (guarding && path !== allowed) {
      state.refused += 1;
      throw new FS.ErrnoError(ENOENT);
    }
    return realOpen.call(this, path, ...rest);
  };
  return state;
}

// HDF5 prints its error stack on stderr; send that to a buffer (not the console) and use it in
// the error message instead. Returns { take() } giving (and clearing) what was written.
function captureStderr(FS, utf8) {
  let text = "";
  try {
    const dev = FS.makedev(64, 0);
    FS.registerDevice(dev, {
      open() {},
      close() {},
      read() {
        return 0;
      },
      write(stream, buffer, offset, length) {
        text = (text + utf8.decode(buffer.subarray(offset, offset + length))).slice(-65536);
        return length;
      },
      llseek() {
        return 0;
      },
    });
    FS.mkdev("/dev/regaudit-stderr", dev);
    FS.close(FS.getStream(2));
    FS.open("/dev/regaudit-stderr", 1); // the lowest free descriptor: 2
  } catch {
    // not an in-browser file system (e.g. h5wasm's Node build): leave stderr alone
  }
  return {
    take() {
      const t = text;
      text = "";
      return t;
    },
  };
}

// The first error stack HDF5 printed, as h5py words it: the top message, capitalised, and the
// innermost one in brackets.
function hdf5Message(diag) {
  const block = diag.split("HDF5-DIAG")[1];
  if (!block) return "";
  const msgs = [];
  for (const line of block.split("\n")) {
    const m = /^\s*#\d+: .* in [^ ]+\(\): (.*)$/.exec(line);
    if (m) msgs.push(m[1].trim());
  }
  if (!msgs.length) return "";
  const top = msgs[0].charAt(0).toUpperCase() + msgs[0].slice(1).toLowerCase();
  return msgs.length > 1 ? `${top} (${msgs[msgs.length - 1]})` : top;
}

// IEEE 754 half precision -> number (exact).
function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// Mount a File read-only at dir/<file.name> (WORKERFS: read in place, never copied whole) and
// put a small block cache in front of it: WORKERFS reads every request with FileReaderSync,
// and HDF5 makes thousands of tiny metadata reads, which is ten times slower than the audit.
// Reads of BLOCK bytes are cached (at most CACHE_BLOCKS of them); big reads go straight through.
const BLOCK = 64 * 1024;
const CACHE_BLOCKS = 256; // 16 MiB per open file at most
const reader = typeof FileReaderSync === "function" ? new FileReaderSync() : null;

const mounted = new Map(); // path -> File: what a path in either file system stands for
let lastBigRead = null; // the last read that went straight to the file (see rawStats)

export function mountFile(FS, dir, file, name = file.name) {
  FS.mkdirTree(dir);
  const options = file instanceof File && name === file.name
    ? { files: [file] }
    : { blobs: [{ name, data: file }] };
  FS.mount(FS.filesystems.WORKERFS, options, dir);
  const path = `${dir}/${name}`;
  const node = FS.lookupPath(path).node;
  if (reader) node.stream_ops = { ...node.stream_ops, read: cachedRead(file) };
  mounted.set(path, file);
  return path;
}

export function unmountFile(FS, dir) {
  for (const path of mounted.keys()) if (path.startsWith(`${dir}/`)) mounted.delete(path);
  try {
    FS.unmount(dir);
    FS.rmdir(dir);
  } catch {
    // already gone
  }
}

function startsWithHdf5(blob) {
  if (!reader || blob.size < 8) return false;
  const head = new Uint8Array(reader.readAsArrayBuffer(blob.slice(0, 8)));
  return [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b);
}

function cachedRead(file) {
  const blocks = new Map(); // index -> Uint8Array, in use order (oldest first)
  const block = (i) => {
    let data = blocks.get(i);
    if (data) {
      blocks.delete(i);
    } else {
      data = new Uint8Array(reader.readAsArrayBuffer(file.slice(i * BLOCK, (i + 1) * BLOCK)));
      if (blocks.size >= CACHE_BLOCKS) blocks.delete(blocks.keys().next().value);
    }
    blocks.set(i, data);
    return data;
  };
  return (stream, buffer, offset, length, position) => {
    const size = file.size;
    if (position >= size) return 0;
    const end = Math.min(size, position + length);
    if (end - position > 4 * BLOCK) {
      const ab = reader.readAsArrayBuffer(file.slice(position, end));
      buffer.set(new Uint8Array(ab), offset);
      lastBigRead = { file, position, length: end - position, into: offset };
      return end - position;
    }
    let at = position;
    while (at < end) {
      const i = Math.floor(at / BLOCK);
      const data = block(i);
      const from = at - i * BLOCK;
      const n = Math.min(end, (i + 1) * BLOCK) - at;
      buffer.set(data.subarray(from, from + n), offset + (at - position));
      at += n;
    }
    return end - position;
  };
}
