// The arena's page: leaderboards for everyone; team, submissions, panel and organiser views
// by role. Every value from the server is set as text (never as HTML).
"use strict";

const state = { me: { role: "public" }, challenge: null };
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem("arena-token"); }

// Paths are relative to the page, so the arena works at / (shigu arena serve) and mounted
// under the dashboard (shigu serve --arena DIR, at /arena/).
const BASE = location.pathname.replace(/[^/]*$/, "");

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = "Bearer " + token();
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(BASE + path.replace(/^\//, ""), Object.assign({}, options, { headers }));
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(detail || response.statusText);
  }
  return body;
}

function say(text) { $("message").textContent = text; }

function row(cells, className) {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
    tr.appendChild(td);
  }
  return tr;
}

function fill(tableId, rows) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows);
}

function options(select, values) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement("option");
    o.value = v; o.textContent = v;
    return o;
  }));
}

function fmt(value) {
  return value === null || value === undefined ? "" : Number(value).toFixed(4);
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", async () => {
    try { await onClick(); } catch (e) { say(e.message); }
  });
  return b;
}

function showRoles() {
  const role = state.me.role;
  for (const el of document.querySelectorAll("[data-role]")) {
    el.hidden = !el.dataset.role.split(" ").includes(role);
  }
  const signedIn = role !== "public";
  $("login").hidden = signedIn;
  $("logout").hidden = !signedIn;
  $("who").textContent = signedIn ? `${state.me.name} (${role})` : "";
}

async function loadBoard() {
  const track = $("board-track").value, phase = $("board-phase").value;
  const split = $("board-split").value;
  try {
    const board = await api(`/api/leaderboard/${encodeURIComponent(track)}/${encodeURIComponent(phase)}?split=${split}`);
    $("board-metric").textContent = board.metric;
    fill("board", board.rows.map((r) => row(
      [r.rank === null ? "" : String(r.rank), r.entrant, fmt(r.score), String(r.entries),
       r.submitted.slice(0, 19)], r.baseline ? "baseline" : "")));
    say("");
  } catch (e) { fill("board", []); say(e.message); }
}

async function loadTeam() {
  const me = state.me;
  $("team-name").textContent = me.team ? `Team ${me.team}` : "You are not in a team yet.";
  $("team-form").hidden = Boolean(me.team);
  $("member-form").hidden = !me.team;
  if (!me.team) { fill("submissions", []); return; }
  const subs = await api("/api/submissions");
  fill("submissions", subs.map((s) => {
    const pub = Object.entries(s.public || {}).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
    const priv = s.private ? Object.entries(s.private).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : "hidden";
    const actions = document.createElement("span");
    if (s.status === "scored") {
      actions.appendChild(button(s.selected ? "Unselect" : "Select", async () => {
        await api(`/api/submissions/${s.id}/select`, { method: "POST", json: { selected: !s.selected } });
        await loadTeam();
      }));
    }
    actions.appendChild(button("Withdraw", async () => {
      await api(`/api/submissions/${s.id}`, { method: "DELETE" });
      await loadTeam();
    }));
    return row([s.id.slice(0, 8), s.track, s.phase, s.status + (s.selected ? " ★" : ""),
                s.message + (s.report.length ? ": " + s.report.join("; ") : ""), pub, priv, actions]);
  }));
}

async function loadPanel() {
  const plan = await api("/api/assignments");
  const mine = await api("/api/judge-scores");
  const criteria = state.challenge.criteria.map((c) => c.id);
  fill("assignments", Object.entries(plan).map(([team, judges]) => {
    const cell = document.createElement("span");
    if (state.me.role === "judge") {
      const given = mine.find((s) => s.team === team);
      const inputs = criteria.map((c) => {
        const input = document.createElement("input");
        input.type = "number"; input.min = 0; input.max = 10; input.step = 0.5;
        input.name = c; input.title = c; input.placeholder = c.slice(0, 4);
        input.value = given ? given.scores[c] : "";
        cell.appendChild(input);
        return input;
      });
      cell.appendChild(button("Save", async () => {
        const scores = Object.fromEntries(inputs.map((i) => [i.name, Number(i.value)]));
        await api(`/api/judge-scores/${encodeURIComponent(team)}`, { method: "PUT", json: { scores } });
        say(`scores for ${team} saved`);
      }));
    }
    return row([team, judges.join(", "), cell]);
  }));
}

