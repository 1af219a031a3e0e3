// The workbench page: draws what the server sends and asks the engine (through the API) about
// every edit. No geometry is computed here: outlines, lengths, collisions and verification all
// come from the server; the page only moves drawings by the mouse's offset while dragging.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = {
  options: [], formats: [], maxUpload: Infinity, pattern: null, job: null, source: null,
  markerId: null,       // the stored, verified marker the edits start from
  view: null,           // the marker drawn now (server's view of the current placements)
  placements: null,     // current placements [{x, y, rotation, mirrored}], in the stored marker's order
  involved: [],         // indices of the pieces the verifier names for the current placements
  undo: [], selected: null, edited: false, valid: true, progress: [], target: 0.92, busy: false, checking: 0,
};

function message(text, error = false) {
  const box = $("message");
  box.textContent = text || "";
  box.className = error ? "error" : "";
}

async function api(method, url, body) {
  const init = { method, headers: { "X-Workbench": "1" } };
  if (body instanceof Blob) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) {
    const error = new Error(data.error || response.statusText);
    error.data = data;
    throw error;
  }
  return data;
}

function el(name, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function ringPath(ring) {
  return "M" + ring.map((p) => `${p[0]},${p[1]}`).join("L") + "Z";
}

// ---- pattern ---------------------------------------------------------------------------------

async function loadFiles() {
  const data = await api("GET", "/api/files");
  const select = $("files");
  select.replaceChildren(...data.patterns.map((path) => new Option(path, path)));
}

function showPattern(info) {
  state.pattern = info;
  $("pattern-name").textContent = info.file;
  const sizes = info.sizes.length ? `, sizes ${info.sizes.join(", ")}` : "";
  const fabrics = info.fabrics.length ? `, fabrics ${info.fabrics.join(", ")}` : "";
  $("pattern-summary").textContent = `${info.pieces.length} pieces (${info.units})${sizes}${fabrics}`;
  const body = $("pieces").tBodies[0];
  body.replaceChildren();
  for (const row of info.pieces) {
    const tr = body.insertRow();
    const [minx, miny, maxx, maxy] = row.bbox;
    const thumb = el("svg", { viewBox: `${minx} ${-maxy} ${maxx - minx} ${maxy - miny}` });
    el("path", { d: ringPath(row.thumbnail), class: "thumb", transform: "scale(1,-1)" }, thumb);
    tr.insertCell().appendChild(thumb);
    const quantity = row.mirrored_quantity ? `${row.quantity}+${row.mirrored_quantity}m` : `${row.quantity}`;
    const cells = [row.name, row.size ?? "-", quantity, row.fabric ?? "-", (row.area_mm2 / 100).toFixed(1),
      `${(maxx - minx).toFixed(1)} x ${(maxy - miny).toFixed(1)}`, row.vertices, row.grain ? "yes" : "no",
      row.notches, row.holes];
    for (const text of cells) tr.insertCell().textContent = text;
  }
  const report = $("report");
  report.replaceChildren();
  for (const key of ["repairs", "warnings"]) {
    for (const line of info.report[key] || []) {
      const p = document.createElement("p");
      p.textContent = `${key === "repairs" ? "repair" : "warning"}: ${line}`;
      p.className = key;
      report.appendChild(p);
    }
  }
  $("nest").disabled = false;
  const width = $("opt-width");
  if (width) width.placeholder = info.units === "mm" ? "required" : "from the instance";
  const ratio = $("opt-sizes");
  if (ratio) ratio.placeholder = info.sizes.length > 1 ? `e.g. ${info.sizes.map((s) => s + "=1").join(",")}` : "";
  const codes = $("fabric-codes");
  if (codes) codes.replaceChildren(...info.fabrics.map((code) => new Option(code, code)));
  showOrderSizes(info);
}

function readOptions() {
  // How to read the pattern (nest info's --units and --layer); the nest job reads it the same way.
  const options = {};
  if ($("units").value) options.units = $("units").value;
  if ($("layer").value.trim()) options.layer = $("layer").value.trim();
  return options;
}

async function openPattern() {
  try {
    message("reading…");
    showPattern(await api("POST", "/api/open", { path: $("files").value, ...readOptions() }));
    message("");
  } catch (error) {
    message(error.message, true);
  }
}

async function uploadPattern(file) {
  if (file.size > state.maxUpload) {
    message(`${file.name}: the file is larger than the upload limit of ${state.maxUpload / 2 ** 20} MiB`, true);
    return;
  }
  try {
    message(`reading ${file.name}…`);
    const query = new URLSearchParams({ name: file.name, ...readOptions() });
    showPattern(await api("POST", `/api/upload?${query}`, file));
    message("");
    await loadFiles();
    $("files").value = state.pattern.file;
  } catch (error) {
    message(error.message, true);
  }
}

// ---- options and nesting ---------------------------------------------------------------------

function buildForm() {
  const form = $("options");
  for (const option of state.options) {
    const label = document.createElement("label");
    label.textContent = option.label;
    label.htmlFor = `opt-${option.name}`;
    let input;
    if (option.kind === "bool") {
      input = document.createElement("select");
      input.append(new Option("as the pattern says", ""), new Option("yes", "yes"), new Option("no", "no"));
    } else if (option.kind === "choice") {
      input = document.createElement("select");
      input.append(new Option("as the spec says", ""), ...option.choices.map((choice) => new Option(choice, choice)));
    } else {
      input = document.createElement("input");
      input.type = option.kind === "number" || option.kind === "integer" ? "number" : "text";
      if (option.kind === "integer") input.step = "1";
      if (option.kind === "number") input.step = "any";
      if (option.default !== null && option.default !== undefined) input.value = option.default;
    }
    input.id = `opt-${option.name}`;
    input.name = option.name;
    form.append(label, input);
    if (option.name === "fabric") {  // the pattern's fabric codes to choose from
      const codes = document.createElement("datalist");
      codes.id = "fabric-codes";
      input.setAttribute("list", codes.id);
      form.append(codes);
    }
  }
}

function formValues() {
  const values = { pattern: state.pattern.file, ...readOptions() };
  for (const option of state.options) {
    const value = $(`opt-${option.name}`).value.trim();
    if (value !== "") values[option.name] = value;
  }
  return values;
}

async function startNest() {
  try {
    message("");
    const job = await api("POST", "/api/jobs", formValues());
    follow(job.job_id, `nesting into ${job.folder}`);
  } catch (error) {
    message(error.message, true);
  }
}

function setBusy(busy, planning = false) {
  state.busy = busy;
  $("nest").disabled = busy || !state.pattern;
  $("stop").disabled = !busy || planning;
  $("plan").disabled = busy;
  $("plan-stop").disabled = !busy || !planning;
  updateTools();
}

function follow(jobId, title) {
  // A marker job: its progress and the improving marker, then the verified one.
  state.job = jobId;
  state.progress = [];
  drawChart();
  setBusy(true);
  $("status").textContent = title;
  const source = new EventSource(`/api/jobs/${jobId}/events`);
  state.source = source;
  source.addEventListener("message", (event) => {
    if (!state.progress.length) $("status").textContent = JSON.parse(event.data).text;  // before the first marker
  });
  source.addEventListener("progress", (event) => {
    const p = JSON.parse(event.data);
    state.progress.push([p.t, p.utilization]);
    $("status").textContent = `${p.t.toFixed(1)} s  ${p.phase}  length ${p.length.toFixed(1)}  utilization ${(100 * p.utilization).toFixed(2)} %`;
    drawChart();
  });
  source.addEventListener("marker", (event) => {
    // The improving marker, a few times a second: unverified until the last one (the job's result).
    const data = JSON.parse(event.data);
    state.progress.push([data.t, data.marker.utilization]);
    drawChart();
    drawMarker(data.marker, [], data.verified ? "verified, writing the files…" : "searching… (unverified)");
  });
  source.addEventListener("done", async (event) => {
    source.close();
    const data = JSON.parse(event.data);
    await loadMarker(data.marker_id);
    $("status").textContent = `done${data.interrupted ? " (stopped: the best verified marker so far)" : ""}: `
      + `wrote ${data.folder}/ (${data.files.join(", ")})`;
    setBusy(false);
  });
  source.addEventListener("failed", (event) => {
    source.close();
    message(JSON.parse(event.data).error, true);
    $("status").textContent = "failed";
    setBusy(false);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED && state.busy) setBusy(false);
  };
}

async function stopJob() {
  if (state.job) await api("POST", `/api/jobs/${state.job}/stop`).catch((error) => message(error.message, true));
}

function drawChart() {
  const chart = $("chart");
  chart.replaceChildren();
  const [w, h, pad] = [400, 160, 24];
  const points = state.progress;
  const tMax = Math.max(1, ...points.map((p) => p[0]));
  const low = Math.min(state.target - 0.05, ...points.map((p) => p[1] - 0.02));
  const y = (u) => h - pad - (u - low) / (1 - low) * (h - 2 * pad);
  const x = (t) => pad + t / tMax * (w - 2 * pad);
  el("line", { x1: pad, x2: w - pad, y1: y(state.target), y2: y(state.target), class: "target" }, chart);
  el("text", { x: w - pad, y: y(state.target) - 3, "text-anchor": "end" }, chart).textContent =
    `target ${(100 * state.target).toFixed(0)} %`;
  el("text", { x: pad, y: h - 6 }, chart).textContent = "0 s";
  el("text", { x: w - pad, y: h - 6, "text-anchor": "end" }, chart).textContent = `${tMax.toFixed(1)} s`;
  el("text", { x: 2, y: pad - 8 }, chart).textContent = "utilization";
  if (points.length) {
    const best = [];
    let top = 0;
    for (const [t, u] of points) { top = Math.max(top, u); best.push(`${x(t)},${y(top)}`); }
    best.push(`${x(tMax)},${y(top)}`);
    el("polyline", { points: best.join(" "), class: "curve" }, chart);
    el("text", { x: pad + 4, y: y(top) - 4 }, chart).textContent = `${(100 * top).toFixed(2)} %`;
  }
}

// ---- cut plan --------------------------------------------------------------------------------

function showOrderSizes(info) {
  // One quantity field per size of the open pattern (a pattern without sizes has none to order).
  const body = $("order-sizes").tBodies[0];
  body.replaceChildren();
  for (const size of info.sizes) {
    const tr = body.insertRow();
    tr.insertCell().textContent = size;
    const input = document.createElement("input");
    Object.assign(input, { type: "number", min: "0", step: "1", value: "0", id: `order-${size}` });
    input.dataset.size = size;
    tr.insertCell().appendChild(input);
  }
  $("write-order").disabled = !info.sizes.length;
}

function tomlValue(value) {
  // A TOML string or number (JSON's string quoting is valid TOML).
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

function writeOrder() {
  // The order file for the open pattern, from the order fields and the nest options. It is saved
  // in the workspace's uploads/ folder, so the pattern is named relative to that folder.
  const file = state.pattern.file;
  const pattern = file.startsWith("uploads/") ? file.slice("uploads/".length) : `../${file}`;
  const option = (name) => ($(`opt-${name}`)?.value ?? "").trim();
  const top = [`patterns = [${tomlValue(pattern)}]`];
  if (option("spacing")) top.push(`spacing = ${Number(option("spacing"))}`);
  const fabric = ["[fabric]", `width = ${Number(option("width"))}`];
  if (option("fabric")) fabric.push(`code = ${tomlValue(option("fabric"))}`);
  if (option("margin")) fabric.push(`margins = ${Number(option("margin"))}`);
  const rules = [];
  if (option("rotations")) rules.push(`rotations = ${tomlValue(option("rotations"))}`);
  if (option("tilt")) rules.push(`tilt = ${Number(option("tilt"))}`);
  if (option("flip")) rules.push(`flip = ${option("flip") === "yes"}`);
  const order = ["[order]"];
  for (const input of $("order-sizes").querySelectorAll("input")) {
    if (Number(input.value) > 0) order.push(`${tomlValue(input.dataset.size)} = ${Math.round(Number(input.value))}`);
  }
  const limits = ["[limits]", `table_length = ${Number($("order-table").value)}`,
    `max_plies = ${Math.round(Number($("order-max-plies").value))}`,
    `max_garments_per_marker = ${Math.round(Number($("order-garments").value))}`,
    `end_allowance = ${Number($("order-end").value)}`, `overcut = ${Number($("order-overcut").value)}`];
  const sections = [top, fabric, ...(rules.length ? [["[rules]", ...rules]] : []), order, limits];
  $("order-text").value = sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
  state.orderName = `${file.split("/").pop().replace(/\.[^.]*$/, "")}-order.toml`;
}

async function readOrderFile(file) {
  $("order-text").value = await file.text();
  state.orderName = file.name;
}

async function startPlan() {
  try {
    message("");
    const job = await api("POST", "/api/plans", { name: state.orderName || "order.toml",
      order: $("order-text").value, time: Number($("plan-time").value) });
    followPlan(job.job_id, `planning ${job.order} into ${job.folder}`);
  } catch (error) {
    message(error.message, true);
  }
}

function followPlan(jobId, title) {
  state.job = jobId;
  setBusy(true, true);
  $("plan-status").textContent = title;
  const source = new EventSource(`/api/jobs/${jobId}/events`);
  source.addEventListener("message", (event) => { $("plan-status").textContent = JSON.parse(event.data).text; });
  source.addEventListener("done", async (event) => {
    source.close();
    const data = JSON.parse(event.data);
    try {
      await loadPlan(data.plan_id);
      $("plan-status").textContent = `done${data.interrupted ? " (stopped: the best verified plan so far)" : ""}: `
        + `wrote ${data.folder}/`;
    } catch (error) {
      message(error.message, true);
    }
    setBusy(false);
  });
  source.addEventListener("failed", (event) => {
    source.close();
    message(JSON.parse(event.data).error, true);
    $("plan-status").textContent = "failed";
    setBusy(false);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED && state.busy) setBusy(false);
  };
}

function row(body, cells) {
  const tr = body.insertRow();
  for (const text of cells) tr.insertCell().textContent = text;
  return tr;
}

const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;
const markerName = (path) => path.split("/").slice(-2, -1)[0];

async function loadPlan(planId) {
  // The plan as its verified files say (the server checks plan.json before it answers).
  const { plan, markers } = await api("GET", `/api/plans/${planId}`);
  $("plan-result").hidden = false;
  $("plan-name").textContent = planId;
  const downloads = $("plan-downloads");
  downloads.replaceChildren("Download:");
  for (const name of ["plan.json", "plan.md", "plan.png"]) {
    const a = document.createElement("a");
    Object.assign(a, { textContent: name, href: `/api/plans/${planId}/files/${name}`, download: `${planId}-${name}` });
    a.dataset.file = name;
    downloads.appendChild(a);
  }
  const t = plan.totals;
  $("plan-summary").textContent = `${t.fabric_m.toFixed(2)} m of fabric, ${t.lays} lays, ${t.markers} markers, `
    + `${t.garments} garments; utilization over every ply ${percent(t.utilization)} (target 92 %)`
    + (t.lower_bound_m ? `; lower bound ${t.lower_bound_m.toFixed(2)} m (gap ${percent(t.gap_to_lower_bound)})` : "");
  const plies = (value) => (typeof value === "number" ? String(value)
    : Object.entries(value).map(([colour, n]) => `${colour} ${n}`).join(", "));
  const lays = $("plan-lays").tBodies[0];
  lays.replaceChildren();
  plan.lays.forEach((lay, k) => row(lays, [k + 1, markerName(lay.marker),
    Object.entries(lay.ratio).map(([size, n]) => `${size}=${n}`).join(" "), lay.garments, plies(lay.plies),
    (lay.length / 1000).toFixed(3), percent(lay.utilization), lay.fabric_m.toFixed(2)]));
  const colours = plan.colours.length ? plan.colours : [""];
  const sizes = [...new Set(colours.flatMap((c) => Object.keys(c ? plan.order[c] : plan.order)))];
  const cut = $("plan-cut");
  cut.replaceChildren();
  row(cut.createTHead(), ["", ...sizes]);
  const cutBody = cut.createTBody();
  for (const colour of colours) {
    const ordered = colour ? plan.order[colour] : plan.order;
    const made = colour ? t.cut[colour] || {} : t.cut;
    row(cutBody, [`${colour} ordered`.trim(), ...sizes.map((s) => ordered[s] ?? 0)]);
    row(cutBody, [`${colour} cut`.trim(), ...sizes.map((s) => made[s] ?? 0)]);
  }
  const baselines = $("plan-baselines").tBodies[0];
  baselines.replaceChildren();
  row(baselines, ["this plan", t.fabric_m.toFixed(2), t.lays, t.markers, ""]);
  for (const [name, b] of Object.entries(plan.baselines)) {
    row(baselines, b.fabric_m === null ? [name, "not possible within the limits", "", "", ""]
      : [name, b.fabric_m.toFixed(2), b.lays.length, new Set(b.lays.map((l) => l.marker)).size, percent(b.saved_by_plan)]);
  }
  const figures = $("plan-markers");
  figures.replaceChildren();
  for (const [path, marker] of Object.entries(markers)) {
    const figure = document.createElement("figure");
    figure.dataset.marker = path;
    const caption = document.createElement("figcaption");
    const spread = plan.lays.filter((lay) => lay.marker === path);
    caption.textContent = `${markerName(path)}: ${marker.pieces.length} pieces, length ${marker.length.toFixed(1)} `
      + `${marker.units}, utilization ${percent(marker.utilization)}; `
      + spread.map((lay) => `lay ${plan.lays.indexOf(lay) + 1}: ${plies(lay.plies)} ${lay.plies === 1 ? "ply" : "plies"}`).join(", ");
    // one scale for all: the cutting table (grey) in the fabric's width, the marker on it (white)
    const table = Math.max(plan.limits.table_length, marker.length);
    const svg = el("svg", { viewBox: `0 0 ${table} ${marker.width}`, preserveAspectRatio: "xMinYMid meet" });
    el("title", {}, svg).textContent = `on the ${plan.limits.table_length} mm table`;
    const world = el("g", { transform: `matrix(1 0 0 -1 0 ${marker.width})` }, svg);
    el("rect", { x: 0, y: 0, width: marker.length, height: marker.width, class: "fabric" }, world);
    for (const piece of marker.pieces) {
      const g = el("g", { class: "piece", "data-name": piece.name, "data-size": piece.size ?? "" }, world);
      el("path", { d: [piece.polygon, ...piece.holes].map(ringPath).join("") }, g);
      el("title", {}, g).textContent = `${piece.name}${piece.size ? " size " + piece.size : ""}`;
    }
    figure.append(caption, svg);
    figures.appendChild(figure);
  }
}

// ---- the marker ------------------------------------------------------------------------------

const view = { box: null };

function drawMarker(marker, involved, live = "") {
  // ``live``: a job's drawing, not (yet) the stored marker, and what it is; no piece is selected in it.
  state.view = marker;
  state.involved = involved;
  state.target = marker.target_utilization ?? state.target;
  const svg = $("marker");
  const first = !svg.firstChild;
  svg.replaceChildren();
  const world = el("g", { id: "world", transform: `matrix(1 0 0 -1 0 ${marker.width})` }, svg);
  el("rect", { x: 0, y: 0, width: marker.length, height: marker.width, class: "fabric" }, world);
  const m = marker.margins;
  if (m && (m.bottom || m.top || m.start || m.end)) {
    el("rect", { x: m.start, y: m.bottom, width: Math.max(0, marker.length - m.start - m.end),
      height: marker.width - m.bottom - m.top, class: "margin" }, world);
  }
  for (const zone of marker.zones || []) el("path", { d: ringPath(zone), class: "zone" }, world);
  const colliding = new Set(involved);
  for (const [k, piece] of marker.pieces.entries()) {
    const g = el("g", {
      class: "piece" + (piece.mirrored ? " mirrored" : "") + (colliding.has(k) ? " collides" : "")
        + (k === state.selected && !live ? " selected" : ""),
      "data-index": k, "data-id": piece.id, "data-name": piece.name, "data-size": piece.size ?? "",
      "data-copy": piece.copy, "data-rotation": piece.rotation, "data-mirrored": piece.mirrored,
    }, world);
    el("path", { d: [piece.polygon, ...piece.holes].map(ringPath).join("") }, g);
    el("title", {}, g).textContent = describe(piece);
  }
  if (first || !view.box) fit();
  else applyBox();
  const util = (100 * marker.utilization).toFixed(2);
  const gap = (100 * (marker.target_utilization - marker.utilization)).toFixed(2);
  $("marker-summary").textContent = `${marker.pieces.length} pieces, length ${marker.length.toFixed(1)} ${marker.units}`
    + ` on width ${marker.width}, utilization ${util} %`
    + (marker.utilization >= marker.target_utilization ? " (meets the target)" : ` (${gap} points below the target)`)
    + (live ? ` — ${live}` : state.edited ? " — edited" : "");
}

function describe(piece) {
  return `${piece.name}${piece.size ? " size " + piece.size : ""}, copy ${piece.copy}, `
    + `rotation ${Number(piece.rotation).toFixed(1)}°${piece.mirrored ? ", mirrored" : ""}`;
}

function fit() {
  const marker = state.view;
  if (!marker) return;
  const pad = 0.03 * Math.max(marker.length, marker.width);
  view.box = [-pad, -pad, marker.length + 2 * pad, marker.width + 2 * pad];
  applyBox();
}

function applyBox() {
  $("marker").setAttribute("viewBox", view.box.join(" "));
}

function toSvg(event) {
  const svg = $("marker");
  const point = new DOMPoint(event.clientX, event.clientY);
  return point.matrixTransform(svg.getScreenCTM().inverse());
}

function showFindings(findings) {
  state.valid = findings.valid;
  const list = $("violations");
  list.replaceChildren(...findings.violations.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
}

async function loadMarker(markerId) {
  const data = await api("GET", `/api/markers/${markerId}`);
  state.markerId = markerId;
  state.placements = data.marker.pieces.map(placementOf);
  state.undo = [];
  state.edited = false;
  state.selected = null;
  drawMarker(data.marker, data.involved);
  showFindings(data);
  updateTools();
}

function placementOf(piece) {
  return { x: piece.x, y: piece.y, rotation: piece.rotation, mirrored: piece.mirrored };
}

async function applyEdit(placements, request = null) {
  // Ask the engine about the edited placements (or to turn/flip one), then draw its answer.
  const before = state.placements;
  state.checking += 1;  // until the engine answers, nothing may start from the placements
  updateTools();
  try {
    const data = request
      ? await api("POST", `/api/markers/${state.markerId}/turn`, { placements, ...request })
      : await api("POST", `/api/markers/${state.markerId}/check`, { placements });
    state.undo.push(before);
    state.placements = data.marker.pieces.map(placementOf);
    state.edited = true;
    drawMarker(data.marker, data.involved);
    showFindings(data);
    message("");
  } catch (error) {
    message(error.message, true);
    drawMarker(state.view, state.involved);  // the drawing goes back to what the engine last checked
  } finally {
    state.checking -= 1;
  }
  updateTools();
}

async function undo() {
  if (!state.undo.length || state.busy) return;
  try {
    const placements = state.undo[state.undo.length - 1];
    const data = await api("POST", `/api/markers/${state.markerId}/check`, { placements });
    state.undo.pop();
    state.placements = placements;
    state.edited = state.undo.length > 0;
    drawMarker(data.marker, data.involved);
    showFindings(data);
  } catch (error) {
    message(error.message, true);
  }
  updateTools();
}

async function compact() {
  try {
    const job = await api("POST", `/api/markers/${state.markerId}/compact`,
      { placements: state.placements, time: Number($("compact-time").value) });
    follow(job.job_id, `compacting into ${job.folder}` + (job.start_valid ? "" : " (separating the colliding pieces first)"));
  } catch (error) {
    message(error.message, true);
  }
}

async function keep() {
  try {
    const data = await api("POST", `/api/markers/${state.markerId}/keep`, { placements: state.placements });
    $("status").textContent = `kept the edit as ${data.folder}/`;
    await loadMarker(data.marker_id);
  } catch (error) {
    message(error.message, true);
  }
}

function updateTools() {
  const ready = state.markerId && !state.busy && !state.checking;
  const piece = ready && state.selected !== null ? state.view.pieces[state.selected] : null;
  $("turn").disabled = !piece || piece.turns < 2;
  $("flip").disabled = !piece || !piece.may_flip;
  $("undo").disabled = !ready || !state.undo.length;
  $("compact").disabled = !ready;
  $("keep").disabled = !ready || !state.edited || !state.valid;
  const downloads = $("downloads");
  downloads.replaceChildren("Download:");
  for (const format of state.formats) {
    const a = document.createElement("a");
    a.textContent = format.toUpperCase();
    a.dataset.format = format;
    const offered = ready && !state.edited;
    if (offered) {
      a.href = `/api/markers/${state.markerId}/files/${format}`;
      a.download = `${state.markerId}.${format}`;
    } else {
      a.className = "disabled";
      a.title = "only a verified marker is offered: keep a valid edit, or compact";
    }
    downloads.appendChild(a);
  }
}

// ---- mouse: select, drag, zoom, pan ----------------------------------------------------------

function installMouse() {
  const svg = $("marker");
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    const g = event.target.closest(".piece");
    const start = toSvg(event);
    if (g && state.markerId && !state.busy) {
      drag = { kind: "piece", g, index: Number(g.dataset.index), start, dx: 0, dy: 0, active: true };
    } else {
      drag = { kind: "pan", start: { x: event.clientX, y: event.clientY }, box: [...view.box] };
    }
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) {
      const g = event.target.closest(".piece");
      if (g && state.view) $("hover").textContent = describe(state.view.pieces[Number(g.dataset.index)]);
      return;
    }
    if (drag.kind === "piece") {
      const now = toSvg(event);
      drag.dx = now.x - drag.start.x;
      drag.dy = -(now.y - drag.start.y);  // the world is drawn y up
      drag.g.setAttribute("transform", `translate(${drag.dx},${drag.dy})`);
      previewDrag(drag);
    } else {
      const scale = view.box[2] / svg.clientWidth;
      view.box[0] = drag.box[0] - (event.clientX - drag.start.x) * scale;
      view.box[1] = drag.box[1] - (event.clientY - drag.start.y) * scale;
      applyBox();
    }
  });
  svg.addEventListener("pointerup", (event) => {
    const done = drag;
    drag = null;
    if (done) done.active = false;
    if (!done || done.kind !== "piece") return;
    if (!done.dx && !done.dy) {
      state.selected = done.index === state.selected ? null : done.index;
      drawMarker(state.view, state.involved);
      updateTools();
      return;
    }
    state.selected = done.index;
    applyEdit(moved(done.index, done.dx, done.dy));
  });
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const p = toSvg(event);
    const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    view.box = [p.x - (p.x - view.box[0]) * factor, p.y - (p.y - view.box[1]) * factor,
      view.box[2] * factor, view.box[3] * factor];
    applyBox();
  }, { passive: false });
}

