// Shigu dashboard: plain JavaScript, no build step. Talks only to the REST API.
"use strict";
const $ = (s) => document.querySelector(s);
const H = {"X-Requested-With": "shigu"};  // required on every cookie request that changes data

async function api(path, opts = {}) {
  const r = await fetch(path, {...opts, headers: {...H, ...(opts.body ? {"Content-Type": "application/json"} : {}), ...(opts.headers || {})}});
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!r.ok) { const d = await r.json().catch(() => ({})); throw new Error(d.detail || r.statusText); }
  return r.status === 204 ? null : r.json();
}
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) { if (k === "text") e.textContent = v; else e.setAttribute(k, v); }
  for (const k of kids) e.append(k);
  return e;
}

// text for HTML and SVG: ids come from configs and users, never as markup
function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

// ---------------------------------------------------------------- tabs
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("nav button, .tab").forEach((x) => x.classList.remove("active"));
  b.classList.add("active"); $("#" + b.dataset.tab).classList.add("active");
  if (b.dataset.tab === "editor") loadEditor();
  if (b.dataset.tab === "charts") { loadChart(); loadOccupancy(); }
}));
$("#logout").addEventListener("click", async () => { await api("/api/auth/logout", {method: "POST"}); location.href = "/login"; });

let sources = [];
let me = null;

// ---------------------------------------------------------------- live grid
async function loadSources() {
  sources = await api("/api/sources");
  const grid = $("#grid");
  for (const s of sources) {
    let tile = document.getElementById("tile-" + s.id);
    if (!tile) {
      tile = el("div", {class: "tile", id: "tile-" + s.id},
        el("img", {src: `/api/sources/${encodeURIComponent(s.id)}/mjpeg`, alt: s.id, title: "open this camera"}),
        el("p", {class: "status"}));
      const sid = s.id;
      tile.querySelector("img").onclick = () => openCamera(sid);
      grid.append(tile);
    }
    tile.querySelector(".status").textContent =
      `${s.id} · ${s.connected ? "connected" : "offline"} · ${s.frames} frames · ${s.fps} fps · ${s.dropped} dropped` + (s.error ? ` · ${s.error}` : "");
    if (!tile.querySelector(".today")) tile.append(el("p", {class: "today muted"}));
  }
  for (const sel of [$("#f-source"), $("#e-source")]) {
    const keep = sel.value;
    sel.querySelectorAll("option[data-src]").forEach((o) => o.remove());
    for (const s of sources) sel.append(el("option", {value: s.id, "data-src": "1", text: s.id}));
    if (keep) sel.value = keep;
  }
}

