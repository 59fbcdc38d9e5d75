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
//
// Beside it: h5-guard.js (the open guard, HDF5's error words), h5-decode.js (values as numpy
// gives them), h5-pairwise.js (numpy's summation order), h5-files.js (mounting a File, the
// block cache, stream reads).

import { bigReadSince, fill, mountedFile, startsWithHdf5, watchBigReads } from "./h5-files.js";
import { Outside, captureStderr, guardOpens, hdf5Message } from "./h5-guard.js";
import { addBlock } from "./h5-pairwise.js";
import { ENUM, FLOAT, INTEGER, STRING, dtypeName, isBoolEnum, numbers } from "./h5-decode.js";

export { mountFile, unmountFile } from "./h5-files.js";

const BLOCK_BYTES = 32 * 1024 * 1024; // = regaudit.sources.h5py_backend.SLICE_BYTES
const WINDOW_BYTES = 8 * 1024 * 1024; // what is read from the file at once
const RAW_MIN_BYTES = 4 * BLOCK_BYTES; // datasets this big are read by rawStats when they can

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
    watchBigReads();
    try {
      readRows(fid, path, layout, ptr, 0, probeRows);
    } finally {
      Module._free(ptr);
    }
    const read = bigReadSince();
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
      const file = mountedFile(path);
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
