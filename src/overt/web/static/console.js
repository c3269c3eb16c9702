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

/* a page may override this (the alert queue blocks in place instead of leaving) */
let onUnauthorized = () => { window.location.assign("/login?next=" + encodeURIComponent(location.pathname)); };

async function api(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, opts); } catch (e) { const err = new Error("the server cannot be reached"); err.status = null; throw err; }
  if (r.status === 401) { onUnauthorized(); const e = new Error("not logged in"); e.status = 401; throw e; }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => null);
  if (!r.ok) { const e = new Error(detailText(data)); e.status = r.status; throw e; }
  return data;
}

const fmtTime = (iso) => iso ? new Date(iso).toLocaleString() : "—";
/* rates for people: no exponents; very small ones as "about 1 in N faces" */
const rate = (x) => (x == null ? "—" : x === 0 ? "0" : x < 0.001 ? `under 0.001 (about 1 in ${Math.round(1000 / x).toLocaleString("en-GB")} faces)` : x.toFixed(3));
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
    if (r.ok) {
      const me = await r.json().catch(() => ({}));
      const next = new URLSearchParams(location.search).get("next") || "/";
      window.location.assign(me.must_change_password ? "/account" : (/^\/(?!\/)[A-Za-z0-9/_-]*$/.test(next) ? next : "/"));
      return;
    }
    const body = await r.json().catch(() => null);
    err.textContent = detailText(body);
    err.hidden = false;
  });
}

/* -- alerts: the queue -------------------------------------------------------------------------- */
/* Never deaf, never lying: the feed is "receiving" only while the WebSocket is open AND heartbeats
   arrive; any failure (socket closed, session ended, server gone, heartbeats stopped) blocks the
   whole queue with "NOT receiving alerts — log in again" until a fresh login (in place: nothing on
   the page is lost), then the alerts raised meanwhile are fetched by the last seen id and verdicts
   still waiting are sent. A verdict is sent at once and kept in sessionStorage until the server has
   it; the server then allows its maker an undo for a few seconds (undo_until), itself an audited event. */
const HEARTBEAT_TIMEOUT_S = 6;
const alertCards = new Map();
const alertData = new Map();
const Q = { ws: null, blocked: false, lastSeen: 0, lastBeat: 0, beatEvery: 2, pipeline: null, pipelineAt: 0, selected: null, unread: 0, retry: null, together: new Map() };
const PENDING_KEY = "overt.pendingVerdicts";

function loadPending() { try { return JSON.parse(sessionStorage.getItem(PENDING_KEY) || "{}"); } catch (e) { return {}; } }
function savePending(p) { sessionStorage.setItem(PENDING_KEY, JSON.stringify(p)); }
const pref = (k, dflt) => { const v = localStorage.getItem("overt.pref." + k); return v == null ? dflt : v === "1"; };

function qualityText(q) {
  if (!q || q.size_px == null) return "—";
  return `${Math.round(q.size_px)} px · det ${q.det_score.toFixed(2)} · sharp ${Math.round(q.sharpness)} · yaw ${Math.round(q.yaw_deg)}°`;
}
/* stream integrity flags (overt.sources.integrity) and the liveness (PAD) verdict, in an operator's words */
const INTEGRITY_WORDS = {
  frozen: "frozen frames detected (a still picture may have replaced the camera)",
  loop: "repeating footage detected (a recording may be replayed)",
  timestamp: "the stream's clock jumped or ran at the wrong speed",
  stream_change: "the stream's resolution or format changed",
  covered: "the view was covered or blank",
  moved: "the camera's view has moved",
};
function integrityText(flags) {
  if (!flags || !flags.length) return { text: "no problem detected", warn: false };
  return { text: flags.map((f) => INTEGRITY_WORDS[f] || human(f)).join("; ") + " — check the scene before acting", warn: true };
}
function padText(pad) {
  if (!pad) return { text: "not run for this camera", warn: false };
  const score = `score ${pad.score.toFixed(2)}`;
  if (pad.live) return { text: `passed: a live face (${score})`, warn: false };
  return { text: `possible photo or screen, not a live face (${score}) — check before acting`, warn: true };
}
function showCheck(dd, r) { dd.textContent = r.text; dd.classList.toggle("warn", r.warn); }
const verdictText = (v) => (v === "true_match" ? "Confirmed match" : "False alert");
const human = (s) => (s || "").replaceAll("_", " ");