async function loadOrganiser() {
  try {
    const sheet = await api("/api/final-sheet");
    fill("sheet", sheet.map((r) => row([String(r.rank), r.team, r.total.toFixed(3),
      r.benchmark === null ? "" : fmt(r.benchmark), r.judges.join(", ")])));
  } catch (e) { fill("sheet", [row(["", e.message, "", "", ""])]); }
  const audit = await api("/api/audit?limit=50");
  fill("audit", audit.map((e) => row([e.at.slice(0, 19), e.actor, e.action, e.target.slice(0, 12)])));
}

async function loadAwards() {
  try {
    const awards = await api("/api/awards");
    $("award-list").replaceChildren(...awards.map((a) => {
      const li = document.createElement("li");
      li.textContent = `${a.tier}: ${a.team}`;
      return li;
    }));
    $("award-links").hidden = false;
  } catch (e) {
    $("award-list").replaceChildren();
    $("award-links").hidden = true;
  }
}

async function refresh() {
  try {
    state.me = await api("/api/me");
  } catch (e) {
    sessionStorage.removeItem("arena-token");
    state.me = { role: "public" };
  }
  showRoles();
  const loads = [loadBoard(), loadAwards()];
  if (state.me.role === "participant") loads.push(loadTeam());
  if (state.me.role === "judge" || state.me.role === "organiser") loads.push(loadPanel());
  if (state.me.role === "organiser") loads.push(loadOrganiser());
  await Promise.all(loads.map((p) => p.catch((e) => say(e.message))));
  document.body.dataset.ready = "1";
}

async function start() {
  try {
    state.challenge = await api("/api/challenge");
  } catch (e) {
    say(e.message);
    showRoles();
    return;
  }
  $("title").textContent = state.challenge.title || state.challenge.id;
  const tracks = state.challenge.tracks.map((t) => t.id);
  const phases = state.challenge.phases.map((p) => p.id);
  options($("board-track"), tracks); options($("submit-track"), tracks);
  options($("board-phase"), phases); options($("submit-phase"), phases);

  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/api/login", { method: "POST", json: { name: $("login-name").value, password: $("login-password").value } });
      sessionStorage.setItem("arena-token", r.token);
      say(`signed in as ${r.name}`);
      await refresh();
    } catch (e) { say(e.message); }
  });
  $("register-button").addEventListener("click", async () => {
    try {
      await api("/api/register", { method: "POST", json: { name: $("login-name").value, password: $("login-password").value } });
      say("registered: now sign in");
    } catch (e) { say(e.message); }
  });
  $("logout").addEventListener("click", async () => {
    await api("/api/logout", { method: "POST" }).catch(() => null);
    sessionStorage.removeItem("arena-token");
    await refresh();
  });
  $("board-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadBoard(); });
  $("team-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("/api/teams", { method: "POST", json: { id: $("team-id").value, name: $("team-display").value } });
      await refresh();
    } catch (e) { say(e.message); }
  });
  $("member-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/teams/${encodeURIComponent(state.me.team)}/members`, { method: "POST", json: { person: $("member-name").value } });
      say("member added");
    } catch (e) { say(e.message); }
  });
  $("submit-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData();
    form.append("track", $("submit-track").value);
    form.append("phase", $("submit-phase").value);
    form.append("file", $("submit-file").files[0]);
    try {
      const s = await api("/api/submissions", { method: "POST", body: form });
      say(`submission ${s.id.slice(0, 8)} queued`);
      await loadTeam();
    } catch (e) { say(e.message); }
  });
  $("assign-button").addEventListener("click", async () => {
    try { await api("/api/assignments", { method: "POST" }); await refresh(); say("judges assigned"); } catch (e) { say(e.message); }
  });
  $("announce-button").addEventListener("click", async () => {
    try { await api("/api/awards/announce", { method: "POST" }); await refresh(); say("awards announced"); } catch (e) { say(e.message); }
  });
  await refresh();
}

document.addEventListener("DOMContentLoaded", start);
