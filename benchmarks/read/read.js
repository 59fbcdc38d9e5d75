// The benchmark's File read ceiling: how fast this browser hands a picked File's bytes to a
// worker, with nothing of regaudit's in the way. benchmarks/file_read.py picks a file and calls
// window.readAll(way, inFlight, blockBytes); the worker (read-worker.js) reads it all and answers
// with the time. Served at /bench/read/ by the script, never shipped in dist/.
window.readAll = (way, inFlight, blockBytes) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./read-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      worker.terminate();
      resolve(data);
    };
    worker.onerror = (event) => reject(new Error(event.message));
    const file = document.getElementById("file").files[0];
    worker.postMessage({ file, way, inFlight, blockBytes });
  });
