// losslab playground: draws what the server computes. No loss is computed here.
"use strict";

const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4"];
const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");

let catalogue = null;
let evaluation = null;
let curve = [];
let selected = null;
let running = false;
let drag = null; // index of the point being dragged
let pending = Promise.resolve();

const state = {
  points: [], n_classes: 3, model: "linear", hidden: 16, loss: "softmax", margin: 1, gamma: 2,
  reg: 1e-3, penalty: "l2", optimizer: "sgd", lr: 0.1, batch_size: 0, seed: 0,
  params: null, opt_state: null, step_count: 0, dataset: "blobs", n_per_class: 25, add_class: 0,
};

// ---------------------------------------------------------------- server
async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    $("error").textContent = data.error;
    throw new Error(data.error);
  }
  $("error").textContent = "";
  return data;
}

function apiState() {
  const { add_class, dataset, n_per_class, ...rest } = state;
  return rest;
}

// serialise the calls so that steps and refreshes never interleave
function queue(task) {
  pending = pending.then(task).catch((e) => console.warn(e.message));
  return pending;
}

async function refresh() {
  evaluation = await api("/api/evaluate", { state: apiState(), selected });
  state.params = evaluation.params;
  render();
  saveURL();
}

async function step(n) {
  const r = await api("/api/step", { state: apiState(), steps: n });
  state.params = r.params;
  state.opt_state = r.opt_state;
  state.step_count = r.step_count;
  curve.push(...r.curve);
  await refresh();
  if (r.note) $("error").textContent = r.note; // the server's time budget cut the steps short
}

async function generate() {
  const r = await api("/api/dataset", {
    kind: state.dataset, n_classes: state.n_classes, n_per_class: state.n_per_class, seed: state.seed,
  });
  state.points = r.points;
  state.n_classes = r.n_classes;
  $("n-classes").value = r.n_classes;
  resetTraining();
  buildClassPicker();
  await refresh();
}

function resetTraining() {
  state.params = null;
  state.opt_state = null;
  state.step_count = 0;
  curve = [];
  selected = null;
}

// ---------------------------------------------------------------- URL state
function saveURL() {
  const { opt_state, ...shared } = state;
  const encoded = btoa(unescape(encodeURIComponent(JSON.stringify(shared))));
  history.replaceState(null, "", "#s=" + encoded);
}

function loadURL() {
  const match = location.hash.match(/#s=(.+)$/);
  if (!match) return false;
  try {
    Object.assign(state, JSON.parse(decodeURIComponent(escape(atob(match[1])))));
    state.opt_state = null;
    return true;
  } catch (e) {
    $("error").textContent = "could not read the state in the URL; starting fresh";
    return false;
  }
}

// ---------------------------------------------------------------- drawing
const BOX = () => (catalogue ? catalogue.box : 3);
const toPx = (x, y) => [((x + BOX()) / (2 * BOX())) * canvas.width, ((BOX() - y) / (2 * BOX())) * canvas.height];
const toWorld = (px, py) => [(px / canvas.width) * 2 * BOX() - BOX(), BOX() - (py / canvas.height) * 2 * BOX()];

function render() {
  drawCanvas();
  drawCurve();
  $("data-loss").textContent = evaluation.data_loss.toFixed(4);
  $("reg-loss").textContent = evaluation.reg_loss.toFixed(4);
  $("total-loss").textContent = evaluation.total_loss.toFixed(4);
  $("accuracy").textContent = (100 * evaluation.accuracy).toFixed(1) + "%";
  $("step-count").textContent = state.step_count;
  renderParams();
  renderTable();
  renderComparison();
}

function drawCanvas() {
  const g = evaluation.grid;
  const n = g.axis.length;
  const cw = canvas.width / n;
  const ch = canvas.height / n;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      ctx.globalAlpha = 0.1 + 0.4 * g.confidence[i][j];
      ctx.fillStyle = COLORS[g.label[i][j]];
      ctx.fillRect(j * cw, canvas.height - (i + 1) * ch, cw + 1, ch + 1); // row i is y = axis[i], bottom up
    }
  }
  ctx.globalAlpha = 1;
  if (state.model === "linear" && state.params) drawLinear(state.params);
  state.points.forEach(([x, y, c], k) => {
    const [px, py] = toPx(x, y);
    ctx.beginPath();
    ctx.arc(px, py, k === selected ? 8 : 5.5, 0, 2 * Math.PI);
    ctx.fillStyle = COLORS[c];
    ctx.fill();
    ctx.lineWidth = k === selected ? 3 : 1.2;
    ctx.strokeStyle = evaluation.predicted[k] === c ? "#222" : "#fff";
    ctx.stroke();
  });
}