// ---------------------------------------------------------------- events
let cursor = null;
function eventItem(e) {
  const thumb = e.has_snapshot ? el("img", {src: `/api/events/${e.id}/snapshot?crop=true`, alt: "snapshot", loading: "lazy"}) : el("span", {class: "muted", text: "no snapshot"});
  const where = e.zone ? `zone ${e.zone}` : e.line ? `line ${e.line}` : "";
  const attrs = e.attributes || {};
  const facts = [];
  if (e.confidence != null) facts.push(`score ${Number(e.confidence).toFixed(2)}`);
  if (attrs.direction) facts.push(attrs.direction === "in" ? "direction in" : `direction ${attrs.direction}`);
  for (const [k, v] of Object.entries(attrs)) if (k !== "direction") facts.push(`${k.replaceAll("_", " ")} ${v}`);
  const media = e.start != null ? `video ${mediaTime(e.start)}` : "";
  const meta = el("div", {class: "meta"},
    el("strong", {text: `${e.type} `}), el("span", {text: `${e.source} ${where} · ${e.class_name || ""} #${e.track_id ?? ""}`}),
    el("div", {class: "facts", text: [media, ...facts].filter(Boolean).join(" · ")}),
    el("div", {class: "muted", text: new Date(e.wall_time).toLocaleString() + (e.acknowledged_by ? ` · acknowledged by ${e.acknowledged_by}` : "")}));
  if (e.has_snapshot) {
    thumb.title = "open the full snapshot";
    thumb.style.cursor = "zoom-in";
    thumb.onclick = () => { $("#full").src = `/api/events/${e.id}/snapshot`; $("#snapshot").showModal(); };
  }
  const li = el("li", {"data-id": e.id, "data-type": e.type, "data-zone": e.zone || ""}, thumb, meta);
  if (e.has_clip) { const b = el("button", {text: "Clip"}); b.onclick = () => { $("#clip").src = `/api/events/${e.id}/clip`; $("#player").showModal(); }; li.append(b); }
  if (me && me.role !== "viewer" && !e.acknowledged_by) {
    const b = el("button", {text: "Acknowledge"});
    b.onclick = async () => { const u = await api(`/api/events/${e.id}/ack`, {method: "POST"}); li.replaceWith(eventItem(u)); };
    li.append(b);
  }
  return li;
}
function filterQuery() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($("#filters"))) if (v) q.set(k, (k === "since" || k === "until") ? new Date(v).toISOString() : v);
  return q;
}
async function loadEvents(more = false) {
  const q = filterQuery(); q.set("limit", "50"); if (more && cursor) q.set("cursor", cursor);
  const page = await api("/api/events?" + q);
  if (!more) $("#timeline").replaceChildren();
  for (const e of page.items) $("#timeline").append(eventItem(e));
  cursor = page.next_cursor; $("#more").hidden = !cursor;
  const x = filterQuery(); x.set("format", "csv"); $("#export").href = "/api/events/export?" + x;
}
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); loadEvents(); });
$("#more").addEventListener("click", () => loadEvents(true));
$("#close-player").addEventListener("click", () => { $("#clip").pause(); $("#player").close(); });
$("#close-snapshot").addEventListener("click", () => $("#snapshot").close());
// media time: where in the video the event starts (the stream's clock, not the processing one)
function mediaTime(seconds) {
  const m = Math.floor(seconds / 60), s = seconds - 60 * m;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}
function connectEvents() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/ws/events");
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.kind !== "event") return;
    const f = filterQuery();
    if ((f.get("source") && f.get("source") !== msg.event.source) || (f.get("type") && f.get("type") !== msg.event.type)) return;
    $("#timeline").prepend(eventItem(msg.event));
  };
  ws.onclose = () => setTimeout(connectEvents, 2000);
}

// ---------------------------------------------------------------- zone and line editor
let points = [];
let frame = new Image();
async function loadEditor() {
  const sid = $("#e-source").value || (sources[0] && sources[0].id);
  if (!sid) return;
  $("#e-source").value = sid;
  frame = new Image();
  frame.onload = draw;
  frame.src = `/api/sources/${encodeURIComponent(sid)}/frame.jpg?t=${Date.now()}`;
  const [zones, lines] = await Promise.all([api(`/api/zones?source=${sid}`), api(`/api/lines?source=${sid}`)]);
  editorShapes = {zones, lines};
  const list = $("#shapes"); list.replaceChildren();
  for (const [kind, items] of Object.entries(editorShapes)) for (const s of items) {
    const del = el("button", {text: "Delete"});
    del.onclick = async () => { await api(`/api/${kind}/${encodeURIComponent(s.id)}`, {method: "DELETE"}); loadEditor(); };
    const edit = el("button", {text: "Edit", "data-edit": `${kind}:${s.id}`});
    edit.onclick = () => editShape(kind, s);
    const rules = kind === "zones" ? ` (${s.rules.map((r) => r.type).join(", ") || "no rule"})` : "";
    list.append(el("li", {}, el("span", {text: `${kind.slice(0, -1)} ${s.id}${rules} `}), edit, del));
  }
  draw();
}

