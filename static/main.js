// The page (UI thread): file picking and dropping, one section per file, filters, downloads.
// All Python runs in static/worker.js. Text from files is only ever set with textContent; the
// one HTML insertion is the report renderer's escaped fragment, parsed inert and sanitised.
//
// Test contract (see docs/web.md): <html data-state="booting|ready|busy|error">; an
// input[type=file]; a report section carries [data-report] once its table is shown (a long
// one's first findings: see showReport), and [data-complete] once it has all its findings, its
// downloads (an a[download] ending in .json), the fix and the "imports in" line; a file that
// cannot be audited gets a section with [data-error].
//
// For people: sections stay in the order the files came (oldest first); the status line says
// what is happening (also while files wait for the boot), and #announcer tells screen readers
// only that regaudit is ready and, once per batch, what the audits gave; focus moves to a new
// report's heading when nothing else has it, and somewhere sensible after Remove and Clear.

import { firstWorker, startWorker } from "./start.js";

const root = document.documentElement;
const $ = (id) => document.getElementById(id);
const dropZone = $("drop");
const input = $("file");
const statusLine = $("status");
const announcer = $("announcer");
const bootProgress = $("boot-progress");
const reports = $("reports");
const filters = $("filters");
const filterOutcome = $("filter-outcome");
const filterMode = $("filter-mode");
const importerSelect = $("importer");
const IMPORTER_KEY = "regaudit.importer"; // the release chosen last time (localStorage)
const FIRST_FINDINGS = 25; // shown in a report's first frame; the rest in the next (showReport)

const DOWNLOADS = [
  ["json", "JSON", "application/json"],
  ["csv", "CSV", "text/csv;charset=utf-8"],
  ["md", "Markdown", "text/markdown;charset=utf-8"],
];

let booted = false;
const bootTimes = {}; // stage -> ms since the worker started (see worker.js)
let bootError = null;
let bootText = "Loading…"; // the latest progress message
let readyText = ""; // "Ready (started in 4.2 s)."
let auditing = null; // the job the worker is on
let notice = ""; // a one-off message (an example that could not load)
let nextId = 1;
const jobs = new Map(); // id -> { section, name, done, ok, urls }
let batch = []; // jobs finished since the queue was last empty