let preview = { busy: false, last: 0 };

async function previewDrag(drag) {
  // While a piece is dragged, ask the engine a few times a second whom it collides with.
  const now = performance.now();
  if (preview.busy || now - preview.last < 150) return;
  preview = { busy: true, last: now };
  try {
    const data = await api("POST", `/api/markers/${state.markerId}/check`, { placements: moved(drag.index, drag.dx, drag.dy) });
    if (!drag.active) return;  // dropped meanwhile: the drop's own check is drawn
    const colliding = new Set(data.involved);
    for (const g of $("marker").querySelectorAll(".piece")) {
      g.classList.toggle("collides", colliding.has(Number(g.dataset.index)));
    }
  } catch (error) {
    // the drop's own check reports it
  } finally {
    preview.busy = false;
  }
}

function moved(index, dx, dy) {
  const placements = state.placements.map((p) => ({ ...p }));
  placements[index].x += dx;
  placements[index].y += dy;
  return placements;
}

function nudge(dx, dy) {
  if (state.selected === null || !state.markerId || state.busy) return;
  applyEdit(moved(state.selected, dx, dy));
}

function turn(action) {
  if (state.selected === null || !state.markerId || state.busy) return;
  applyEdit(state.placements, { index: state.selected, action });
}

// ---- start -----------------------------------------------------------------------------------

