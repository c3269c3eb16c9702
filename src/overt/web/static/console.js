/* Overt console: vanilla JS, same-origin only, no inline scripts (CSP). */
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

function flash(msg, kind = "error") {
  const el = $("#flash");
  if (!el) return;
  el.textContent = msg;
  el.className = "flash " + kind;
  el.hidden = false;
  clearTimeout(flash._t);
  flash._t = setTimeout(() => { el.hidden = true; }, 8000);
}

function detailText(body) {
  if (!body) return "request failed";
  if (typeof body.detail === "string") return body.detail;
  if (Array.isArray(body.detail)) return body.detail.map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`).join("; ");
  return JSON.stringify(body);
}

async function api(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  if (r.status === 401) { window.location.assign("/login"); throw new Error("not logged in"); }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) { const e = new Error(detailText(data)); e.status = r.status; throw e; }
  return data;
}

const fmtTime = (iso) => iso ? new Date(iso).toLocaleString() : "—";
const rate = (x) => (x == null ? "—" : x === 0 ? "0" : x < 0.001 ? x.toExponential(1) : x.toFixed(3));
const pct = (x) => (x == null ? "—" : (100 * x).toFixed(1) + "%");
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}
function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) { dl.append(el("dt", { text: k }), el("dd", { text: v == null ? "—" : String(v) })); }
}
function bars(container, items) {
  container.replaceChildren();
  const max = Math.max(1, ...items.map((i) => i[1]));
  for (const [label, value, cls] of items) {
    const row = el("div", { class: "bar-row" });
    const fill = el("div", { class: "bar-fill " + (cls || "") });
    fill.style.width = `${(100 * value) / max}%`;
    row.append(el("span", { class: "bar-label", text: label }), el("div", { class: "bar-track" }, fill), el("span", { class: "bar-value", text: String(value) }));
    container.append(row);
  }
}

/* -- login ------------------------------------------------------------------------------------ */
function initLogin() {
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = $("#login-error");
    err.hidden = true;
    const r = await fetch("/api/v1/auth/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": $("#login-csrf").value },
      body: JSON.stringify({ username: $("#username").value, password: $("#password").value }),
    });
    if (r.ok) { window.location.assign("/"); return; }
    const body = await r.json().catch(() => null);
    err.textContent = detailText(body);
    err.hidden = false;
  });
}

/* -- alerts ------------------------------------------------------------------------------------- */
const alertCards = new Map();

function qualityText(q) {
  if (!q || q.size_px == null) return "—";
  return `${Math.round(q.size_px)} px · det ${q.det_score.toFixed(2)} · sharp ${Math.round(q.sharpness)} · yaw ${Math.round(q.yaw_deg)}°`;
}

function renderAlert(a, isNew) {
  let card = alertCards.get(a.id);
  if (!card) {
    card = $("#alert-card").content.firstElementChild.cloneNode(true);
    card.dataset.alertId = a.id;
    card.id = `alert-${a.id}`;
    if (a.has_crop) $(".probe", card).src = `/api/v1/alerts/${a.id}/crop.jpg`;
    else $(".probe", card).replaceWith(el("div", { class: "noimg", text: "no image" }));
    if (a.entry_id != null) $(".ref", card).src = `/api/v1/alerts/${a.id}/watchlist.jpg`;
    else $(".ref", card).replaceWith(el("div", { class: "noimg", text: "no entry" }));
    for (const b of $$(".actions button", card)) b.addEventListener("click", () => adjudicate(a.id, b.dataset.verdict, card));
    alertCards.set(a.id, card);
    if (isNew) { card.dataset.receivedAt = String(Date.now()); card.classList.add("fresh"); $("#queue").prepend(card); }
    else $("#queue").append(card);
  }
  $(".sim", card).textContent = pct(a.similarity);
  $(".cam", card).textContent = a.camera_id;
  $(".time", card).textContent = fmtTime(a.raised_at);
  $(".quality", card).textContent = qualityText(a.quality);
  $(".cat", card).textContent = (a.category || "—").replaceAll("_", " ");
  $(".dep", card).textContent = `#${a.deployment_id}`;
  const st = $(".state", card);
  card.classList.toggle("done", !!a.adjudication);
  if (a.adjudication) {
    st.textContent = `${a.adjudication === "true_match" ? "Confirmed match" : "False alert"}${a.outcome ? " · " + a.outcome.replaceAll("_", " ") : ""}`;
    st.className = "state " + (a.adjudication === "true_match" ? "ok" : "muted");
    $(".actions", card).hidden = true;
  } else if (a.pending) {
    st.textContent = `Awaiting a second person: ${a.pending.proposed_by} proposed ${a.pending.verdict.replaceAll("_", " ")}`;
    st.className = "state warn";
  } else { st.textContent = "Open"; st.className = "state open"; }
  card.dataset.state = a.adjudication || (a.pending ? "pending" : "open");
  applyFilter();
}