function pending() {
  let n = 0;
  for (const job of jobs.values()) if (!job.done) n++;
  return n;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function updateState() {
  const state = bootError ? "error" : !booted ? "booting" : pending() ? "busy" : "ready";
  root.dataset.state = state;
  if (state === "ready") registerServiceWorkerWhenIdle();
  dropZone.setAttribute("aria-busy", String(state === "busy" || state === "booting"));
  statusLine.textContent = notice || statusText();
}

// One line from the state: what runs, what waits, what came out (reports and failures apart).
function statusText() {
  if (bootError) return `regaudit could not start in this browser: ${bootError}`;
  const waiting = pending() - (auditing ? 1 : 0);
  const queued = waiting ? ` ${plural(waiting, "file")} waiting.` : "";
  if (!booted) return `${bootText}${queued}`;
  if (auditing) return `Auditing ${auditing.name}…${queued}`;
  if (waiting) return `${readyText}${queued}`;
  const done = [...jobs.values()];
  const ok = done.filter((job) => job.ok).length;
  const failed = done.length - ok;
  if (!done.length) return `${readyText} Drop files, or choose some.`;
  const parts = [plural(ok, "report")];
  if (failed) parts.push(`${plural(failed, "file")} could not be audited`);
  return `Ready. ${parts.join("; ")}.`;
}

// Screen readers: emptied first, so the same words twice are announced twice.
function announce(text) {
  announcer.textContent = "";
  setTimeout(() => {
    announcer.textContent = text;
  }, 100);
}

function setStatus(text) {
  notice = text;
  updateState();
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- the worker --------------------------------------------------------------------------

// The Python runtime, started by start.js before this module ran (see there). Messages from a
// worker this page left (see cancelAudit) are ignored.
let worker = listen(firstWorker);
// A shared worker cannot tell when a page has gone (a MessagePort has no close event here), so
// a page that unloads says so, and its files still waiting are not audited for nobody.
addEventListener("pagehide", (event) => {
  if (!event.persisted) worker.postMessage({ type: "leave" });
});

function listen(handle) {
  handle.listen(
    (event) => handle === worker && onWorkerMessage(event),
    (event) => handle === worker && onWorkerError(event),
  );
  return handle;
}

function onWorkerMessage({ data }) {
  if (data.type === "progress") {
    bootProgress.max = data.steps;
    bootProgress.value = data.step - 1;
    bootText = data.text;
  } else if (data.type === "warning") {
    console.warn(data.text);
  } else if (data.type === "timing") {
    bootTimes[data.stage] = data.ms;
    if (booted) root.dataset.bootTimes = JSON.stringify(bootTimes); // stages after "ready"
  } else if (data.type === "ready") {
    booted = true;
    bootTimes.ready = data.ms;
    if (data.boot) root.dataset.boot = data.boot; // "snapshot", "fresh" or "running" (worker.js)
    // For benchmarks: ms from the worker's start to the end of each boot part (worker.js's
    // timing messages) and to "ready".
    root.dataset.bootTimes = JSON.stringify(bootTimes);
    bootProgress.value = bootProgress.max;
    bootProgress.hidden = true;
    readyText = data.boot === "running"
      ? "Ready (Python was already running in this browser)."
      : `Ready (started in ${(data.ms / 1000).toFixed(1)} s).`;
    for (const job of jobs.values()) if (!job.done) setJobStatus(job, "Waiting…");
    if (!pending()) announce("regaudit is ready.");
  } else if (data.type === "boot-error") {
    bootError = data.error;
    bootProgress.hidden = true;
    for (const [id, job] of jobs) {
      if (!job.done) showError(id, "regaudit could not start in this browser, so this file was not audited.");
    }
    batch = [];
    announce(`regaudit could not start in this browser: ${data.error}`);
  } else if (data.type === "started") {
    auditing = jobs.get(data.id) || null;
    if (auditing) setJobStatus(auditing, "Auditing…");
    if (auditing) addCancel(data.id, auditing);
  } else if (data.type === "result") {
    if (data.ok) {
      showReport(data.id, data); // the table; the rest follows ("complete")
    } else {
      auditing = null;
      showError(data.id, data.error);
      if (!pending()) batchDone();
    }
  } else if (data.type === "complete") {
    auditing = null;
    completeReport(data.id, data);
    if (!pending()) batchDone();
  }
  updateState();
}

function onWorkerError() {
  if (!booted) {
    bootError = "the worker failed to load.";
    updateState();
    announce(statusLine.textContent);
  }
}

// Python and HDF5 run synchronously in the worker, so the one way to stop an audit is to stop
// the worker: a new one boots, and the files still waiting are sent to it.
function addCancel(id, job) {
  const cancel = el("button", "cancel", "Cancel");
  cancel.type = "button";
  cancel.setAttribute("aria-label", `Cancel the audit of ${job.name}`);
  cancel.addEventListener("click", () => cancelAudit(id));
  job.section.querySelector(".file-bar")?.append(cancel);
}

function cancelAudit(id) {
  const job = jobs.get(id);
  if (!job || job.done || bootError) return;
  worker.terminate();
  worker = listen(startWorker(false)); // one that this page can stop
  booted = false;
  auditing = null;
  bootProgress.value = 0;
  bootProgress.hidden = false;
  showError(id, "Cancelled: the audit was stopped before it finished; nothing of it is reported.");
  setStatus("Audit cancelled. Restarting regaudit…");
  for (const [other, waiting] of jobs) {
    if (!waiting.done && waiting.file) {
      setJobStatus(waiting, "Waiting for regaudit to start…");
      worker.postMessage({ type: "audit", id: other, file: waiting.file, importer: importer() });
    }
  }
  updateState();
}

// --- files in ----------------------------------------------------------------------------

// A section for one file, after the others (a batch reads top to bottom, oldest first).
function newJob(name, byUser, file = null) {
  const id = nextId++;
  const section = el("section", "file");
  section.dataset.file = name;
  section.setAttribute("aria-busy", "true");
  const bar = el("div", "file-bar");
  bar.append(el("h2", "file-name", name), el("span", "file-status"));
  section.append(bar);
  reports.append(section);
  filters.hidden = false;
  notice = "";
  const job = { section, name, byUser, done: false, ok: false, urls: [], file, addRest: null };
  jobs.set(id, job);
  return [id, job];
}

function addFiles(files, byUser = true) {
  for (const file of files) {
    const [id, job] = newJob(file.name, byUser, file);
    setJobStatus(job, booted ? "Waiting…" : "Waiting for regaudit to start…");
    if (bootError) {
      showError(id, "regaudit could not start in this browser, so this file was not audited.");
    } else {
      worker.postMessage({ type: "audit", id, file, importer: importer() });
    }
  }
  updateState();
}

// --- the DL4J release described --------------------------------------------------------

function importer() {
  return importerSelect.value;
}

function restoreImporter() {
  try {
    const saved = localStorage.getItem(IMPORTER_KEY);
    if (saved && [...importerSelect.options].some((o) => o.value === saved)) importerSelect.value = saved;
  } catch {
    // Storage may be off (a sandboxed frame, private mode): the default release then.
  }
}

// Another release: remember it, and audit every file on the page again for it.
importerSelect.addEventListener("change", () => {
  try {
    localStorage.setItem(IMPORTER_KEY, importer());
  } catch {
    // not remembered; still used
  }
  for (const [id, job] of jobs) {
    if (!job.file || bootError) continue;
    for (const url of job.urls) URL.revokeObjectURL(url);
    Object.assign(job, { done: false, ok: false, urls: [] });
    const { section } = job;
    section.classList.remove("file-error");
    delete section.dataset.report;
    delete section.dataset.complete;
    delete section.dataset.error;
    section.setAttribute("aria-busy", "true");
    const bar = el("div", "file-bar");
    bar.append(el("h2", "file-name", job.name), el("span", "file-status"));
    section.replaceChildren(bar);
    setJobStatus(job, booted ? "Waiting…" : "Waiting for regaudit to start…");
    worker.postMessage({ type: "audit", id, file: job.file, importer: importer() });
  }
  updateState();
});
restoreImporter();

function setJobStatus(job, text) {
  const status = job.section.querySelector(".file-status");
  if (status) status.textContent = text;
}

input.addEventListener("change", () => {
  addFiles(input.files);
  input.value = "";
});

// The focused input opens the picker on Space by itself; Enter too, as on a button.
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    input.click();
  }
});