function renderAlert(a, isNew) {
  const had = alertData.get(a.id);
  if (had && had.as_of && a.as_of && Date.parse(a.as_of) < Date.parse(had.as_of)) return;  /* a push read before our own change */
  alertData.set(a.id, a);
  Q.lastSeen = Math.max(Q.lastSeen, a.id);
  let card = alertCards.get(a.id);
  if (!card) {
    card = $("#alert-card").content.firstElementChild.cloneNode(true);
    card.dataset.alertId = a.id;
    card.id = `alert-${a.id}`;
    card.setAttribute("aria-label", `alert ${a.id}`);
    if (a.has_crop) $(".probe", card).src = `/api/v1/alerts/${a.id}/crop.jpg`;
    else $(".probe", card).replaceWith(el("div", { class: "noimg", text: "no image" }));
    if (a.entry_id != null) $(".ref", card).src = `/api/v1/alerts/${a.id}/watchlist.jpg`;
    else $(".ref", card).replaceWith(el("div", { class: "noimg", text: "no entry" }));
    if (a.has_scene) {
      $(".scene", card).src = `/api/v1/alerts/${a.id}/scene`;
      $(".scene", card).alt = `the scene on camera ${a.camera_id} at ${fmtTime(a.raised_at)}: the alerted face boxed in red, every other face blurred`;
    } else $(".fig-scene", card).remove();
    card.classList.toggle("has-scene", !!a.has_scene);
    for (const b of $$(".verdict button", card)) b.addEventListener("click", () => queueVerdict(a.id, b.dataset.verdict));
    for (const b of $$("button.zoom", card)) b.addEventListener("click", () => toggleZoom(card, null, b.classList.contains("zoom-scene")));
    $(".undo-btn", card).addEventListener("click", () => undoVerdict(a.id));
    $(".add-outcome", card).addEventListener("click", () => addOutcome(a.id));
    $(".keep", card).addEventListener("submit", (ev) => { ev.preventDefault(); retainAlert(a.id); });
    $(".retain-days", card).addEventListener("change", () => {
      $(".retain-other", card).hidden = $(".retain-days", card).value !== "other";
      if ($(".retain-days", card).value === "other") $(".retain-custom", card).focus();
    });
    $(".correct", card).addEventListener("click", () => correctVerdict(a.id));
    card.addEventListener("click", () => select(card));
    if (a.entry_id != null) {
      api("GET", `/api/v1/alerts/${a.id}/case`).then((c) => {
        $(".case", card).textContent = `${c.case_ref} — ${c.reason}`;
      }).catch(() => { $(".case", card).textContent = `entry #${a.entry_id} (case facts unavailable)`; });
    }
    alertCards.set(a.id, card);
    if (isNew) {
      card.dataset.receivedAt = String(Date.now());
      card.classList.add("fresh");
      $("#queue").prepend(card);
      announce(a);
    } else $("#queue").append(card);
  }
  $(".sim", card).textContent = pct(a.similarity);
  $(".cam", card).textContent = a.camera_id;
  $(".time", card).textContent = fmtTime(a.raised_at);
  $(".quality", card).textContent = qualityText(a.quality);
  showCheck($(".integrity", card), integrityText(a.integrity_flags));
  showCheck($(".pad", card), padText(a.pad));
  $(".cat", card).textContent = human(a.category) || "—";
  $(".dep", card).textContent = `#${a.deployment_id}`;
  if (a.entry_id == null) $(".case", card).textContent = "—";
  else if (!$(".case", card).textContent) $(".case", card).textContent = `entry #${a.entry_id}`;
  const st = $(".state", card);
  const pend = loadPending()[a.id];
  card.classList.toggle("done", !!a.adjudication);
  $(".verdict", card).hidden = !!a.adjudication || !!pend;
  $(".later", card).hidden = !a.adjudication;
  $(".keep", card).hidden = !a.adjudication && !a.retained_until;
  for (const l of $$(".keep label", card)) {
    l.hidden = !!a.retained_until || (l.classList.contains("retain-other") && $(".retain-days", card).value !== "other");
  }
  $(".retain", card).textContent = a.retained_until ? `Retained until ${fmtTime(a.retained_until)}` : "Retain as evidence (R)";
  $(".retain", card).disabled = !!a.retained_until;
  if (a.adjudication) {
    st.textContent = `${verdictText(a.adjudication)}${a.outcome ? " · " + human(a.outcome) : ""} — by ${a.adjudicated_by || "?"} at ${fmtTime(a.adjudicated_at)}`;
    st.className = "state " + (a.adjudication === "true_match" ? "ok" : "muted");
  } else if (a.pending) {
    st.textContent = `Awaiting a second person: ${a.pending.proposed_by} proposed ${human(a.pending.verdict)} at ${fmtTime(a.pending.proposed_at)}`;
    st.className = "state warn";
  } else { st.textContent = "Open — not yet decided"; st.className = "state open"; }
  const hist = $(".history", card);
  const evText = (e) => e.kind === "outcome" ? `outcome added: ${human(e.value)}`
    : e.kind === "correction" ? `verdict corrected to ${verdictText(e.value).toLowerCase()}`
    : e.kind === "undone" ? (e.value === "proposal" ? "proposal withdrawn (undo)" : "verdict undone: open again")
    : e.kind === "corr_proposed" ? `correction to ${verdictText(e.value).toLowerCase()} proposed: awaiting a second person`
    : e.kind === "corr_disputed" ? `proposed correction to ${verdictText(e.value).toLowerCase()} disputed: verdict unchanged`
    : e.kind === "verdict" ? `decided again: ${verdictText(e.value.split("|")[0]).toLowerCase()}`
    : `retained as evidence until ${e.value}`;
  hist.replaceChildren(...(a.events || []).map((e) => el("li", { text: `${evText(e)} — by ${e.by} at ${fmtTime(e.at)}` })));
  card.dataset.state = a.adjudication || (a.pending ? "pending" : "open");
  renderPendingOn(a.id);
  applyFilter();
}

/* repeat sightings of one subject (same entry, same deployment, still open) share one card: the newest */
const groupKey = (a) => (a && a.entry_id != null && !a.adjudication ? `${a.deployment_id}:${a.entry_id}` : null);
function groupOf(id) {
  const key = groupKey(alertData.get(id));
  if (!key) return [id];
  return [...alertData.values()].filter((a) => groupKey(a) === key && !loadPending()[a.id]).map((a) => a.id).sort((x, y) => y - x);
}
function applyGroups() {
  const leads = new Map();
  for (const a of alertData.values()) {
    const key = groupKey(a);
    if (key && !loadPending()[a.id]) leads.set(key, Math.max(leads.get(key) || 0, a.id));
  }
  for (const [id, card] of alertCards) {
    const a = alertData.get(id);
    const key = groupKey(a);
    const lead = key ? leads.get(key) : id;
    const pend = loadPending()[id];
    card.classList.toggle("grouped", pend ? (pend.lead || id) !== id : key != null && lead !== id);
    const sd = $(".sightings", card);
    const members = key && lead === id ? groupOf(id) : [id];
    if (members.length > 1) sd.textContent = `${members.length} sightings: alerts ${members.map((m) => "#" + m).join(", ")} (one verdict covers them all)`;
    else sd.textContent = a.sightings > 1 ? `${a.sightings} sightings of this entry in this deployment (earlier ones decided)` : "first sighting";
    card.dataset.group = String(members.length);
  }
}

function applyFilter() {
  const showDone = $("#show-done") && $("#show-done").checked;
  let visible = 0;
  applyGroups();
  for (const c of alertCards.values()) {
    c.hidden = (c.classList.contains("done") && !showDone && c !== Q.selected) || c.classList.contains("grouped");
    if (!c.hidden) visible++;
  }
  $("#no-alerts").hidden = visible > 0;
  updateTitle();
}

