// The page (UI thread): file picking and dropping, one section per file, filters, downloads.
// All Python runs in static/worker.js. Text from files is only ever set with textContent; the
// one HTML insertion is the report renderer's escaped fragment, parsed inert and sanitised.
//
// Test contract (see docs/web.md): <html data-state="booting|ready|busy|error">; an
// input[type=file]; each finished report section carries [data-report] and an a[download]
// ending in .json; a file that cannot be audited gets a section with [data-error].

const root = document.documentElement;
const $ = (id) => document.getElementById(id);
const dropZone = $("drop");
const input = $("file");
const statusLine = $("status");
const bootProgress = $("boot-progress");
const reports = $("reports");
const filters = $("filters");
const filterOutcome = $("filter-outcome");
const filterMode = $("filter-mode");

const DOWNLOADS = [
  ["json", "JSON", "application/json"],
  ["csv", "CSV", "text/csv;charset=utf-8"],
  ["md", "Markdown", "text/markdown;charset=utf-8"],
];

let booted = false;
const bootTimes = {}; // stage -> ms since the worker started (see worker.js)
let bootError = null;
let nextId = 1;
const jobs = new Map(); // id -> { section, name, done }

function pending() {
  let n = 0;
  for (const job of jobs.values()) if (!job.done) n++;
  return n;
}

function updateState() {
  const state = bootError ? "error" : !booted ? "booting" : pending() ? "busy" : "ready";
  root.dataset.state = state;
  if (state === "ready") registerServiceWorkerWhenIdle();
  dropZone.setAttribute("aria-busy", String(state === "busy" || state === "booting"));
}

function setStatus(text) {
  statusLine.textContent = text;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- the worker --------------------------------------------------------------------------

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });

worker.onmessage = ({ data }) => {
  if (data.type === "progress") {
    bootProgress.max = data.steps;
    bootProgress.value = data.step - 1;
    setStatus(data.text);
  } else if (data.type === "timing") {
    bootTimes[data.stage] = data.ms;
    if (booted) root.dataset.bootTimes = JSON.stringify(bootTimes); // stages after "ready"
  } else if (data.type === "ready") {
    booted = true;
    bootTimes.ready = data.ms;
    if (data.boot) root.dataset.boot = data.boot; // "snapshot" or "fresh" (see worker.js)
    // For benchmarks: ms from the worker's start to each stage (pyodide, wheel, app, ready,
    // then h5wasm, hdf5 and warm, which may come after "ready").
    root.dataset.bootTimes = JSON.stringify(bootTimes);
    bootProgress.value = bootProgress.max;
    bootProgress.hidden = true;
    setStatus(`Ready (started in ${(data.ms / 1000).toFixed(1)} s). Drop files, or choose some.`);
    for (const job of jobs.values()) if (!job.done) setJobStatus(job, "Waiting…");
  } else if (data.type === "boot-error") {
    bootError = data.error;
    bootProgress.hidden = true;
    setStatus(`regaudit could not start in this browser: ${data.error}`);
    for (const [id, job] of jobs) {
      if (!job.done) showError(id, "regaudit could not start in this browser, so this file was not audited.");
    }
  } else if (data.type === "started") {
    const job = jobs.get(data.id);
    if (job) setJobStatus(job, "Auditing…");
    if (job) setStatus(`Auditing ${job.name}…`);
  } else if (data.type === "result") {
    if (data.ok) showReport(data.id, data);
    else showError(data.id, data.error);
    if (!pending()) setStatus(`Ready. ${jobs.size} file${jobs.size === 1 ? "" : "s"} audited.`);
  }
  updateState();
};

worker.onerror = (event) => {
  event.preventDefault();
  if (!booted) {
    bootError = "the worker failed to load";
    setStatus("regaudit could not start in this browser: the worker failed to load.");
    updateState();
  }
};

// --- files in ----------------------------------------------------------------------------