// each rule type's own parameters, with the config's defaults
const RULE_PARAMS = {
  intrusion: [], loitering: [],
  crowding: [["max_count", "number", 3]],
  wrong_way: [["direction", "text", "0,1"], ["min_distance", "number", 20]],
  stopped: [["max_move", "number", 10]],
  speeding: [["max_kmh", "number", 50]],
};
function showParams(values = {}) {
  const box = $("#e-params"); box.replaceChildren();
  for (const [name, type, initial] of RULE_PARAMS[$("#e-rule").value] || []) {
    let v = values[name] ?? initial;
    if (Array.isArray(v)) v = v.join(",");
    box.append(el("input", {id: `p-${name}`, type, value: String(v), title: name.replaceAll("_", " "), placeholder: name, step: "any"}));
  }
}
$("#e-rule").addEventListener("change", () => showParams());
showParams();
let editing = null;  // "zones:ID" while a saved shape is being changed
function editShape(kind, s) {
  editing = `${kind}:${s.id}`;
  $("#e-kind").value = kind; $("#e-id").value = s.id;
  points = (kind === "zones" ? s.polygon : s.points).map((p) => [...p]);
  const rule = kind === "zones" ? (s.rules[0] || {}) : {};
  $("#e-classes").value = ((kind === "zones" ? rule.classes : s.classes) || []).join(",");
  if (kind === "zones" && rule.type) {
    $("#e-rule").value = rule.type; $("#e-seconds").value = rule.min_seconds ?? 0; showParams(rule);
  }
  $("#e-msg").textContent = `editing ${kind.slice(0, -1)} ${s.id}`;
  draw();
}
let editorShapes = {zones: [], lines: []};
function draw() {
  const c = $("#canvas"), g = c.getContext("2d");
  if (frame.naturalWidth) { c.width = frame.naturalWidth; c.height = frame.naturalHeight; g.drawImage(frame, 0, 0); }
  const path = (pts, close, colour) => { if (!pts.length) return; g.strokeStyle = colour; g.lineWidth = 2; g.beginPath(); g.moveTo(...pts[0]); for (const p of pts.slice(1)) g.lineTo(...p); if (close) g.closePath(); g.stroke(); };
  for (const z of editorShapes.zones) path(z.polygon, true, "#ffb000");
  for (const l of editorShapes.lines) path(l.points, false, "#00d0ff");
  path(points, $("#e-kind").value === "zones", "#ff3b3b");
  for (const p of points) { g.fillStyle = "#ff3b3b"; g.fillRect(p[0] - 3, p[1] - 3, 6, 6); }
}
$("#canvas").addEventListener("click", (e) => {
  const c = e.target, r = c.getBoundingClientRect();
  const x = (e.clientX - r.left) * c.width / r.width, y = (e.clientY - r.top) * c.height / r.height;
  if ($("#e-kind").value === "lines" && points.length >= 2) points = [];
  points.push([Math.round(x * 10) / 10, Math.round(y * 10) / 10]); draw();
});
$("#e-source").addEventListener("change", () => { points = []; loadEditor(); });
$("#e-kind").addEventListener("change", () => { points = []; draw(); });
$("#e-clear").addEventListener("click", () => { points = []; draw(); });
$("#e-save").addEventListener("click", async () => {
  const kind = $("#e-kind").value, id = $("#e-id").value.trim();
  const classes = $("#e-classes").value.split(",").map((s) => s.trim()).filter(Boolean);
  const body = {id, source: $("#e-source").value};
  const update = editing === `${kind}:${id}`;
  if (kind === "zones") {
    const rule = {type: $("#e-rule").value};
    if (rule.type !== "speeding") rule.min_seconds = parseFloat($("#e-seconds").value || "0");
    if (classes.length) rule.classes = classes;
    for (const [name, type] of RULE_PARAMS[rule.type]) {
      const raw = $(`#p-${name}`).value;
      rule[name] = name === "direction" ? raw.split(",").map(Number) : type === "number" ? Number(raw) : raw;
    }
    const before = update ? editorShapes.zones.find((z) => z.id === id) : null;
    body.polygon = points; body.rules = [rule, ...((before && before.rules.slice(1)) || [])];
  } else { body.points = points; if (classes.length) body.classes = classes; }
  try {
    const path = update ? `/api/${kind}/${encodeURIComponent(id)}` : `/api/${kind}`;
    await api(path, {method: update ? "PUT" : "POST", body: JSON.stringify(body)});
    $("#e-msg").textContent = `saved ${kind.slice(0, -1)} ${id}`; points = []; editing = null; loadEditor();
  } catch (err) { $("#e-msg").textContent = "not saved: " + err.message; }
});