function updateTitle() {
  Q.unread = $$(".alert-card.fresh").length;
  const base = "Alert queue · Overt";
  document.title = (Q.blocked ? "NOT RECEIVING · " : "") + (pref("title", true) && Q.unread ? `(${Q.unread}) ` : "") + base;
}

function announce(a) {
  if (pref("sound", false)) {
    try {
      const ctx = announce.ctx || (announce.ctx = new AudioContext());
      const o = ctx.createOscillator(); const g = ctx.createGain();
      o.frequency.value = 880; g.gain.value = 0.15; o.connect(g); g.connect(ctx.destination);
      o.start(); o.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no audio device */ }
  }
  if (pref("notify", false) && "Notification" in window && Notification.permission === "granted") {
    new Notification("Overt: new alert", { body: `${pct(a.similarity)} on ${a.camera_id}`, tag: `alert-${a.id}` });
  }
}

/* selection and keyboard */
function visibleCards() { return $$(".alert-card").filter((c) => !c.hidden); }
function select(card) {
  if (!card) return;
  if (Q.selected) Q.selected.classList.remove("selected");
  Q.selected = card;
  card.classList.add("selected");
  card.classList.remove("fresh");
  card.focus({ preventScroll: false });
  updateTitle();
}
function move(step) {
  const cards = visibleCards();
  if (!cards.length) return;
  const i = cards.indexOf(Q.selected);
  select(cards[i < 0 ? 0 : Math.max(0, Math.min(cards.length - 1, i + step))]);
}
/* zoom: the card's images side by side, large; ``scene``: the scene frame largest (S, or a click on it) */
function toggleZoom(card, force, scene) {
  const on = force == null ? !card.classList.contains("zoomed") : force;
  for (const c of $$(".alert-card.zoomed")) c.classList.remove("zoomed", "zoom-scene");
  card.classList.toggle("zoomed", on);
  card.classList.toggle("zoom-scene", on && !!scene && card.classList.contains("has-scene"));
  document.body.classList.toggle("zooming", on);
  select(card);
}
function onKey(ev) {
  if (Q.blocked || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || (t.tagName === "SELECT" && !/^[1-3]$/.test(ev.key)))) return;
  const k = ev.key.toLowerCase();
  const card = Q.selected;
  const id = card ? Number(card.dataset.alertId) : null;
  const handled = () => ev.preventDefault();
  if (k === "j" || ev.key === "ArrowDown") { move(1); handled(); }
  else if (k === "k" || ev.key === "ArrowUp") { move(-1); handled(); }
  else if (ev.key === "Escape") { for (const c of $$(".alert-card.zoomed")) toggleZoom(c, false); handled(); }
  else if (!card) { if ("cfzs123uro".includes(k)) { move(0); handled(); } }
  else if (k === "c" && !card.classList.contains("done")) { queueVerdict(id, "true_match"); handled(); }
  else if (k === "f" && !card.classList.contains("done")) { queueVerdict(id, "false_match"); handled(); }
  else if (k === "u") { undoVerdict(id); handled(); }
  else if (k === "z") { toggleZoom(card); handled(); }
  else if (k === "s") { toggleZoom(card, !card.classList.contains("zoom-scene"), true); handled(); }
  else if (k === "r" && card.classList.contains("done")) { retainAlert(id); handled(); }
  else if (k === "o" && card.classList.contains("done")) { addOutcome(id); handled(); }
  else if (/^[1-3]$/.test(k)) {
    const v = ["engaged", "arrested", "no_action"][Number(k) - 1];
    const sel = card.classList.contains("done") ? $(".later-outcome", card) : $(".outcome", card);
    sel.value = v; handled();
  }
}