async function start() {
  // Listeners first: a file chosen while the options load is not lost.
  installMouse();
  $("open").addEventListener("click", openPattern);
  $("upload").addEventListener("change", (event) => event.target.files[0] && uploadPattern(event.target.files[0]));
  $("nest").addEventListener("click", startNest);
  $("stop").addEventListener("click", stopJob);
  $("turn").addEventListener("click", () => turn("turn"));
  $("flip").addEventListener("click", () => turn("flip"));
  $("undo").addEventListener("click", undo);
  $("compact").addEventListener("click", compact);
  $("keep").addEventListener("click", keep);
  $("fit").addEventListener("click", fit);
  $("write-order").addEventListener("click", writeOrder);
  $("order-file").addEventListener("change", (event) => event.target.files[0] && readOrderFile(event.target.files[0]));
  $("plan").addEventListener("click", startPlan);
  $("plan-stop").addEventListener("click", stopJob);
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "r") turn("turn");
    else if (event.key === "f") turn("flip");
    else if (event.key === "z" && (event.ctrlKey || event.metaKey)) undo();
    else if (event.key.startsWith("Arrow") && state.selected !== null) {
      event.preventDefault();
      const step = event.shiftKey ? 10 : 1;  // mm (instance units for JSON instances)
      const [dx, dy] = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[event.key];
      nudge(dx, dy);
    }
  });
  const data = await api("GET", "/api/options");
  state.options = data.options;
  state.formats = data.formats.filter((f) => f !== "png");
  state.maxUpload = data.max_upload;
  buildForm();
  drawChart();
  updateTools();
  await loadFiles();
}

start().catch((error) => message(error.message, true));