function applyFilter() {
  const showDone = $("#show-done") && $("#show-done").checked;
  let visible = 0;
  for (const c of alertCards.values()) { c.hidden = c.classList.contains("done") && !showDone; if (!c.hidden) visible++; }
  $("#no-alerts").hidden = visible > 0;
}

async function adjudicate(id, verdict, card) {
  const outcome = $(".outcome", card).value || null;
  try {
    const r = await api("POST", `/api/v1/alerts/${id}/adjudication`, { verdict, outcome });
    renderAlert(r.alert, false);
    flash(r.counted ? "Verdict recorded." : "Recorded: a second person must confirm it.", "ok");
  } catch (e) { flash(e.message); }
}

function connectAlerts(delay = 500) {
  const pill = $("#ws-state");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws/alerts`);
  ws.onopen = () => { pill.textContent = "live"; pill.className = "pill on"; delay = 500; };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "alert") renderAlert(msg.alert, !alertCards.has(msg.alert.id));
    else if (msg.type === "update" && alertCards.has(msg.alert.id)) renderAlert(msg.alert, false);
  };
  ws.onclose = () => {
    pill.textContent = "reconnecting…"; pill.className = "pill off";
    setTimeout(() => connectAlerts(Math.min(delay * 2, 10000)), delay);
  };
}

async function initAlerts() {
  $("#show-done").addEventListener("change", applyFilter);
  connectAlerts();
  const list = await api("GET", "/api/v1/alerts?limit=100");
  for (const a of list) if (!alertCards.has(a.id)) renderAlert(a, false);
  applyFilter();
}

/* -- deployments ------------------------------------------------------------------------------------ */
async function initDeployments() {
  const rows = await api("GET", "/api/v1/deployments");
  const tb = $("#deployments tbody");
  $("#no-deployments").hidden = rows.length > 0;
  for (const d of rows.reverse()) {
    const state = d.expired && d.state !== "closed" ? `${d.state} (expired)` : d.state;
    tb.append(el("tr", {},
      el("td", {}, el("a", { href: `/deployments/${d.id}`, text: `#${d.id}` })),
      el("td", { text: d.place }), el("td", {}, el("span", { class: `pill ${d.state}`, text: state })),
      el("td", { text: `${fmtTime(d.planned_start)} → ${fmtTime(d.planned_end)}` }),
      el("td", { text: d.snapshot ? `${d.snapshot.entry_count} entries` : "—" }),
      el("td", { text: String(d.alerts_raised) })));
  }
  const form = $("#create-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const iso = (v) => new Date(v).toISOString();
    try {
      const d = await api("POST", "/api/v1/deployments", {
        purpose: f.get("purpose"), legal_basis: f.get("legal_basis"), place: f.get("place"),
        planned_start: iso(f.get("planned_start")), planned_end: iso(f.get("planned_end")),
        criteria: f.get("criteria"), categories: f.getAll("categories"),
        min_similarity: Number(f.get("min_similarity")), threshold_justification: f.get("threshold_justification"),
      });
      window.location.assign(`/deployments/${d.id}`);
    } catch (e) { flash(e.message); }
  });
}