/* verdicts: sent at once, kept in sessionStorage until the server has them; then the server's undo */
function queueVerdict(id, verdict) {
  if (Q.blocked) return;
  const card = alertCards.get(id);
  const outcome = verdict === "true_match" ? ($(".outcome", card).value || null) : ($(".outcome", card).value === "no_action" ? "no_action" : null);
  const members = groupOf(id);  /* the verdict covers every open sighting grouped on this card */
  const p = loadPending();
  for (const m of members) { p[m] = { verdict, outcome, lead: id }; Q.together.set(m, members); }
  savePending(p);
  for (const m of members) renderPendingOn(m);
  applyFilter();
  select(card);
  flushVerdicts();
}
const me = () => document.body.dataset.user;
function undoLeft(a) {
  /* seconds left for this user to undo the verdict (or proposal) on the server; 0: none */
  if (!a || !a.undo_until) return 0;
  const mine = a.adjudication ? a.adjudicated_by === me() : !!(a.pending && a.pending.proposed_by === me());
  return mine ? Math.max(0, Math.ceil((Date.parse(a.undo_until) - Date.now()) / 1000)) : 0;
}
async function undoVerdict(id) {
  const p = loadPending();
  if (p[id]) {  /* not yet accepted by the server: withdrawn here, nothing was recorded */
    if (p[id].sending) return;
    const lead = p[id].lead || id;
    for (const [k, v] of Object.entries(p)) if ((v.lead || Number(k)) === lead && !v.sending) delete p[k];
    savePending(p);
    for (const k of alertCards.keys()) renderPendingOn(k);
    applyFilter();
    updatePendingNote();
    flash("Withdrawn before it was sent: nothing was recorded.", "ok");
    return;
  }
  if (undoLeft(alertData.get(id)) <= 0) return;
  const members = (Q.together.get(id) || [id]).filter((m) => undoLeft(alertData.get(m)) > 0);
  for (const m of members) {
    try {
      renderAlert(await api("POST", `/api/v1/alerts/${m}/undo`), false);
    } catch (e) {
      flash(`Alert ${m} was not undone: ${e.message}`);
      if (e.status === 401) block("Your session has ended.");
      return;
    }
  }
  for (const m of members) Q.together.delete(m);
  flash("Undone: the alert is open again (the undo is in the audit log).", "ok");
}
function renderPendingOn(id) {
  const card = alertCards.get(id);
  if (!card) return;
  const pend = loadPending()[id];
  const box = $(".undo", card);
  const a = alertData.get(id);
  const left = pend ? 0 : undoLeft(a);
  box.hidden = !pend && left <= 0;
  $(".verdict", card).hidden = !!pend || !!(a && a.adjudication);
  if (pend) {
    $(".undo-text", box).textContent = `${verdictText(pend.verdict)}${pend.outcome ? " · " + human(pend.outcome) : ""}: `
      + (pend.sending ? "sending…" : `waiting to be sent${Q.blocked ? " (after you log in again)" : "…"}`);
    $(".undo-btn", box).textContent = "Withdraw (U)";
    $(".undo-btn", box).hidden = !!pend.sending;
    card.dataset.pending = pend.verdict;
    return;
  }
  delete card.dataset.pending;
  if (left <= 0) return;
  $(".undo-text", box).textContent = a.adjudication ? `${verdictText(a.adjudication)} recorded.` : "Proposal recorded.";
  $(".undo-btn", box).textContent = `Undo (${left} s) (U)`;
  $(".undo-btn", box).hidden = false;
}
async function flushVerdicts() {
  if (Q.blocked) return;
  const p = loadPending();
  for (const [sid, v] of Object.entries(p)) {
    const id = Number(sid);
    if (v.sending) continue;
    v.sending = true; savePending(p);
    renderPendingOn(id);
    try {
      const r = await api("POST", `/api/v1/alerts/${id}/adjudication`, { verdict: v.verdict, outcome: v.outcome });
      const now = loadPending(); delete now[id]; savePending(now);
      renderAlert(r.alert, false);
      flash(r.counted ? "Verdict recorded." : "Recorded: a second person must confirm it.", "ok");
    } catch (e) {
      const now = loadPending();
      if (e.status === 401 || e.status === 403 || e.status == null) {
        if (now[id]) { now[id].sending = false; savePending(now); }
        block(e.status == null ? "The server cannot be reached." : "Your session has ended.");
      } else { delete now[id]; savePending(now); flash(`Verdict on alert ${id} not recorded: ${e.message}`); }
      renderPendingOn(id);
    }
  }
  updatePendingNote();
}
function updatePendingNote() {
  const n = Object.keys(loadPending()).length;
  const note = $("#deaf-pending");
  note.hidden = n === 0;
  note.textContent = `${n} verdict(s) you made are kept here and will be sent once you have logged in again.`;
}

/* later steps: new audited events, never edits */
async function addOutcome(id) {
  const card = alertCards.get(id);
  try {
    const r = await api("POST", `/api/v1/alerts/${id}/followups`, { kind: "outcome", outcome: $(".later-outcome", card).value });
    renderAlert(r, false);
    flash("Outcome recorded.", "ok");
  } catch (e) { flash(e.message); }
}
async function correctVerdict(id) {
  const a = alertData.get(id);
  const to = a.adjudication === "true_match" ? "false_match" : "true_match";  /* the verdict as it stands */
  const reason = window.prompt(`Correct the verdict to "${verdictText(to)}"? Give the reason (the original verdict stays on record):`);
  if (!reason) return;
  try {
    const r = await api("POST", `/api/v1/alerts/${id}/followups`, { kind: "correction", verdict: to, reason });
    renderAlert(r, false);
    const last = (r.events || []).at(-1);
    flash(last && last.kind === "corr_proposed" ? "Correction proposed: a second person must confirm it." : "Correction recorded.", "ok");
  } catch (e) { flash(e.message); }
}
const isRetained = (id) => !!(alertData.get(id) || {}).retained_until;
async function retainAlert(id) {
  /* the period the operator chose (the service bounds it) and a required reason */
  const card = alertCards.get(id);
  if ($(".keep", card).hidden || isRetained(id)) return;
  const choice = $(".retain-days", card).value;
  const days = Number(choice === "other" ? $(".retain-custom", card).value : choice);
  const reason = $(".retain-reason", card).value.trim();
  if (choice === "other" && !(days >= 1)) { $(".retain-custom", card).focus(); flash("Give the number of days to keep it."); return; }
  if (!reason) { $(".retain-reason", card).focus(); flash("Give the reason it is kept as evidence (it goes into the audit log)."); return; }
  try {
    const r = await api("POST", `/api/v1/alerts/${id}/followups`, { kind: "retain", reason, days });
    renderAlert(r, false);
    flash(`Retained as evidence for ${days} days.`, "ok");
  } catch (e) { flash(e.message); }
}

