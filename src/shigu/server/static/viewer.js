// Shigu volume viewer: three planes rendered by the server, window/level by dragging.
"use strict";
const $ = (s) => document.querySelector(s);
const H = {"X-Requested-With": "shigu"};
const state = {name: "", info: null, center: null, width: null, index: {}};
const AXES = {axial: 2, coronal: 1, sagittal: 0};

async function api(path, opts = {}) {
  const r = await fetch(path, {...opts, headers: {...H, ...(opts.headers || {})}});
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!r.ok) { const d = await r.json().catch(() => ({})); throw new Error(d.detail || r.statusText); }
  return r.status === 204 ? null : r.json();
}

function sliceUrl(plane) {
  const q = new URLSearchParams({name: state.name, plane, index: String(state.index[plane])});
  if (state.center !== null) { q.set("center", String(Math.round(state.center))); q.set("width", String(Math.max(1, Math.round(state.width)))); }
  const overlay = $("#vol-overlay").value;
  if ($("#vol-overlay-on").checked && overlay) q.set("overlay", overlay);
  return "/api/volumes/slice?" + q.toString();
}

function draw() {
  for (const fig of document.querySelectorAll(".planes figure")) {
    const plane = fig.dataset.plane;
    fig.querySelector("img").src = sliceUrl(plane);
    fig.querySelector(".idx").textContent = `${state.index[plane] + 1}/${state.info.shape[AXES[plane]]}`;
  }
  $("#vol-window").textContent = `window ${Math.round(state.center)}/${Math.round(state.width)}`;
}

async function open(name) {
  $("#vol-error").textContent = "";
  state.name = name;
  state.info = await api("/api/volumes/info?" + new URLSearchParams({name}));
  [state.center, state.width] = state.info.window;
  const i = state.info;
  $("#vol-info").textContent = `${i.modality || "volume"} ${i.shape.join(" x ")} voxels, ${i.spacing_mm.join(" x ")} mm, ${i.orientation}, values ${i.value_min} to ${i.value_max}` + (i.notes.length ? ` (${i.notes.join("; ")})` : "");
  for (const fig of document.querySelectorAll(".planes figure")) {
    const plane = fig.dataset.plane, n = i.shape[AXES[plane]];
    state.index[plane] = Math.floor(n / 2);
    const range = fig.querySelector("input");
    range.max = String(n - 1); range.value = String(state.index[plane]);
  }
  draw();
}

function dragWindow(img) {
  let start = null;
  img.addEventListener("pointerdown", (e) => { start = {x: e.clientX, y: e.clientY, c: state.center, w: state.width}; img.setPointerCapture(e.pointerId); });
  img.addEventListener("pointermove", (e) => {
    if (!start) return;
    const scale = Math.max(1, start.w) / 200;  // 200 px of drag = the current width
    state.width = Math.max(1, start.w + (e.clientX - start.x) * scale);
    state.center = start.c - (e.clientY - start.y) * scale;
    $("#vol-window").textContent = `window ${Math.round(state.center)}/${Math.round(state.width)}`;
  });
  const end = () => { if (start) { start = null; draw(); } };
  img.addEventListener("pointerup", end);
  img.addEventListener("pointercancel", end);
}

async function main() {
  const me = await api("/api/me");
  $("#me").textContent = `${me.name} (${me.role})`;
  $("#logout").addEventListener("click", async () => { await api("/api/auth/logout", {method: "POST"}); location.href = "/login"; });
  for (const fig of document.querySelectorAll(".planes figure")) {
    const plane = fig.dataset.plane;
    fig.querySelector("img").addEventListener("error", () => { $("#vol-error").textContent = "a slice could not be shown"; });
    fig.querySelector("input").addEventListener("input", (e) => { state.index[plane] = Number(e.target.value); draw(); });
    dragWindow(fig.querySelector("img"));
  }
  let volumes;
  try { volumes = await api("/api/volumes"); } catch (err) { $("#vol-error").textContent = err.message; return; }
  const pick = $("#vol-name"), overlays = $("#vol-overlay");
  for (const v of volumes) {
    if (!v.labels) { const o = document.createElement("option"); o.value = o.textContent = v.name; pick.append(o); }
    const o = document.createElement("option"); o.value = o.textContent = v.name; overlays.append(o);
  }
  const choose = async () => {
    const v = volumes.find((x) => x.name === pick.value);
    if (v && v.overlays.length) { overlays.value = v.overlays[0]; $("#vol-overlay-on").checked = true; }
    try { await open(pick.value); } catch (err) { $("#vol-error").textContent = err.message; }
  };
  pick.addEventListener("change", choose);
  $("#vol-preset").addEventListener("change", (e) => { if (e.target.value) { [state.center, state.width] = e.target.value.split(",").map(Number); } else { [state.center, state.width] = state.info.window; } draw(); });
  $("#vol-overlay-on").addEventListener("change", draw);
  overlays.addEventListener("change", draw);
  if (volumes.length) await choose(); else $("#vol-error").textContent = "no volumes in the served folder";
}
main();
