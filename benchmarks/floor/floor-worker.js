// Boot the pinned Pyodide core exactly as static/worker.js does, then say so.
const started = performance.now();
const indexURL = new URL("../vendor/pyodide/", import.meta.url).href;
const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
await loadPyodide({ indexURL });
postMessage({ pyodide: Math.round(performance.now() - started), ready: Math.round(performance.now() - started) });