function drawLinear(p) {
  // class c scores s_c = W[0][c] x + W[1][c] y + b[c]; draw s_c = 0 and the weight vector
  for (let c = 0; c < state.n_classes; c++) {
    const w0 = p.W[0][c], w1 = p.W[1][c], b = p.b[c];
    const norm2 = w0 * w0 + w1 * w1;
    if (norm2 < 1e-12) continue;
    const B = BOX();
    const ends = Math.abs(w1) > Math.abs(w0)
      ? [[-B, -(b + w0 * -B) / w1], [B, -(b + w0 * B) / w1]]
      : [[-(b + w1 * -B) / w0, -B], [-(b + w1 * B) / w0, B]];
    ctx.strokeStyle = COLORS[c];
    ctx.lineWidth = 2;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(...toPx(...ends[0]));
    ctx.lineTo(...toPx(...ends[1]));
    ctx.stroke();
    ctx.setLineDash([]);
    const foot = [(-b * w0) / norm2, (-b * w1) / norm2];
    const len = Math.min(1.5, Math.sqrt(norm2)) / Math.sqrt(norm2);
    const tip = [foot[0] + w0 * len, foot[1] + w1 * len];
    const [fx, fy] = toPx(...foot), [tx, ty] = toPx(...tip);
    ctx.beginPath();
    ctx.moveTo(fx, fy);
    ctx.lineTo(tx, ty);
    ctx.stroke();
    const a = Math.atan2(ty - fy, tx - fx);
    ctx.beginPath();
    ctx.moveTo(tx, ty);
    ctx.lineTo(tx - 10 * Math.cos(a - 0.4), ty - 10 * Math.sin(a - 0.4));
    ctx.lineTo(tx - 10 * Math.cos(a + 0.4), ty - 10 * Math.sin(a + 0.4));
    ctx.fillStyle = COLORS[c];
    ctx.fill();
  }
}

function drawCurve() {
  const c = $("curve");
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  if (curve.length < 2) return;
  const max = Math.max(...curve), min = Math.min(...curve);
  g.strokeStyle = "#4363d8";
  g.lineWidth = 1.5;
  g.beginPath();
  curve.forEach((v, k) => {
    const x = (k / (curve.length - 1)) * (c.width - 10) + 5;
    const y = c.height - 5 - ((v - min) / (max - min || 1)) * (c.height - 20);
    k === 0 ? g.moveTo(x, y) : g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = "#333";
  g.fillText(`${curve[curve.length - 1].toFixed(4)} (max ${max.toFixed(3)})`, 8, 12);
}

function renderParams() {
  const box = $("params");
  if (state.model !== "linear" || !state.params) {
    box.innerHTML = "<p>MLP parameters are not shown</p>";
    return;
  }
  const p = state.params;
  let html = "<table><tr><th>class</th><th>W x</th><th>W y</th><th>b</th></tr>";
  for (let c = 0; c < state.n_classes; c++) {
    html += `<tr><td><span class="swatch" style="background:${COLORS[c]}"></span> ${c}</td>`;
    html += `<td><input data-k="W" data-i="0" data-c="${c}" type="number" step="0.1" value="${p.W[0][c].toFixed(3)}"></td>`;
    html += `<td><input data-k="W" data-i="1" data-c="${c}" type="number" step="0.1" value="${p.W[1][c].toFixed(3)}"></td>`;
    html += `<td><input data-k="b" data-c="${c}" type="number" step="0.1" value="${p.b[c].toFixed(3)}"></td></tr>`;
  }
  box.innerHTML = html + "</table>";
  box.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => {
    const v = parseFloat(input.value);
    if (!Number.isFinite(v)) return;
    const c = +input.dataset.c;
    if (input.dataset.k === "W") state.params.W[+input.dataset.i][c] = v; else state.params.b[c] = v;
    queue(refresh);
  }));
}

