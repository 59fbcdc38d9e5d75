// The benchmark's floor: the least any Pyodide page can do. It starts a module worker that
// boots the same pinned Pyodide core from the same dist/, and nothing else; the root's
// data-state turns "ready" when loadPyodide() has resolved (regaudit's page does the same
// when its worker is ready). Served by benchmarks/run.py (web.serve) at /bench/, never shipped in dist/.
const worker = new Worker(new URL("./floor-worker.js", import.meta.url), { type: "module" });
worker.onmessage = ({ data }) => {
  document.documentElement.dataset.bootTimes = JSON.stringify(data);
  document.documentElement.dataset.state = "ready";
};