/* the feed: receiving or blocked, nothing in between */
function setFeed(text, cls) { const p = $("#feed-state"); p.textContent = text; p.className = "pill " + cls; }
function block(reason) {
  if (Q.ws) { const ws = Q.ws; Q.ws = null; ws.onclose = null; try { ws.close(); } catch (e) { /* gone */ } }
  setFeed("NOT receiving alerts", "bad");
  if (!Q.blocked) {
    Q.blocked = true;
    $("#deaf").hidden = false;
    $("#queue-area").inert = true;
    $("#relogin-user").value = document.body.dataset.user || "";
    $("#relogin-password").focus();
  }
  $("#deaf-reason").textContent = `${reason} New alerts are not reaching this screen. Log in again to return to the queue; alerts raised meanwhile will be fetched.`;
  updatePendingNote();
  updateTitle();
  for (const id of Object.keys(loadPending())) renderPendingOn(Number(id));
  clearTimeout(Q.retry);
  Q.retry = setTimeout(probe, 2000);
}
async function probe() {
  /* while blocked: if the session is in fact still valid (a network blip), resume on our own */
  if (!Q.blocked) return;
  try {
    const r = await fetch("/api/v1/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.ok) { const me = await r.json(); if (me.csrf_token) setCsrf(me.csrf_token); unblock(); return; }
    $("#deaf-reason").textContent = "Your session has ended. New alerts are not reaching this screen. Log in again to return to the queue; alerts raised meanwhile will be fetched.";
  } catch (e) {
    $("#deaf-reason").textContent = "The server cannot be reached (it may be restarting). New alerts are not reaching this screen. Log in again once it is back.";
  }
  Q.retry = setTimeout(probe, 3000);
}
function setCsrf(token) { const m = document.querySelector('meta[name="csrf-token"]'); if (m) m.content = token; }
function unblock() {
  Q.blocked = false;
  clearTimeout(Q.retry);
  $("#deaf").hidden = true;
  $("#queue-area").inert = false;
  connectAlerts();
}
async function relogin(ev) {
  ev.preventDefault();
  const err = $("#relogin-error");
  err.hidden = true;
  try {
    const c = await fetch("/api/v1/auth/csrf", { credentials: "same-origin" }).then((r) => r.json());
    const r = await fetch("/api/v1/auth/login", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": c.csrf_token },
      body: JSON.stringify({ username: $("#relogin-user").value, password: $("#relogin-password").value }),
    });
    const body = await r.json().catch(() => null);
    if (!r.ok) { err.textContent = detailText(body); err.hidden = false; return; }
    if (body.name !== document.body.dataset.user) {  /* someone else: verdicts made here are not theirs */
      sessionStorage.removeItem(PENDING_KEY);
      window.location.assign("/");
      return;
    }
    setCsrf(body.csrf_token);
    $("#relogin-password").value = "";
    unblock();
  } catch (e) { err.textContent = "The server cannot be reached: try again in a moment."; err.hidden = false; }
}

async function catchUp(first) {
  /* alerts raised while this screen was not receiving: by the last seen id; then refresh the rest */
  if (!first && Q.lastSeen > 0) {
    const missed = await api("GET", `/api/v1/alerts?after_id=${Q.lastSeen}&limit=1000`);
    for (const a of missed.reverse()) if (!alertCards.has(a.id)) renderAlert(a, true);
  }
  const list = await api("GET", "/api/v1/alerts?limit=100");
  for (const a of list.reverse()) renderAlert(a, !first && !alertCards.has(a.id));
  applyFilter();
  flushVerdicts();
}

function connectAlerts() {
  setFeed("connecting to the alert feed…", "warn");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws/alerts`);
  Q.ws = ws;
  const first = Q.lastSeen === 0 && alertCards.size === 0;
  ws.onopen = () => {
    Q.lastBeat = Date.now();
    catchUp(first).catch((e) => { if (e.status === 401 || e.status == null) block("Your session has ended."); else flash(e.message); });
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    Q.lastBeat = Date.now();
    if (msg.type === "heartbeat") {
      Q.beatEvery = msg.every_s || 2;
      Q.pipeline = msg.pipeline; Q.pipelineAt = Date.now();
      setFeed("receiving alerts", "on");
      renderPipeline();
    } else if (msg.type === "alert") renderAlert(msg.alert, !alertCards.has(msg.alert.id));
    else if (msg.type === "update" && alertCards.has(msg.alert.id)) renderAlert(msg.alert, false);
  };
  ws.onclose = (ev) => {
    if (Q.ws !== ws) return;
    Q.ws = null;
    block(ev.code === 4401 ? "Your session has ended." : ev.code === 1008 ? "The server refused the alert feed (your session has probably ended)." : ev.code === 1013 ? "This screen fell behind the alert feed; it reconnects and fetches the alerts it missed." : "The connection to the server was lost (it may have restarted).");
  };
}

function renderPipeline() {
  const pill = $("#pipe-state");
  const h = Q.pipeline;
  if (!h) return;
  const extra = (Date.now() - Q.pipelineAt) / 1000;
  const age = (s) => (s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);
  if (!h.cameras.length) { pill.textContent = "No camera is sending frames: no pipeline is processing video"; pill.className = "pill bad"; return; }
  const parts = h.cameras.map((c) => {
    const a = c.age_s + extra;
    const s = a < h.live_within_s ? "live" : a < h.down_after_s ? "STALE" : "DOWN";
    return { s, text: `${c.camera_id} (#${c.deployment_id}${c.source === "edge" ? ", edge" : ""}) ${s}, last frame ${age(a)} ago` };
  });
  const best = parts.some((p) => p.s === "live") ? "on" : parts.some((p) => p.s === "STALE") ? "warn" : "bad";
  pill.textContent = "Cameras: " + parts.map((p) => p.text).join(" · ");
  pill.className = "pill " + best;
}

function watchdog() {
  /* heartbeats stopped (a half-dead connection): not receiving */
  if (!Q.blocked && Q.ws && Q.ws.readyState === WebSocket.OPEN && Date.now() - Q.lastBeat > HEARTBEAT_TIMEOUT_S * 1000) {
    block("No word from the server for several seconds.");
  }
  if (!Q.blocked) renderPipeline();
  for (const id of alertCards.keys()) renderPendingOn(id);  /* pending verdicts and undo countdowns */
}

