// Starts Python's worker (static/worker.js) the moment the page begins to load. It is an async
// module in the page's <head>, so it runs as soon as it arrives, while the rest of the page is
// still parsed and main.js fetched: the worker's boot is the long pole of the first table, and
// a module script without `async` would wait for the whole page. main.js imports it (one
// module, evaluated once) and listens; messages that come before it does wait here.
//
// The worker is a SharedWorker where the browser has one, so that every tab of this site shares
// one booted Python; with `extendedLifetime` (Chromium) it outlives a navigation, and a reload
// or a revisit joins it instead of booting again (its boot is seconds of compute; the page's is
// milliseconds). Named by the build, so a new build never joins an old worker. Elsewhere, and
// after a cancel (main.js), a dedicated Worker of the page's own.

const BUILD = document.querySelector('meta[name="regaudit-build"]')?.content || "dev";

// A handle { postMessage, terminate, listen(onMessage, onError) }.
export function startWorker(shared) {
  const script = new URL("./worker.js", import.meta.url);
  let handlers = null;
  const early = []; // [kind, event] until listen()
  const deliver = (kind, event) => {
    if (kind === "error") event.preventDefault(); // the page reports it (main.js), not the console
    if (handlers) handlers[kind](event);
    else early.push([kind, event]);
  };
  let handle;
  if (shared && typeof SharedWorker === "function") {
    const options = { type: "module", name: `regaudit-${BUILD}`, extendedLifetime: true };
    const w = new SharedWorker(script, options);
    handle = {
      postMessage: (message) => w.port.postMessage(message),
      // Leaving a shared worker is all a page can do: it goes on for the other pages (and ends
      // when it has none), so the audit it is on is not stopped.
      terminate: () => {
        w.port.postMessage({ type: "leave" }); // this page's files still waiting are dropped
        w.port.close();
      },
    };
    w.port.onmessage = (event) => deliver("message", event);
    w.onerror = (event) => deliver("error", event);
  } else {
    const w = new Worker(script, { type: "module" });
    handle = { postMessage: (message) => w.postMessage(message), terminate: () => w.terminate() };
    w.onmessage = (event) => deliver("message", event);
    w.onerror = (event) => deliver("error", event);
  }
  // Once the module that calls this has run to its end (a microtask), so that its handlers can
  // use everything it declares.
  handle.listen = (onMessage, onError) => queueMicrotask(() => {
    handlers = { message: onMessage, error: onError };
    for (const [kind, event] of early.splice(0)) handlers[kind](event);
  });
  return handle;
}

export const firstWorker = startWorker(true);