function addFiles(files) {
  for (const file of files) {
    const id = nextId++;
    const section = el("section", "file");
    section.dataset.file = file.name;
    section.setAttribute("aria-busy", "true");
    const bar = el("div", "file-bar");
    bar.append(el("h2", "file-name", file.name), el("span", "file-status"));
    section.append(bar);
    reports.prepend(section);
    filters.hidden = false;
    const job = { section, name: file.name, done: false, urls: [] };
    jobs.set(id, job);
    setJobStatus(job, booted ? "Waiting…" : "Waiting for regaudit to start…");
    if (bootError) {
      showError(id, "regaudit could not start in this browser, so this file was not audited.");
    } else {
      worker.postMessage({ type: "audit", id, file });
    }
  }
  updateState();
}

function setJobStatus(job, text) {
  const status = job.section.querySelector(".file-status");
  if (status) status.textContent = text;
}

input.addEventListener("change", () => {
  addFiles(input.files);
  input.value = "";
});

dropZone.addEventListener("click", () => input.click());
dropZone.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    input.click();
  }
});

// Dropping anywhere on the page works; the drop zone shows where.
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  dropZone.classList.add("dragging");
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) dropZone.classList.remove("dragging");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
  if (files.length) addFiles(files);
});

// --- results out -------------------------------------------------------------------------

const ALLOWED_TAGS = new Set(
  "SECTION HEADER H2 H3 H4 P DL DT DD UL OL LI TABLE CAPTION THEAD TBODY TFOOT TR TH TD SPAN CODE STRONG EM SMALL DIV BR ABBR".split(
    " ",
  ),
);
const ALLOWED_ATTR = /^(class|title|scope|colspan|rowspan|data-[a-z0-9-]+|aria-[a-z]+)$/;

// The renderer escapes everything; this parse is inert (no scripts run, nothing loads) and the
// sanitiser keeps only the tags and attributes the renderer writes, as a second line of defence.
function fragment(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  for (const node of [...doc.body.querySelectorAll("*")]) {
    if (!ALLOWED_TAGS.has(node.tagName)) {
      node.remove();
      continue;
    }
    for (const attr of [...node.attributes]) {
      if (!ALLOWED_ATTR.test(attr.name)) node.removeAttribute(attr.name);
    }
  }
  const out = document.createDocumentFragment();
  out.append(...[...doc.body.childNodes].map((n) => document.adoptNode(n)));
  return out;
}

function downloads(job, result) {
  const nav = el("nav", "downloads");
  nav.setAttribute("aria-label", `Downloads for ${result.name}`);
  nav.append(el("span", "downloads-label", "Download"));
  for (const [fmt, label, type] of DOWNLOADS) {
    const href = URL.createObjectURL(new Blob([result[fmt]], { type }));
    job.urls.push(href);
    const a = el("a", `download download-${fmt}`, label);
    a.href = href;
    a.download = `${result.name}.regaudit.${fmt}`;
    nav.append(a);
  }
  const remove = el("button", "remove", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove the report for ${result.name}`);
  remove.addEventListener("click", () => removeJob(job));
  nav.append(remove);
  return nav;
}

function removeJob(job) {
  for (const href of job.urls) URL.revokeObjectURL(href);
  job.section.remove();
  for (const [id, other] of jobs) if (other === job) jobs.delete(id);
  if (!jobs.size) filters.hidden = true;
  updateState();
}

function showReport(id, result) {
  const job = jobs.get(id);
  if (!job) return;
  job.done = true;
  const { section } = job;
  section.replaceChildren(fragment(result.html));
  const header = section.querySelector(".report-header") || section;
  header.append(downloads(job, result));
  section.append(el("p", "filter-note"));
  section.removeAttribute("aria-busy");
  applyFilter(section);
  section.dataset.report = "";
}

function showError(id, message) {
  const job = jobs.get(id);
  if (!job) return;
  job.done = true;
  const { section } = job;
  section.classList.add("file-error");
  const bar = el("div", "file-bar");
  bar.append(el("h2", "file-name", job.name));
  const remove = el("button", "remove", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${job.name}`);
  remove.addEventListener("click", () => removeJob(job));
  bar.append(remove);
  const text = el("p", "error-message");
  text.append(el("strong", "", "Cannot audit this file: "), document.createTextNode(message));
  section.replaceChildren(bar, text);
  section.removeAttribute("aria-busy");
  section.dataset.error = message;
}