async function loadDeployment(id) {
  const d = await api("GET", `/api/v1/deployments/${id}`);
  const pill = $("#dep-state");
  pill.textContent = d.state; pill.className = `pill ${d.state}`;
  $("#expired").hidden = !(d.expired && d.state !== "closed");
  facts($("#plan"), [
    ["Purpose", d.purpose], ["Legal basis", d.legal_basis], ["Place", d.place],
    ["Window", `${fmtTime(d.planned_start)} → ${fmtTime(d.planned_end)}`], ["Criteria", d.criteria],
    ["Categories", d.categories.join(", ").replaceAll("_", " ")], ["Alert threshold", d.min_similarity],
    ["Justification", d.threshold_justification], ["Notice published", fmtTime(d.notice_published_at)],
    ["Urgent late start", d.late_start_reason ? `approved: ${d.late_start_reason}` : "—"],
    ["Created by", d.created_by], ["Authorised by", d.authorised_by], ["Started", fmtTime(d.started_at)],
    ["Stopped", d.stopped_at ? `${fmtTime(d.stopped_at)} (${d.stop_reason})` : "—"],
    ["Faces processed", d.faces_processed], ["Alerts", d.alerts_raised],
  ]);
  const s = d.snapshot;
  facts($("#snapshot"), [
    ["Entries", s ? s.entry_count : "not authorised yet"],
    ["Expected false alerts per 1,000 faces", rate(d.expected_false_alerts_per_1000)],
    ["Model", s ? s.model_id : "—"],
    ["State", s ? (s.destroyed_at ? `destroyed ${fmtTime(s.destroyed_at)}` : "sealed, live") : "—"],
  ]);
  const role = $("#me").dataset.role;
  const can = {
    authorise: d.state === "draft" && role === "authorising_officer",
    "publish-notice": d.state === "authorised" && !d.notice_published_at && role !== "auditor",
    "late-start": d.state === "authorised" && !!d.notice_published_at && !d.late_start_by && role === "authorising_officer",
    start: d.state === "authorised" && !d.expired && role !== "auditor",
    stop: d.state === "active" && role !== "auditor",
    close: d.state !== "closed" && role !== "auditor",
  };
  for (const b of $$("#dep-actions button")) b.hidden = !can[b.dataset.act];
  $("#sign").hidden = !d.notice_published_at;
  return d;
}

async function pollLive(id) {
  try {
    const l = await api("GET", `/api/v1/deployments/${id}/live`);
    const cam = $("#camera-state");
    cam.textContent = l.expired && l.state !== "active" ? "deployment expired" : (l.camera_connected ? "camera connected" : l.camera_message || "camera disconnected");
    cam.className = "pill " + (l.camera_connected ? "on" : "off");
    const img = $("#live");
    if (l.has_frame) { img.src = `/api/v1/deployments/${id}/live.jpg?t=${Date.now()}`; img.hidden = false; }
  } catch (e) { if (e.status !== 403) $("#camera-state").textContent = "camera state unavailable"; }
}

async function initDeployment() {
  const id = document.body.dataset.deployment;
  for (const b of $$("#dep-actions button")) {
    b.addEventListener("click", async () => {
      if (b.dataset.act === "close" && !window.confirm("Close this deployment? Its watch-list snapshot is destroyed.")) return;
      let body = b.dataset.act === "stop" ? { reason: "stopped by operator" } : undefined;
      if (b.dataset.act === "late-start") {
        const reason = window.prompt("Why must it start before the notice lead time? (shown on the public page)");
        if (!reason) return;
        body = { reason };
      }
      try {
        const r = await api("POST", `/api/v1/deployments/${id}/${b.dataset.act}`, body);
        if (b.dataset.act === "authorise") flash(`Authorised with ${r.watchlist_size} entries; expect ${rate(r.expected_false_alerts_per_1000)} false alerts per 1,000 faces (${r.estimate_basis}).`, "ok");
        else flash(`Done: ${b.dataset.act}.`, "ok");
      } catch (e) { flash(e.message); }
      await loadDeployment(id);
    });
  }
  try { await loadDeployment(id); } catch (e) { flash(e.message); return; }
  const role = $("#me").dataset.role;
  if (["operator", "authorising_officer", "admin"].includes(role)) { pollLive(id); setInterval(() => { pollLive(id); loadDeployment(id).catch(() => {}); }, 1500); }
  else $("#camera-state").textContent = "live view not available to your role";
}