async function initAlerts() {
  $("#show-done").addEventListener("change", applyFilter);
  for (const box of $$("input[data-pref]")) {
    box.checked = pref(box.dataset.pref, box.checked);
    box.addEventListener("change", () => {
      localStorage.setItem("overt.pref." + box.dataset.pref, box.checked ? "1" : "0");
      if (box.dataset.pref === "notify" && box.checked && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
      updateTitle();
    });
  }
  $("#relogin-form").addEventListener("submit", relogin);
  document.addEventListener("keydown", onKey);
  const p = loadPending();
  for (const v of Object.values(p)) v.sending = false;  /* a page that died mid-send: send again */
  savePending(p);
  onUnauthorized = () => block("Your session has ended.");
  setInterval(watchdog, 1000);
  connectAlerts();
}

/* -- deployments ------------------------------------------------------------------------------------ */
async function initDeployments() {
  const rows = await api("GET", "/api/v1/deployments");
  const health = await api("GET", "/api/v1/pipeline/health").catch(() => ({ cameras: [] }));
  const tb = $("#deployments tbody");
  $("#no-deployments").hidden = rows.length > 0;
  for (const d of rows.reverse()) {
    const [label, cls] = stateLabel(d, health);
    const state = d.expired && d.state !== "closed" ? `${label} (expired)` : label;
    tb.append(el("tr", {},
      el("td", {}, el("a", { href: `/deployments/${d.id}`, text: `#${d.id}` })),
      el("td", { text: d.place }), el("td", {}, el("span", { class: `pill ${cls}`, text: state })),
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

const hasPerm = (p) => (document.body.dataset.perms || "").split(" ").includes(p);

/* the officer's review: every entry the snapshot would hold, with its image and provenance */
async function loadReview(id) {
  const r = await api("GET", `/api/v1/deployments/${id}/review`);
  $("#review-summary").textContent = `${r.entries.length} entr${r.entries.length === 1 ? "y" : "ies"} would be sealed into this deployment's watch list` +
    `${r.overdue_excluded ? ` (${r.overdue_excluded} left out: review overdue)` : ""}. At the threshold ${r.min_similarity.toFixed(2)}, ` +
    `expect ${rate(r.expected_false_alerts_per_1000)} false alerts per 1,000 faces (${r.estimate_basis}).`;
  $("#review-empty").hidden = r.entries.length > 0;
  $("#review-entries tbody").replaceChildren(...r.entries.map((e) => el("tr", {},
    el("td", {}, el("img", { class: "review-img", src: `/api/v1/deployments/${id}/review/entries/${e.id}/image.jpg`, alt: `watch-list image of ${e.case_ref}` })),
    el("td", { text: e.case_ref }), el("td", { text: e.reason }),
    el("td", { text: human(e.category) + (e.under_18 ? " · under 18" : "") }),
    el("td", { text: `${e.image_source}; taken ${e.taken_on}; legal basis: ${e.legal_basis}` }),
    el("td", { text: e.review_on }), el("td", { text: `${e.added_by}, ${fmtTime(e.added_at)}` }))));
}

/* "active" only while its cameras' frames are being processed now (the pipeline heartbeat) */
function stateLabel(d, health) {
  if (d.state !== "active") return [d.state, d.state];
  const cams = (health.cameras || []).filter((c) => c.deployment_id === d.id);
  const live = cams.filter((c) => c.state === "live");
  if (live.length) return [`active · processing frames (last ${Math.min(...live.map((c) => c.age_s)).toFixed(1)} s ago)`, "active"];
  if (!cams.length) return ["started · NOT processing: no camera has sent a frame", "bad"];
  const age = Math.min(...cams.map((c) => c.age_s));
  return [`started · NOT processing: last frame ${age < 60 ? age.toFixed(0) + " s" : Math.round(age / 60) + " min"} ago`, age < health.down_after_s ? "warn" : "bad"];
}

async function loadDeployment(id) {
  const d = await api("GET", `/api/v1/deployments/${id}`);
  const health = d.state === "active" ? await api("GET", `/api/v1/pipeline/health?deployment_id=${id}`).catch(() => ({ cameras: [] })) : { cameras: [] };
  const pill = $("#dep-state");
  const [label, cls] = stateLabel(d, health);
  pill.textContent = label; pill.className = `pill ${cls}`;
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
    ["State", s ? (s.destroyed_at ? `destroyed ${fmtTime(s.destroyed_at)}` : "sealed, in use") : "—"],
  ]);
  const run = hasPerm("run_deployment");
  const can = {
    "publish-notice": run && d.state === "authorised" && !d.notice_published_at,
    "late-start": hasPerm("authorise_deployment") && d.state === "authorised" && !!d.notice_published_at && !d.late_start_by,
    start: run && d.state === "authorised" && !d.expired,
    stop: run && d.state === "active",
    close: run && d.state !== "closed",
  };
  if ($("#review")) {
    const show = d.state === "draft";
    if (show && $("#review").hidden) loadReview(d.id).catch((e) => flash(e.message));
    $("#review").hidden = !show;
  }
  for (const b of $$("#dep-actions button")) b.hidden = !can[b.dataset.act];
  $("#sign").hidden = !d.notice_published_at;
  return d;
}

async function pollLive(id) {
  try {
    const l = await api("GET", `/api/v1/deployments/${id}/live`);
    const cam = $("#camera-state");
    const fresh = l.processing;  /* frames processed now (the heartbeat, whichever process or edge node runs it) */
    cam.textContent = l.expired && l.state !== "active" ? "deployment expired" : (fresh ? (l.camera_message || "camera connected") : l.camera_connected ? "no frame is being processed now" : l.camera_message || "camera disconnected");
    cam.className = "pill " + (fresh ? "on" : l.camera_connected ? "warn" : "off");
    const img = $("#live");
    const age = $("#live-age");
    if (l.has_frame) {
      const stale = l.frame_age_s == null || l.frame_age_s > 5;
      if (!stale || !img.src) img.src = `/api/v1/deployments/${id}/live.jpg?t=${Date.now()}`;
      img.hidden = false;
      img.classList.toggle("stale", stale);
      const a = l.frame_age_s == null ? "unknown time" : l.frame_age_s < 60 ? `${l.frame_age_s.toFixed(1)} s` : `${Math.round(l.frame_age_s / 60)} min`;
      age.textContent = stale ? `OLD FRAME: this picture is ${a} old; the camera is not being processed now` : `Frame from ${a} ago`;
      age.className = "live-age" + (stale ? " stale" : "");
      age.hidden = false;
    } else { age.hidden = true; }
  } catch (e) { if (e.status !== 403) $("#camera-state").textContent = "camera state unavailable"; }
}

async function initDeployment() {
  const id = document.body.dataset.deployment;
  const form = $("#authorise-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", `/api/v1/deployments/${id}/authorise`, { note: $("#authorise-note").value });
      flash(`Authorised with ${r.watchlist_size} entries; expect ${rate(r.expected_false_alerts_per_1000)} false alerts per 1,000 faces (${r.estimate_basis}).`, "ok");
    } catch (e) { flash(e.message); }
    await loadDeployment(id);
  });
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
        await api("POST", `/api/v1/deployments/${id}/${b.dataset.act}`, body);
        flash(`Done: ${b.dataset.act}.`, "ok");
      } catch (e) { flash(e.message); }
      await loadDeployment(id);
    });
  }
  try { await loadDeployment(id); } catch (e) { flash(e.message); return; }
  if (hasPerm("run_deployment") || hasPerm("adjudicate")) { pollLive(id); setInterval(() => { pollLive(id); loadDeployment(id).catch(() => {}); }, 1500); }
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
      let r;
      try { r = await api("POST", "/api/v1/watchlist/entries", f); } catch (e) {
        const dup = e.status === 409 && /entry #(\d+)/.exec(e.message);
        if (!dup) throw e;
        /* the same face as an existing entry: saved only on an explicit confirmation naming it */
        if (!window.confirm(`${e.message}\n\nAre they different people? OK enrols it anyway (recorded in the audit log).`)) {
          out.replaceChildren(el("p", { class: "warn", id: "enrol-error", text: `Not enrolled: ${e.message}` }));
          return;
        }
        f.set("confirm_duplicate_of", dup[1]);
        r = await api("POST", "/api/v1/watchlist/entries", f);
      }
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
    ["Planned", `${fmtTime(r.planned_start)} → ${fmtTime(r.planned_end)} (${r.planned_hours} h)`], ["Active", r.active_text],
    ["Watch-list size", r.watchlist_size], ["Threshold", r.min_similarity],
    ["Expected false alerts per 1,000 faces", r.expected_false_alerts_text],
    ["Observed false alerts per 1,000 faces", r.observed_false_alerts_text],
    ["Faces processed", r.faces_processed], ["Authorised by", r.authorised_by],
  ]);
  bars($("#chart-alerts"), [["Alerts", r.alerts], ["True", r.true_alerts, "ok"], ["False", r.false_alerts, "bad"], ["Unadjudicated", r.unadjudicated_alerts, "muted"], ["Engagements", r.engagements]]);
  const outcomes = Object.entries(r.outcomes || {});
  if (outcomes.length) bars($("#chart-outcomes"), outcomes.map(([k, v]) => [k.replaceAll("_", " "), v]));
  else $("#chart-outcomes").replaceChildren(el("p", { class: "empty", text: "No outcomes recorded." }));
}

