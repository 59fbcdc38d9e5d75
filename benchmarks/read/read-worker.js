// Reads a whole File in a worker, one of three ways, and posts {ms, bytes}:
//   "slices":      Blob.slice().arrayBuffer(), `inFlight` blocks of `blockBytes` requested at once
//   "slices+sums": the same, and Σ|x|, Σx² over each block as float32 (the penalty's work)
//   "stream":      File.stream() with a default reader, sums as above
function addSums(buffer, offset, count, sums) {
  const values = new Float32Array(buffer, offset, count);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    sums[0] += Math.abs(x);
    sums[1] += x * x;
  }
}

async function bySlices(file, inFlight, blockBytes, sum) {
  const sums = [0, 0];
  const pending = [];
  let next = 0;
  const request = () => {
    if (next >= file.size) return;
    pending.push(file.slice(next, next + blockBytes).arrayBuffer());
    next += blockBytes;
  };
  for (let i = 0; i < inFlight; i++) request();
  while (pending.length) {
    const buffer = await pending.shift();
    request();
    if (sum) addSums(buffer, 0, buffer.byteLength >> 2, sums);
  }
  return sums;
}

async function byStream(file) {
  const sums = [0, 0];
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return sums;
    const bytes = value.byteOffset % 4 === 0 ? value : value.slice(); // a float32 view needs it
    addSums(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2, sums);
  }
}

onmessage = async ({ data: { file, way, inFlight, blockBytes } }) => {
  const start = performance.now();
  if (way === "stream") await byStream(file);
  else await bySlices(file, inFlight, blockBytes, way === "slices+sums");
  postMessage({ ms: performance.now() - start, bytes: file.size });
};
