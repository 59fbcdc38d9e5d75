// The file-system side of the page's HDF5: a dropped File mounted read-only (WORKERFS) with a
// block cache in front, and a BYOB stream read into one reused buffer.

// Mount a File read-only at dir/<file.name> (WORKERFS: read in place, never copied whole) and
// put a small block cache in front of it: WORKERFS reads every request with FileReaderSync,
// and HDF5 makes thousands of tiny metadata reads, which is ten times slower than the audit.
// Reads of BLOCK bytes are cached (at most CACHE_BLOCKS of them); big reads go straight through.
const BLOCK = 64 * 1024;
const CACHE_BLOCKS = 256; // 16 MiB per open file at most
const reader = typeof FileReaderSync === "function" ? new FileReaderSync() : null;

const mounted = new Map(); // path -> File: what a path in either file system stands for
let lastBigRead = null; // the last read that went straight to the file (see h5.js: rawPlace)

// The File mounted at `path` (either file system), or undefined.
export function mountedFile(path) {
  return mounted.get(path);
}

// Forget the last read that went past the cache; bigReadSince() then gives the next one.
export function watchBigReads() {
  lastBigRead = null;
}

export function bigReadSince() {
  return lastBigRead;
}

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

export function startsWithHdf5(blob) {
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

// Reads `size` bytes from a BYOB stream reader into `buffer` (which the reader takes over and
// gives back); returns the buffer.
export async function fill(reader, buffer, size) {
  let filled = 0;
  while (filled < size) {
    const { done, value } = await reader.read(new Uint8Array(buffer, filled, size - filled));
    if (done) throw new Error("the file ended early");
    buffer = value.buffer;
    filled += value.byteLength;
  }
  return buffer;
}