// ---------------------------------------------------------------- charts
async function loadChart() {
  const data = await api(`/api/stats/counts?interval=${$("#c-interval").value}`);
  const keys = [...new Set(data.map((d) => `${d.key} ${d.type}`))];
  const starts = [...new Set(data.map((d) => d.start))].sort();
  const W = 800, Hh = 300, pad = 44, max = Math.max(1, ...data.map((d) => d.count));
  const colours = ["#3fa7ff", "#ffb000", "#5ad17a", "#ff5c5c", "#c08bff", "#00d0ff"];
  const bw = (W - pad - 10) / Math.max(1, starts.length) / Math.max(1, keys.length);
  let svg = `<svg viewBox="0 0 ${W} ${Hh + 60}" role="img" aria-label="event counts">`;
  // value axis: gridlines and labels at 0, half and the maximum
  for (const v of [0, Math.round(max / 2), max]) {
    const y = Hh - (Hh - 20) * v / max;
    svg += `<line x1="${pad}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#2a3440"/><text x="${pad - 6}" y="${y + 4}" fill="#8a96a3" font-size="11" text-anchor="end">${v}</text>`;
  }
  svg += `<text x="12" y="${Hh / 2}" fill="#8a96a3" font-size="11" transform="rotate(-90 12 ${Hh / 2})" text-anchor="middle">events per bucket</text>`;
  data.forEach((d) => {
    const i = starts.indexOf(d.start), k = keys.indexOf(`${d.key} ${d.type}`);
    const h = (Hh - 20) * d.count / max, x = pad + (i * keys.length + k) * bw;
    svg += `<rect x="${x}" y="${Hh - h}" width="${Math.max(1, bw - 1)}" height="${h}" fill="${colours[k % colours.length]}"><title>${esc(`${d.key} ${d.type}: ${d.count} at ${d.start}`)}</title></rect>`;
  });
  // time axis: first, middle and last bucket, in local time
  const ticks = [...new Set([0, Math.floor((starts.length - 1) / 2), starts.length - 1])].filter((i) => i >= 0);
  for (const i of ticks) {
    const x = pad + (i * keys.length + keys.length / 2) * bw;
    const t = new Date(starts[i]).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    svg += `<text x="${x}" y="${Hh + 16}" fill="#8a96a3" font-size="11" text-anchor="middle">${esc(t)}</text>`;
  }
  svg += `<text x="${(W + pad) / 2}" y="${Hh + 32}" fill="#8a96a3" font-size="11" text-anchor="middle">time (local)</text>`;
  keys.forEach((k, i) => { svg += `<text x="${pad + i * 160}" y="${Hh + 52}" fill="${colours[i % colours.length]}" font-size="12">${esc(k)}</text>`; });
  svg += "</svg>";
  $("#chart").innerHTML = data.length ? svg : "<p class='muted'>no events in the last 24 hours</p>";
}
$("#c-refresh").addEventListener("click", loadChart);

// occupancy: one line per room, the minute's mean (solid) and maximum (dotted)
async function loadOccupancy() {
  const data = await api("/api/occupancy");
  const rooms = [...new Set(data.map((d) => `${d.source}/${d.zone}`))];
  const W = 800, Hh = 240, pad = 44;
  const times = data.map((d) => Date.parse(d.wall_time));
  const t0 = Math.min(...times), t1 = Math.max(t0 + 60000, ...times);
  const max = Math.max(1, ...data.map((d) => d.max));
  const colours = ["#5ad17a", "#3fa7ff", "#ffb000", "#c08bff", "#ff5c5c", "#00d0ff"];
  const x = (t) => pad + (W - pad - 10) * (t - t0) / (t1 - t0);
  const y = (v) => Hh - (Hh - 20) * v / max;
  let svg = `<svg viewBox="0 0 ${W} ${Hh + 50}" role="img" aria-label="occupancy">`;
  for (const v of [0, Math.round(max / 2), max]) {
    svg += `<line x1="${pad}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#2a3440"/><text x="${pad - 6}" y="${y(v) + 4}" fill="#8a96a3" font-size="11" text-anchor="end">${v}</text>`;
  }
  rooms.forEach((room, k) => {
    const rows = data.filter((d) => `${d.source}/${d.zone}` === room);
    const c = colours[k % colours.length];
    const path = (key) => rows.map((d, i) => `${i ? "L" : "M"}${x(Date.parse(d.wall_time)).toFixed(1)},${y(d[key]).toFixed(1)}`).join(" ");
    svg += `<path d="${path("mean")}" fill="none" stroke="${c}" stroke-width="2"><title>${esc(room)} mean</title></path>`;
    svg += `<path d="${path("max")}" fill="none" stroke="${c}" stroke-dasharray="3 3"><title>${esc(room)} max</title></path>`;
    svg += `<text x="${pad + k * 180}" y="${Hh + 42}" fill="${c}" font-size="12">${esc(room)}</text>`;
  });
  for (const t of [t0, t1]) {
    const label = new Date(t).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    svg += `<text x="${x(t)}" y="${Hh + 16}" fill="#8a96a3" font-size="11" text-anchor="middle">${esc(label)}</text>`;
  }
  svg += "</svg>";
  $("#occupancy-chart").innerHTML = data.length ? svg : "<p class='muted'>no occupancy zones counted in the last 24 hours</p>";
}
$("#c-refresh").addEventListener("click", loadOccupancy);