/* -- alert log (no images) ------------------------------------------------------------------------ */
async function initAlertLog() {
  const rows = await api("GET", "/api/v1/alerts?limit=1000");
  $("#no-alert-log").hidden = rows.length > 0;
  $("#alert-log tbody").replaceChildren(...rows.map((a) => el("tr", {},
    el("td", { text: String(a.id) }), el("td", { text: fmtTime(a.raised_at) }), el("td", { text: `#${a.deployment_id}` }),
    el("td", { text: a.camera_id }), el("td", { text: pct(a.similarity) }), el("td", { text: human(a.category) || "—" }),
    el("td", { text: a.adjudication ? verdictText(a.adjudication) : (a.pending ? "awaiting a second person" : "open") }),
    el("td", { text: a.adjudicated_by ? `${a.adjudicated_by}, ${fmtTime(a.adjudicated_at)}` : "—" }),
    el("td", { text: human(a.outcome) || "—" }),
    el("td", { class: "small", text: (a.events || []).map((e) => `${e.kind} ${human(e.value)} (${e.by})`).join("; ") || "—" }))));
}

/* -- audit ----------------------------------------------------------------------------------------------- */
const AUDIT_PAGE = 200;
async function loadAuditPage(reset) {
  const f = new FormData($("#audit-filter"));
  const q = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  for (const k of ["action", "actor"]) if (f.get(k)) q.set(k, f.get(k));
  for (const k of ["since", "until"]) if (f.get(k)) q.set(k, new Date(f.get(k)).toISOString());
  if (!reset && loadAuditPage.next) q.set("before_seq", String(loadAuditPage.next));
  const r = await api("GET", `/api/v1/audit/page?${q}`);
  const tb = $("#audit tbody");
  if (reset) tb.replaceChildren();
  for (const e of r.entries) {
    const details = Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(" ");
    tb.append(el("tr", {}, el("td", { text: String(e.seq) }), el("td", { text: fmtTime(e.at) }), el("td", { text: e.actor }),
      el("td", { text: e.action }), el("td", { text: e.target }), el("td", { class: "small", text: details }), el("td", { class: "hash", text: e.hash.slice(0, 12) })));
  }
  loadAuditPage.next = r.next_before_seq;
  $("#audit-more").hidden = r.next_before_seq == null;
  $("#audit-count").textContent = `${r.matching.toLocaleString("en-GB")} matching entries; showing the newest ${tb.children.length.toLocaleString("en-GB")}.`;
}