/* -- watch list ---------------------------------------------------------------------------------------- */
async function loadEntries() {
  const rows = await api("GET", "/api/v1/watchlist/entries");
  const tb = $("#entries tbody");
  tb.replaceChildren();
  $("#no-entries").hidden = rows.length > 0;
  const manager = $("#me").dataset.role === "watchlist_manager";
  for (const e of rows) {
    const tr = el("tr", {}, el("td", { text: `#${e.id}` }), el("td", { text: e.subject_ref || "(restricted)" }),
      el("td", { text: e.category.replaceAll("_", " ") + (e.under_18 ? " · under 18" : "") }), el("td", { text: e.legal_basis }),
      el("td", { text: e.taken_on }), el("td", { text: e.review_on }), el("td", { text: e.added_by }));
    const td = el("td");
    if (manager) {
      const view = el("button", { class: "link", text: "image" });
      view.addEventListener("click", () => { const img = el("img", { class: "thumb", src: `/api/v1/watchlist/entries/${e.id}/image.jpg`, alt: "watch-list image" }); view.replaceWith(img); });
      const rm = el("button", { class: "link danger", text: "remove" });
      rm.addEventListener("click", async () => {
        const reason = window.prompt("Reason for removing this entry (its image and template are destroyed):");
        if (!reason) return;
        try { await api("DELETE", `/api/v1/watchlist/entries/${e.id}`, { reason }); await loadEntries(); } catch (err) { flash(err.message); }
      });
      td.append(view, " ", rm);
    }
    tr.append(td);
    tb.append(tr);
  }
}

async function initWatchlist() {
  await loadEntries();
  const form = $("#add-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("#enrol-result");
    out.replaceChildren(el("p", { text: "Checking the image…" }));
    const f = new FormData(form);
    if (!f.get("under_18")) f.delete("under_18");
    if (!f.get("under_18_reason")) f.delete("under_18_reason");
    try {
      const r = await api("POST", "/api/v1/watchlist/entries", f);
      const q = r.quality;
      out.replaceChildren(el("p", { class: "ok", text: `Enrolled as entry #${r.entry_id} (face ${Math.round(q.size_px)} px, sharpness ${Math.round(q.sharpness)}, yaw ${Math.round(q.yaw_deg)}°).` }));
      for (const w of r.warnings) out.append(el("p", { class: "warn", text: w }));
      form.reset();
      await loadEntries();
    } catch (e) { out.replaceChildren(el("p", { class: "error", id: "enrol-error", text: `Rejected: ${e.message}` })); }
  });
}

/* -- reports -------------------------------------------------------------------------------------------- */
async function initReports() {
  const r = await api("GET", "/api/v1/reports/period?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z");
  const tb = $("#report-list tbody");
  $("#no-reports").hidden = r.deployments.length > 0;
  for (const d of r.deployments) {
    tb.append(el("tr", {}, el("td", { text: `#${d.deployment_id}` }), el("td", { text: d.place }), el("td", { text: d.state }),
      el("td", { text: String(d.faces_processed) }), el("td", { text: String(d.alerts) }), el("td", { text: String(d.true_alerts) }),
      el("td", { text: String(d.false_alerts) }), el("td", {}, el("a", { href: `/reports/${d.deployment_id}`, text: "report" }))));
  }
  const t = r.totals;
  bars($("#report-totals"), [["Deployments", t.deployments], ["Alerts", t.alerts], ["True", t.true_alerts, "ok"], ["False", t.false_alerts, "bad"], ["Unadjudicated", t.unadjudicated_alerts, "muted"], ["Engagements", t.engagements]]);
}

async function initReport() {
  const id = document.body.dataset.deployment;
  let r;
  try { r = await api("GET", `/api/v1/reports/deployments/${id}`); } catch (e) { flash(e.message); return; }
  facts($("#report-facts"), [
    ["Date", r.date], ["Place", r.place], ["Purpose", r.purpose], ["Legal basis", r.legal_basis], ["State", r.state],
    ["Planned", `${fmtTime(r.planned_start)} → ${fmtTime(r.planned_end)} (${r.planned_hours} h)`], ["Active", r.active_hours == null ? "—" : `${r.active_hours} h`],
    ["Watch-list size", r.watchlist_size], ["Threshold", r.min_similarity],
    ["Expected false alerts / 1,000 faces", rate(r.expected_false_alerts_per_1000)],
    ["Observed false alerts / 1,000 faces", rate(r.observed_false_alerts_per_1000)],
    ["Faces processed", r.faces_processed], ["Authorised by", r.authorised_by],
  ]);
  bars($("#chart-alerts"), [["Alerts", r.alerts], ["True", r.true_alerts, "ok"], ["False", r.false_alerts, "bad"], ["Unadjudicated", r.unadjudicated_alerts, "muted"], ["Engagements", r.engagements]]);
  const outcomes = Object.entries(r.outcomes || {});
  if (outcomes.length) bars($("#chart-outcomes"), outcomes.map(([k, v]) => [k.replaceAll("_", " "), v]));
  else $("#chart-outcomes").replaceChildren(el("p", { class: "empty", text: "No outcomes recorded." }));
}