// one camera's page: its live view (zones and counts drawn), status and recent events
let cameraId = null;
async function openCamera(id) {
  cameraId = id;
  document.querySelectorAll("nav button, .tab").forEach((x) => x.classList.remove("active"));
  $("#camera").classList.add("active");
  $("#cam-title").textContent = id;
  $("#cam-view").src = `/api/sources/${encodeURIComponent(id)}/mjpeg`;
  location.hash = "camera=" + encodeURIComponent(id);
  await refreshCamera();
}
async function refreshCamera() {
  if (!cameraId || !$("#camera").classList.contains("active")) return;
  const s = sources.find((x) => x.id === cameraId);
  const today = document.querySelector(`#tile-${CSS.escape(cameraId)} .today`);
  if (s) $("#cam-status").textContent = `${s.connected ? "connected" : "offline"} · ${s.frames} frames · ${s.fps} fps` + (today && today.textContent ? ` · ${today.textContent}` : "") + (s.error ? ` · ${s.error}` : "");
  const page = await api("/api/events?" + new URLSearchParams({source: cameraId, limit: "20"}));
  $("#cam-events").replaceChildren(...page.items.map(eventItem));
}
$("#cam-back").addEventListener("click", () => {
  cameraId = null; $("#cam-view").removeAttribute("src"); location.hash = "";
  document.querySelectorAll(".tab").forEach((x) => x.classList.remove("active"));
  $("#live").classList.add("active"); document.querySelector("nav button[data-tab=live]").classList.add("active");
});
setInterval(refreshCamera, 3000);

// each live tile: today's events per zone and line (crossings by direction)
async function loadTodayCounts() {
  const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
  for (const s of sources) {
    const q = new URLSearchParams({interval: "86400", since: midnight.toISOString(), source: s.id});
    const buckets = await api("/api/stats/counts?" + q);
    const per = {};
    for (const b of buckets) per[b.key] = (per[b.key] || 0) + b.count;
    const total = Object.values(per).reduce((a, b) => a + b, 0);
    const parts = Object.entries(per).map(([k, n]) => `${k} ${n}`).join(" · ");
    const p = document.querySelector(`#tile-${CSS.escape(s.id)} .today`);
    if (p) p.textContent = `today: ${total} events` + (parts ? ` (${parts})` : "");
  }
}

// the zone and line filters offer the ones that exist (free text let typos find nothing)
async function loadFilterChoices() {
  const [zones, lines] = await Promise.all([api("/api/zones"), api("/api/lines")]);
  for (const [sel, items] of [[$("#f-zone"), zones], [$("#f-line"), lines]]) {
    const keep = sel.value;
    sel.querySelectorAll("option[data-id]").forEach((o) => o.remove());
    for (const z of items) sel.append(el("option", {value: z.id, "data-id": "1", text: `${z.id} (${z.source})`}));
    if (keep) sel.value = keep;
  }
}

// ---------------------------------------------------------------- start
(async () => {
  me = await api("/api/me");
  $("#me").textContent = `${me.name} (${me.role})`;
  if (me.role === "viewer") $("#e-save").disabled = true;
  await loadSources(); setInterval(loadSources, 2000);
  await loadFilterChoices(); setInterval(loadFilterChoices, 10000);
  await loadTodayCounts(); setInterval(loadTodayCounts, 10000);
  await loadEvents(); connectEvents();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("camera");
  if (wanted) openCamera(wanted);  // a camera page can be bookmarked
})();