async function initAudit() {
  $("#audit-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadAuditPage(true).catch((e) => flash(e.message)); });
  $("#audit-more").addEventListener("click", () => loadAuditPage(false).catch((e) => flash(e.message)));
  await loadAuditPage(true);
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

function revokeCell(t, state, reload) {
  const td = el("td");
  if (state === "active") {
    const b = el("button", { class: "link danger", text: "revoke" });
    b.addEventListener("click", async () => { try { await api("DELETE", `/api/v1/tokens/${t.id}`); await reload(); } catch (e) { flash(e.message); } });
    td.append(b);
  }
  return td;
}

/* -- admin ----------------------------------------------------------------------------------------------- */
async function loadAdmin() {
  const users = await api("GET", "/api/v1/users");
  $("#users tbody").replaceChildren(...users.map((u) => el("tr", {}, el("td", { text: String(u.id) }), el("td", { text: u.name }), el("td", { text: u.role.replaceAll("_", " ") }), el("td", { text: fmtTime(u.created_at) }),
    el("td", { text: u.disabled ? "disabled" : (u.must_change_password ? "must change password" : "active") }), userActions(u))));
  const tokens = await api("GET", "/api/v1/tokens");
  const now = Date.now();
  $("#tokens tbody").replaceChildren(...tokens.map((t) => {
    const state = t.revoked_at ? "revoked" : (Date.parse(t.expires_at) <= now ? "expired" : "active");
    const td = revokeCell(t, state, loadAdmin);
    return el("tr", {}, el("td", { text: String(t.id) }), el("td", { text: t.name }), el("td", { text: t.kind }),
      el("td", { text: t.kind === "device" ? `deployment #${t.deployment_id}${t.cameras ? " · " + t.cameras.join(", ") : ""}` : t.user_name }), el("td", { text: fmtTime(t.expires_at) }), el("td", { text: state }), td);
  }));
}

function userActions(u) {
  const td = el("td");
  const act = (label, fn) => {
    const b = el("button", { class: "link", text: label });
    b.addEventListener("click", async () => { try { await fn(); await loadAdmin(); } catch (e) { flash(e.message); } });
    td.append(b, " ");
  };
  act(u.disabled ? "enable" : "disable", () => api("POST", `/api/v1/users/${u.id}/${u.disabled ? "enable" : "disable"}`));
  act("reset password", () => {
    const pw = window.prompt(`Temporary password for ${u.name} (they must change it at next login)`);
    return pw ? api("POST", `/api/v1/users/${u.id}/password-reset`, { temporary_password: pw }) : null;
  });
  act("change role", () => {
    const role = window.prompt(`New role for ${u.name}: admin, authorising_officer, watchlist_manager, operator or auditor`, u.role);
    return role ? api("POST", `/api/v1/users/${u.id}/role`, { role: role.trim() }) : null;
  });
  return td;
}

/* the public site's contact details: the same service as `overt public ...`; only changed fields are sent */
async function initPublicSettings() {
  const form = $("#public-form");
  let current = await api("GET", "/api/v1/public-settings");
  const fill = () => { for (const [k, v] of Object.entries(current)) if (form.elements[k]) form.elements[k].value = v || ""; };
  fill();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const changed = {};
    for (const k of Object.keys(current)) {
      const v = form.elements[k] ? form.elements[k].value.trim() : null;
      if (v != null && v !== (current[k] || "")) changed[k] = v;
    }
    const state = $("#public-state");
    if (!Object.keys(changed).length) { state.textContent = "Nothing changed."; return; }
    try {
      current = await api("PUT", "/api/v1/public-settings", changed);
      fill();
      state.textContent = `Saved: ${Object.keys(changed).map(human).join(", ")}.`;
      state.className = "ok";
    } catch (e) { state.textContent = `Not saved: ${e.message}`; state.className = "error"; }
  });
}

async function initAdmin() {
  await loadAdmin();
  initPublicSettings().catch((e) => { $("#public-state").textContent = `Public details unavailable: ${e.message}`; });
  $("#user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try { await api("POST", "/api/v1/users", { name: f.get("name"), role: f.get("role"), password: f.get("password"), must_change_password: f.get("must_change_password") === "on" }); ev.target.reset(); await loadAdmin(); } catch (e) { flash(e.message); }
  });
  $("#token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const body = { name: f.get("name"), kind: f.get("kind"), days: Number(f.get("days")) || null };
    if (body.kind === "device") {
      body.deployment_id = Number(f.get("deployment_id"));
      const cams = String(f.get("cameras") || "").split(",").map((c) => c.trim()).filter(Boolean);
      if (cams.length) body.cameras = cams;
    }
    try {
      const t = await api("POST", "/api/v1/tokens", body);
      const p = $("#token-secret");
      p.textContent = `Token (shown once, copy it now): ${t.token}`; p.hidden = false;
      await loadAdmin();
    } catch (e) { flash(e.message); }
  });
}

/* -- account ------------------------------------------------------------------------------------------------ */
async function loadMyTokens() {
  const tokens = (await api("GET", "/api/v1/tokens")).filter((t) => t.kind === "user" && t.user_name === ($("#me") || {}).textContent.split(" · ")[0]);
  const now = Date.now();
  $("#my-tokens tbody").replaceChildren(...tokens.map((t) => {
    const state = t.revoked_at ? "revoked" : (Date.parse(t.expires_at) <= now ? "expired" : "active");
    const td = revokeCell(t, state, loadMyTokens);
    return el("tr", {}, el("td", { text: String(t.id) }), el("td", { text: t.name }), el("td", { text: fmtTime(t.expires_at) }), el("td", { text: state }), td);
  }));
}

async function initAccount() {
  $("#password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      const me = await api("POST", "/api/v1/me/password", { old_password: f.get("old_password"), new_password: f.get("new_password") });
      const meta = document.querySelector('meta[name="csrf-token"]');
      if (meta && me.csrf_token) meta.content = me.csrf_token;
      ev.target.reset();
      window.location.assign("/");
    } catch (e) { flash(e.message); }
  });
  $("#my-token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      const t = await api("POST", "/api/v1/tokens", { name: f.get("name"), kind: "user", days: Number(f.get("days")) || null });
      const p = $("#my-token-secret");
      p.textContent = `Token (shown once, copy it now): ${t.token}`; p.hidden = false;
      await loadMyTokens();
    } catch (e) { flash(e.message); }
  });
  if ($("#must-change")) return;  // nothing else is allowed until the password is changed
  await loadMyTokens();
}

/* -- boot -------------------------------------------------------------------------------------------------- */
document.addEventListener("DOMContentLoaded", () => {
  const lo = $("#logout");
  if (lo) lo.addEventListener("click", async () => { try { await api("POST", "/api/v1/auth/logout"); } catch (e) { /* already out */ } window.location.assign("/login"); });
  const pages = { login: initLogin, alerts: initAlerts, deployments: initDeployments, deployment: initDeployment, watchlist: initWatchlist, reports: initReports, report: initReport, audit: initAudit, admin: initAdmin, "alert-log": initAlertLog, account: initAccount };
  const init = pages[document.body.dataset.page];
  if (init) Promise.resolve(init()).catch((e) => flash(e.message));
});
