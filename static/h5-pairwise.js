// numpy's pairwise summation, ported so that the page's sums equal the CLI's bit for bit
// (h5py_backend sums each block with numpy: np.abs(x).sum(), np.square(x).sum()).

const PW_BLOCKSIZE = 128; // numpy's pairwise-summation leaf size

// Adds Σ|v|, Σv² and the count of rows [start, end) (one block) to sums, in numpy's pairwise
// order. window(row) gives the numbers of some rows from `row` on: {view, from, to}, view[0]
// being the first number of row `from`.
export function addBlock(sums, start, end, rowLen, window) {
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