// A click anywhere on the zone opens the picker too; the label and the input open it themselves.
dropZone.addEventListener("click", (event) => {
  if (!event.target.closest("label, input")) input.click();
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
  "SECTION HEADER H2 H3 H4 P DL DT DD UL OL LI TABLE CAPTION THEAD TBODY TFOOT TR TH TD SPAN CODE STRONG EM SMALL DIV BR WBR ABBR PRE DETAILS SUMMARY".split(
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

function downloads(job, rest) {
  const name = job.reportName;
  const nav = el("nav", "downloads");
  nav.setAttribute("aria-label", `Downloads for ${name}`);
  if (!rest.error) nav.append(el("span", "downloads-label", "Download"));
  for (const [fmt, label, type] of rest.error ? [] : DOWNLOADS) {
    const href = URL.createObjectURL(new Blob([rest[fmt]], { type }));
    job.urls.push(href);
    const a = el("a", `download download-${fmt}`, label);
    a.href = href;
    a.download = `${name}.regaudit.${fmt}`;
    nav.append(a);
  }
  const remove = el("button", "remove", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove the report for ${name}`);
  remove.addEventListener("click", () => removeAndRefocus(job));
  nav.append(remove);
  return nav;
}

// "Fix for DL4J": copy the Java, or download it as <file>.Fix.java (what `regaudit fix` writes).
function fixActions(job, rest) {
  const holder = job.section.querySelector(".fix-actions");
  if (!holder || !rest.java) return;
  const copy = el("button", "fix-copy", "Copy the Java");
  copy.type = "button";
  copy.addEventListener("click", () => copyJava(copy, rest.java, job.section));
  const href = URL.createObjectURL(new Blob([rest.java], { type: "text/x-java-source;charset=utf-8" }));
  job.urls.push(href);
  const a = el("a", "download download-java", `Download ${job.reportName}.Fix.java`);
  a.href = href;
  a.download = `${job.reportName}.Fix.java`;
  holder.append(copy, a);
}

// The clipboard needs a secure origin and the page's focus; without it, the Java is shown and
// selected for Ctrl+C.
async function copyJava(button, java, section) {
  try {
    await navigator.clipboard.writeText(java);
    button.textContent = "Copied";
    announce("The Java is copied.");
  } catch {
    const details = section.querySelector("details.fix-java");
    if (details) details.open = true;
    const code = section.querySelector(".fix-code");
    if (code) getSelection().selectAllChildren(code);
    button.textContent = "Selected: press Ctrl+C";
    announce("The Java is selected: press Ctrl+C to copy it.");
  }
  setTimeout(() => {
    button.textContent = "Copy the Java";
  }, 3000);
}

function removeJob(job) {
  job.removed = true;
  for (const href of job.urls) URL.revokeObjectURL(href);
  job.section.remove();
  for (const [id, other] of jobs) if (other === job) jobs.delete(id);
  if (!jobs.size) filters.hidden = true;
  updateState();
}

// Remove one report; focus goes to the next one's heading (or the previous), else the picker.
function removeAndRefocus(job) {
  const sections = [...reports.querySelectorAll("section.file")];
  const at = sections.indexOf(job.section);
  const neighbour = sections[at + 1] || sections[at - 1];
  removeJob(job);
  focusSection(neighbour);
}

function focusSection(section) {
  const heading = section && section.querySelector("h2");
  if (!heading) {
    input.focus();
    return;
  }
  heading.tabIndex = -1; // focusable from script only, not a tab stop
  heading.focus();
}

const VERDICT_WORDS = {
  kept: "imports, every regularizer kept",
  changed: "imports, some regularizers altered",
  lost: "imports, some regularizers lost",
  blocked: "does not import",
  unknown: "verdict unknown",
};

function verdictWords(section, mode) {
  const verdict = section.querySelector(`.verdict[data-mode="${mode}"]`);
  return VERDICT_WORDS[verdict && verdict.dataset.verdict] || "verdict unknown";
}

// The queue is empty: one announcement for the batch, and focus on its first section when
// focus is nowhere in particular (a drop, or the picker that just closed).
function batchDone() {
  const done = batch.filter((job) => !job.removed);
  batch = [];
  if (!done.length) return;
  if (done.length === 1) {
    const [job] = done;
    announce(
      job.ok
        ? `Audit done: ${job.name}. Strict: ${verdictWords(job.section, "strict")}. ` +
            `Lenient: ${verdictWords(job.section, "lenient")}.`
        : `Audit failed: ${job.name}. ${job.section.dataset.error}`,
    );
  } else {
    const failed = done.filter((job) => !job.ok).map((job) => job.name);
    const tail = failed.length ? `; could not audit ${failed.join(", ")}` : "";
    announce(`${plural(done.length, "audit")} done: ${plural(done.length - failed.length, "report")}${tail}.`);
  }
  // Not for a page opened with ?example= (it may be embedded: focus would scroll the host).
  const active = document.activeElement;
  const idle = !active || active === document.body || active.closest("#drop, #examples");
  if (idle && done.some((job) => job.byUser)) focusSection(done[0].section);
}

// The table, as soon as the worker has it: [data-report]. The "imports in" line, the fix and
// the downloads come a moment later (completeReport: [data-complete]).
function showReport(id, result) {
  const job = jobs.get(id);
  if (!job) return;
  const { section } = job;
  job.reportName = result.name; // the file's name as the report gives it
  // A long table shows its first findings in the first frame and the rest in the next: parsing
  // and laying out 160 findings takes ~0.1 s more than a screenful (large_config.h5), and the
  // top is what is read first. "complete" never comes before the rest (see completeReport).
  const [first, later] = splitFindings(result.html);
  section.replaceChildren(fragment(first));
  section.removeAttribute("aria-busy");
  setJobStatus(job, "");
  applyFilter(section);
  section.dataset.report = "";
  if (later) {
    job.addRest = () => {
      job.addRest = null;
      const groups = fragment(`<table>${later}</table>`).querySelectorAll("table > tbody");
      section.querySelector("table.findings")?.append(...groups);
      applyFilter(section);
    };
    // At the start of the frame after the one that shows the top (whose paint comes first).
    requestAnimationFrame(() => requestAnimationFrame(() => job.addRest?.()));
  }
}

// A report's HTML cut in two before it is parsed: [the report with its first FIRST_FINDINGS
// findings, the HTML of the others ("" if none)]. The renderer writes each finding as one
// <tbody class="finding-group"> of the findings table; no text from a file can look like that
// tag (it is escaped), and whatever the cut gives is parsed and sanitised like the rest.
function splitFindings(html) {
  const tag = '<tbody class="finding-group">';
  let cut = -1;
  for (let i = 0; i <= FIRST_FINDINGS; i++) {
    cut = html.indexOf(tag, cut + 1);
    if (cut < 0) return [html, ""];
  }
  const end = html.indexOf("</table>", html.lastIndexOf(tag));
  if (end < 0) return [html, ""];
  return [html.slice(0, cut) + html.slice(end), html.slice(cut, end)];
}

function completeReport(id, rest) {
  const job = jobs.get(id);
  if (!job || job.done) return;
  job.addRest?.();
  job.done = true;
  job.ok = true;
  batch.push(job);
  const { section } = job;
  const header = section.querySelector(".report-header") || section;
  if (rest.releases) header.append(fragment(rest.releases));
  if (rest.fix) (section.querySelector("section.report") || section).append(fragment(rest.fix));
  header.append(downloads(job, rest));
  if (rest.error) header.append(el("p", "error-message", `${rest.error} Its downloads and fix are missing.`));
  else fixActions(job, rest);
  section.append(el("p", "filter-note"));
  applyFilter(section);
  section.dataset.complete = "";
}

function showError(id, message) {
  const job = jobs.get(id);
  if (!job) return;
  job.done = true;
  batch.push(job);
  const { section } = job;
  section.classList.add("file-error");
  const bar = el("div", "file-bar");
  bar.append(el("h2", "file-name", job.name));
  const remove = el("button", "remove", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${job.name}`);
  remove.addEventListener("click", () => removeAndRefocus(job));
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
      const group = row.closest("tbody.finding-group"); // the row and its reasons
      if (group) group.hidden = row.hidden;
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
  focusSection(reports.querySelector("section.file")); // one still being audited, or the picker
});

// --- examples ----------------------------------------------------------------------------

async function openExample(name, examples, byUser = true) {
  const example = examples.find((e) => e.name === name);
  if (!example) {
    const [id] = newJob(`example "${name}"`, byUser);
    const known = examples.map((e) => e.name).join(", ");
    showError(id, `There is no example called "${name}". Pick one of: ${known}.`);
    if (!pending()) batchDone();
    updateState();
    return;
  }
  const response = await fetch(new URL(`examples/${example.file}`, import.meta.url));
  if (!response.ok) throw new Error(`example ${name}: HTTP ${response.status}`);
  const blob = await response.blob();
  addFiles([new File([blob], example.file, { type: "application/octet-stream" })], byUser);
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
  if (wanted) await openExample(wanted, examples, false);
}

function exampleFailed(e) {
  setStatus(`Could not load the example: ${e.message || e}`);
  announce(statusLine.textContent);
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
