// HDF5 values as numpy and h5py give them: numbers from raw little- or big-endian bytes, numpy's
// name for an HDF5 type, half precision. Pure functions: no HDF5 call, no heap.

// H5T_class_t
export const INTEGER = 0;
export const FLOAT = 1;
export const STRING = 3;
export const ENUM = 8;

// Raw bytes (copied) of `count` elements of `size` bytes, plus a numeric reader.
export function numbers(bytes, md, count) {
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

export function isBoolEnum(md) {
  const names = md.enum_type && md.enum_type.members ? Object.keys(md.enum_type.members) : [];
  return names.length === 2 && names.includes("FALSE") && names.includes("TRUE");
}

// numpy's name for an HDF5 type, as h5py reports it (str(dataset.dtype)).
export function dtypeName(md) {
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

// IEEE 754 half precision -> number (exact).
export function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