function renderTable() {
  const head = $("points-table").querySelector("thead");
  const body = $("points-table").querySelector("tbody");
  head.innerHTML = "<tr><th>#</th><th>class</th>" +
    Array.from({ length: state.n_classes }, (_, c) => `<th>s${c}</th>`).join("") + "<th>loss</th></tr>";
  body.innerHTML = state.points.map(([, , c], k) => {
    const cls = [k === selected ? "selected" : "", evaluation.predicted[k] !== c ? "wrong" : ""].join(" ");
    const scores = evaluation.scores[k].map((s) => `<td>${s.toFixed(3)}</td>`).join("");
    return `<tr class="${cls}" data-k="${k}"><td>${k}</td><td>${c}</td>${scores}<td>${evaluation.per_point_loss[k].toFixed(4)}</td></tr>`;
  }).join("");
  body.querySelectorAll("tr").forEach((row) => row.addEventListener("click", () => select(+row.dataset.k)));
}

function renderComparison() {
  const rows = evaluation.comparison;
  if (!rows) {
    $("comparison").innerHTML = "<p>click a point to nudge its scores and compare the two losses</p>";
    return;
  }
  $("comparison").innerHTML = "<table><tr><th>nudge</th><th>scores</th><th>SVM loss</th><th>softmax loss</th></tr>" +
    rows.map((r) => `<tr><td>${r.nudge}</td><td>${r.scores.map((s) => s.toFixed(2)).join(", ")}</td>` +
      `<td>${r.svm.toFixed(4)}</td><td>${r.softmax.toFixed(4)}</td></tr>`).join("") +
    "</table><p>once every margin is met the SVM loss no longer changes; softmax always wants more</p>";
}

function select(k) {
  selected = k;
  queue(refresh);
}

// ---------------------------------------------------------------- controls
function buildClassPicker() {
  const box = $("class-picker");
  box.innerHTML = "add points of class: " + Array.from({ length: state.n_classes }, (_, c) =>
    `<label><input type="radio" name="add-class" id="class-${c}" value="${c}" ${c === state.add_class ? "checked" : ""}>` +
    `<span class="swatch" style="background:${COLORS[c]}"></span></label>`).join("");
  box.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => { state.add_class = +input.value; }));
  if (state.add_class >= state.n_classes) state.add_class = 0;
}

function syncInputs() {
  $("dataset").value = state.dataset;
  $("n-classes").value = state.n_classes;
  $("n-per-class").value = state.n_per_class;
  $("seed").value = state.seed;
  $("model").value = state.model;
  $("hidden").value = state.hidden;
  $("loss").value = state.loss;
  $("margin").value = state.margin;
  $("gamma").value = state.gamma;
  $("reg").value = state.reg > 0 ? Math.log10(state.reg) : -5;
  $("penalty").value = state.penalty;
  $("optimizer").value = state.optimizer;
  $("lr").value = Math.log10(state.lr);
  $("batch").value = state.batch_size;
  showOutputs();
}

function showOutputs() {
  $("margin-out").textContent = state.margin;
  $("gamma-out").textContent = state.gamma;
  $("reg-out").textContent = state.reg.toExponential(1);
  $("lr-out").textContent = state.lr.toExponential(1);
  $("margin").disabled = !["svm", "crammer_singer", "squared_hinge"].includes(state.loss);
  $("gamma").disabled = state.loss !== "focal";
  $("hidden").disabled = state.model !== "mlp";
}

