// The guard around every HDF5 call: the file system opens no path but the file being opened
// (docs/security.md), and HDF5's error stack becomes an error message in h5py's words.

// A dataset whose numbers are in another file; h5wasm_backend.py reads the message.
export class Outside extends Error {
  constructor(kind) {
    super(`outside: ${kind}`);
  }
}

// Wrap the file system's open so that, inside `only(path, fn)`, no path but `path` opens. HDF5
// opens every file through it (its own, an external link's, a virtual dataset's sources,
// external raw storage); `refused` counts the refusals, which a caller reads as "this read
// wanted another file".
export function guardOpens(FS) {
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
export function captureStderr(FS, utf8) {
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
export function hdf5Message(diag) {
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