// --- filter by outcome -------------------------------------------------------------------

function applyFilter(scope) {
  const outcome = filterOutcome.value;
  const key = filterMode.value; // dataset key: outcome | outcomeLenient
  for (const section of scope ? [scope] : reports.querySelectorAll("section.file")) {
    const rows = [...section.querySelectorAll("tr.finding")];
    let shown = 0;
    for (const row of rows) {
      row.hidden = Boolean(outcome) && row.dataset[key] !== outcome;
      if (!row.hidden) shown++;
    }
    const note = section.querySelector(".filter-note");
    if (note) {
      note.textContent =
        outcome && rows.length ? `Showing ${shown} of ${rows.length} findings (${outcome}).` : "";
    }
  }
}

filterOutcome.addEventListener("change", () => applyFilter());
filterMode.addEventListener("change", () => applyFilter());
filters.addEventListener("submit", (event) => event.preventDefault());
$("clear").addEventListener("click", () => {
  for (const job of [...jobs.values()]) if (job.done) removeJob(job);
});

// --- examples ----------------------------------------------------------------------------

async function openExample(name, examples) {
  const example = examples.find((e) => e.name === name);
  if (!example) {
    const id = nextId++;
    const section = el("section", "file");
    reports.prepend(section);
    filters.hidden = false;
    jobs.set(id, { section, name: `example "${name}"`, done: false, urls: [] });
    const known = examples.map((e) => e.name).join(", ");
    showError(id, `There is no example called "${name}". Examples: ${known}.`);
    updateState();
    return;
  }
  const response = await fetch(new URL(`examples/${example.file}`, import.meta.url));
  if (!response.ok) throw new Error(`example ${name}: HTTP ${response.status}`);
  const blob = await response.blob();
  addFiles([new File([blob], example.file, { type: "application/octet-stream" })]);
}

async function setUpExamples() {
  const response = await fetch(new URL("examples/examples.json", import.meta.url));
  const examples = response.ok ? await response.json() : [];
  const list = $("examples");
  for (const example of examples) {
    const li = el("li");
    const a = el("a", "example", example.name);
    a.href = `?example=${encodeURIComponent(example.name)}`;
    a.title = example.title;
    a.addEventListener("click", (event) => {
      event.preventDefault();
      history.replaceState(null, "", a.href);
      openExample(example.name, examples).catch(exampleFailed);
    });
    li.append(a);
    list.append(li);
  }
  const wanted = new URLSearchParams(location.search).get("example");
  if (wanted) await openExample(wanted, examples);
}

function exampleFailed(e) {
  setStatus(`Could not load the example: ${e.message || e}`);
}

setUpExamples().catch(exampleFailed);

// --- offline -----------------------------------------------------------------------------

// Registered once the page has been ready and idle for a moment: installing it downloads the
// whole site again into Cache Storage, which on a first visit would compete with the boot and
// with the first audits.
const OFFLINE_AFTER_IDLE_MS = 2000;
let offlineTimer = 0;
function registerServiceWorkerWhenIdle() {
  clearTimeout(offlineTimer);
  offlineTimer = setTimeout(() => {
    if (root.dataset.state === "ready") registerServiceWorker();
  }, OFFLINE_AFTER_IDLE_MS);
}
let offlineRequested = false;
function registerServiceWorker() {
  if (offlineRequested || !("serviceWorker" in navigator) || location.protocol === "file:") return;
  offlineRequested = true;
  navigator.serviceWorker.register(new URL("../sw.js", import.meta.url)).catch(() => {
    // not allowed here (e.g. a sandboxed iframe): the page still works, just not offline
  });
}

updateState();