function bind(id, key, parse, { retrain = false } = {}) {
  $(id).addEventListener("change", () => {
    state[key] = parse($(id).value);
    if (retrain) resetTraining();
    showOutputs();
    queue(refresh);
  });
}

function nearestPoint(px, py) {
  let best = null, bestD = 10;
  state.points.forEach(([x, y], k) => {
    const [qx, qy] = toPx(x, y);
    const d = Math.hypot(px - qx, py - qy);
    if (d < bestD) { best = k; bestD = d; }
  });
  return best;
}

function canvasXY(event) {
  const r = canvas.getBoundingClientRect();
  return [(event.clientX - r.left) * (canvas.width / r.width), (event.clientY - r.top) * (canvas.height / r.height)];
}

canvas.addEventListener("mousedown", (event) => {
  const [px, py] = canvasXY(event);
  const k = nearestPoint(px, py);
  if (k !== null && event.shiftKey) {
    state.points.splice(k, 1);
    selected = null;
    queue(refresh);
  } else if (k !== null) {
    drag = k;
    selected = k;
  } else {
    if (state.points.length >= (catalogue ? catalogue.max_points : 1000)) return;
    const [x, y] = toWorld(px, py);
    state.points.push([+x.toFixed(4), +y.toFixed(4), state.add_class]);
    queue(refresh);
  }
});
canvas.addEventListener("mousemove", (event) => {
  if (drag === null) return;
  const [x, y] = toWorld(...canvasXY(event));
  state.points[drag][0] = +x.toFixed(4);
  state.points[drag][1] = +y.toFixed(4);
  drawCanvas();
});
window.addEventListener("mouseup", () => {
  if (drag === null) return;
  drag = null;
  queue(refresh);
});

async function runLoop() {
  while (running) {
    await queue(() => step(5));
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function init() {
  catalogue = await api("/api/catalogue");
  $("dataset").innerHTML = catalogue.datasets.map((d) => `<option>${d}</option>`).join("");
  $("loss").innerHTML = Object.keys(catalogue.losses).map((l) => `<option>${l}</option>`).join("");
  $("optimizer").innerHTML = catalogue.optimizers.map((o) => `<option>${o}</option>`).join("");
  const fromURL = loadURL();
  syncInputs();
  buildClassPicker();
  bind("dataset", "dataset", String);
  bind("n-classes", "n_classes", (v) => Math.max(2, Math.min(5, parseInt(v, 10) || 3)));
  bind("n-per-class", "n_per_class", (v) => Math.max(1, Math.min(200, parseInt(v, 10) || 25)));
  bind("seed", "seed", (v) => parseInt(v, 10) || 0);
  bind("model", "model", String, { retrain: true });
  bind("hidden", "hidden", (v) => Math.max(1, Math.min(256, parseInt(v, 10) || 16)), { retrain: true });
  bind("loss", "loss", String);
  bind("margin", "margin", parseFloat);
  bind("gamma", "gamma", parseFloat);
  bind("reg", "reg", (v) => (parseFloat(v) <= -5 ? 0 : Math.pow(10, parseFloat(v))));
  bind("penalty", "penalty", String);
  bind("optimizer", "optimizer", String);
  bind("lr", "lr", (v) => Math.pow(10, parseFloat(v)));
  bind("batch", "batch_size", (v) => parseInt(v, 10));
  $("generate").addEventListener("click", () => queue(generate));
  $("step").addEventListener("click", () => queue(() => step(1)));
  $("run").addEventListener("click", () => {
    running = !running;
    $("run").textContent = running ? "pause" : "run";
    if (running) runLoop();
  });
  $("reset").addEventListener("click", () => { resetTraining(); queue(refresh); });
  $("randomize").addEventListener("click", () => queue(async () => {
    const r = await api("/api/randomize", { state: apiState() });
    state.params = r.params;
    state.opt_state = null;
    await refresh();
  }));
  if (fromURL && state.points.length) await queue(refresh);
  else await queue(generate);
  document.body.dataset.ready = "true";
}

init();