/* -- audit ----------------------------------------------------------------------------------------------- */
async function initAudit() {
  const rows = await api("GET", "/api/v1/audit?limit=500");
  const tb = $("#audit tbody");
  for (const e of rows) {
    const details = Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(" ");
    tb.append(el("tr", {}, el("td", { text: String(e.seq) }), el("td", { text: fmtTime(e.at) }), el("td", { text: e.actor }),
      el("td", { text: e.action }), el("td", { text: e.target }), el("td", { class: "small", text: details }), el("td", { class: "hash", text: e.hash.slice(0, 12) })));
  }
  $("#verify").addEventListener("click", async () => {
    const out = $("#verify-result");
    try {
      const r = await api("POST", "/api/v1/audit/verify");
      out.hidden = false;
      out.textContent = r.ok ? `Chain intact: ${r.entries} entries, head ${r.head_hash.slice(0, 12)}` : `Chain BROKEN: ${r.problems.length} problem(s)`;
      out.className = "pill " + (r.ok ? "on" : "bad");
      const ul = $("#problems");
      ul.replaceChildren(...r.problems.map((p) => el("li", { text: `#${p.seq} ${p.kind}: ${p.message}` })));
    } catch (e) { flash(e.message); }
  });
}

/* -- admin ----------------------------------------------------------------------------------------------- */
async function loadAdmin() {
  const users = await api("GET", "/api/v1/users");
  $("#users tbody").replaceChildren(...users.map((u) => el("tr", {}, el("td", { text: String(u.id) }), el("td", { text: u.name }), el("td", { text: u.role.replaceAll("_", " ") }), el("td", { text: fmtTime(u.created_at) }))));
  const tokens = await api("GET", "/api/v1/tokens");
  const now = Date.now();
  $("#tokens tbody").replaceChildren(...tokens.map((t) => {
    const state = t.revoked_at ? "revoked" : (Date.parse(t.expires_at) <= now ? "expired" : "active");
    const td = el("td");
    if (state === "active") {
      const b = el("button", { class: "link danger", text: "revoke" });
      b.addEventListener("click", async () => { try { await api("DELETE", `/api/v1/tokens/${t.id}`); await loadAdmin(); } catch (e) { flash(e.message); } });
      td.append(b);
    }
    return el("tr", {}, el("td", { text: String(t.id) }), el("td", { text: t.name }), el("td", { text: t.kind }),
      el("td", { text: t.kind === "device" ? `deployment #${t.deployment_id}` : t.user_name }), el("td", { text: fmtTime(t.expires_at) }), el("td", { text: state }), td);
  }));
}

async function initAdmin() {
  await loadAdmin();
  $("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try { await api("POST", "/api/v1/users", { name: f.get("name"), role: f.get("role"), password: f.get("password") }); ev.target.reset(); await loadAdmin(); } catch (e) { flash(e.message); }
  });
  $("#token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { name: f.get("name"), kind: f.get("kind"), days: Number(f.get("days")) || null };
    if (body.kind === "device") body.deployment_id = Number(f.get("deployment_id")); else body.user_name = f.get("user_name");
    try {
      const t = await api("POST", "/api/v1/tokens", body);
      const p = $("#token-secret");
      p.textContent = `Token (shown once, copy it now): ${t.token}`; p.hidden = false;
      await loadAdmin();
    } catch (e) { flash(e.message); }
  });
}

/* -- boot -------------------------------------------------------------------------------------------------- */
document.addEventListener("DOMContentLoaded", () => {
  const lo = $("#logout");
  if (lo) lo.addEventListener("click", async () => { try { await api("POST", "/api/v1/auth/logout"); } catch (e) { /* already out */ } window.location.assign("/login"); });
  const pages = { login: initLogin, alerts: initAlerts, deployments: initDeployments, deployment: initDeployment, watchlist: initWatchlist, reports: initReports, report: initReport, audit: initAudit, admin: initAdmin };
  const init = pages[document.body.dataset.page];
  if (init) Promise.resolve(init()).catch((e) => flash(e.message));
});
