// The kiosk screen. It shows what kioskd says over the websocket
// (ui/PROTOCOL.md, version 1) and sends only intents; it keeps no state of
// its own beyond what is on screen. Only the active screen is in the DOM:
// staff-only data is rendered only inside the staff panel, and is dropped
// from the DOM whenever a public screen is shown.

import { translate, defaultLanguage, intl, count, noun } from "./i18n.js";
import { play, unlock } from "./sound.js";

const PROTOCOL = 1;
const HOLD_MS = 6000; // a final confirmation stays this long
const HOLD_ERROR_MS = 10000;
const STAFF_WAIT_MAX_MS = 90000; // "a member of staff is coming" at most this long
const IDLE_LANG_RESET_MS = 60000; // English falls back to Dutch after this long idle
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 30000;
const ACTIVITY_EVERY_MS = 3000;
const DEFAULT_TZ = "Europe/Amsterdam";

const state = {
  conn: "down",
  everConnected: false,
  location: "",
  demo: false,
  status: null,
  tz: DEFAULT_TZ,
  skew: 0, // server clock minus page clock, ms
  decision: null,
  decisionUntil: 0,
  selection: null, // choose_children: Set of kept child ids
  staff: null,
  staffKey: "",
  staffDeadline: 0,
  lockAfter: 0,
  lang: defaultLanguage,
  idleSince: Date.now(),
  ui: freshUI(),
  cards: null,
  drawer: false,
  drawerError: "",
};

function freshUI() {
  return { tab: "overview", request: null, sheet: null, idType: "", reason: "", refuse: false, releaseTo: "", personName: "", pin: "", toast: "", toastUntil: 0, keep: null, autoRequest: false, lastActivity: 0, dismissConfirm: false };
}

const t = (key, vars) => translate(state.lang, key, vars);
const now = () => Date.now() + state.skew;

// ---------- formatting ----------

function fmtTime(d) {
  try {
    return new Intl.DateTimeFormat("nl-NL", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: state.tz }).format(d);
  } catch {
    return new Intl.DateTimeFormat("nl-NL", { hour: "2-digit", minute: "2-digit", hour12: false }).format(d);
  }
}

function fmtDate(d) {
  const opts = { weekday: "long", day: "numeric", month: "long" };
  try {
    return new Intl.DateTimeFormat(intl[state.lang] || "nl-NL", { ...opts, timeZone: state.tz }).format(d);
  } catch {
    return new Intl.DateTimeFormat(intl[state.lang] || "nl-NL", opts).format(d);
  }
}

// clock returns HH:MM from an RFC 3339 time or an "HH:MM" / "YYYY-MM-DD HH:MM" string.
function clock(v) {
  if (!v) return "";
  if (/^\d{2}:\d{2}$/.test(v)) return v;
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(v)) return v.slice(11);
  const d = new Date(v);
  return isNaN(d) ? String(v) : fmtTime(d);
}

// hourAt is the hour (0-23) at the location of an RFC 3339 time: in the
// snapshot's zone (tz), not the browser's; without a usable zone, the wall
// time the server wrote (it writes the location's local time).
function hourAt(v) {
  const d = v ? new Date(v) : new Date(now());
  const when = isNaN(d) ? new Date(now()) : d;
  try {
    return Number(new Intl.DateTimeFormat("en-GB", { hour: "numeric", hourCycle: "h23", timeZone: state.tz }).format(when));
  } catch {
    const m = /T(\d{2}):/.exec(v || "");
    return m ? Number(m[1]) : when.getHours();
  }
}

// greeting greets by the time of day at the location: morning before
// 12:00, afternoon before 18:00, evening after.
function greeting(d, name) {
  const hr = hourAt(d.at);
  return t(hr < 12 ? "greeting.morning" : hr < 18 ? "greeting.afternoon" : "greeting.evening", { name });
}

function names(list) {
  if (list.length <= 1) return list.join("");
  return list.slice(0, -1).join(", ") + " " + t("and") + " " + list[list.length - 1];
}

// ---------- DOM helpers ----------

const SVG = "http://www.w3.org/2000/svg";

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "data") for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
    else if (k === "vars") for (const [vk, vv] of Object.entries(v)) el.style.setProperty(vk, vv);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

function icon(kind) {
  const paths = {
    ok: "M20 52 L40 72 L80 28",
    no: "M30 30 L70 70 M70 30 L30 70",
    wait: "M50 20 L50 52 L70 64",
    card: "M18 30 h64 v44 h-64 z M18 42 h64",
  };
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("class", "icon icon-" + kind);
  svg.setAttribute("aria-hidden", "true");
  if (kind === "wait") {
    const c = document.createElementNS(SVG, "circle");
    c.setAttribute("cx", "50"); c.setAttribute("cy", "50"); c.setAttribute("r", "38");
    svg.append(c);
  }
  const p = document.createElementNS(SVG, "path");
  p.setAttribute("d", paths[kind]);
  svg.append(p);
  return svg;
}

function button(label, onclick, cls, extra) {
  return h("button", { type: "button", class: "btn " + (cls || ""), onclick, ...(extra || {}) }, label);
}

// ---------- websocket ----------

let ws = null;
let backoff = BACKOFF_MIN;
let retryTimer = 0;
// seq of the last update applied (null until the first snapshot); a gap
// means updates were lost: ask for a snapshot, once until it comes.
let lastSeq = null;
let resyncAsked = false;

// checkSeq watches the server's update sequence (PROTOCOL.md, "Updates
// and resync"): a snapshot sets it; an update must be the next one.
function checkSeq(msg) {
  if (typeof msg.seq !== "number") return;
  if (msg.type === "snapshot") {
    lastSeq = msg.seq;
    resyncAsked = false;
    return;
  }
  if (msg.type === "error") return; // not a step of the sequence
  if (lastSeq !== null && msg.seq !== lastSeq + 1 && !resyncAsked) {
    console.warn("kiosk: missed updates", lastSeq, msg.seq);
    resyncAsked = send({ type: "resync" });
  }
  lastSeq = msg.seq;
}

function connect() {
  clearTimeout(retryTimer);
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let sock;
  try {
    sock = new WebSocket(`${proto}//${location.host}/ws`);
  } catch (e) {
    scheduleReconnect();
    return;
  }
  ws = sock;
  sock.onmessage = (e) => {
    if (ws !== sock) return;
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      console.warn("kiosk: bad message");
      return;
    }
    checkSeq(msg);
    handle(msg);
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    lastSeq = null;
    resyncAsked = false;
    lost();
    scheduleReconnect();
  };
  sock.onerror = () => sock.close();
}

function scheduleReconnect() {
  clearTimeout(retryTimer);
  const delay = Math.round(backoff * (0.75 + Math.random() * 0.5));
  backoff = Math.min(backoff * 2, BACKOFF_MAX);
  retryTimer = setTimeout(connect, delay);
}

// lost throws the server's state away: without a connection the screen
// cannot act, and staff data must not linger.
function lost() {
  state.conn = "down";
  state.decision = null;
  state.staff = null;
  state.ui = freshUI();
  render();
}

function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify({ v: PROTOCOL, ...msg }));
  return true;
}

function handle(msg) {
  if (msg.v !== PROTOCOL) {
    console.warn("kiosk: unsupported protocol version", msg.v);
    return;
  }
  switch (msg.type) {
    case "snapshot":
      backoff = BACKOFF_MIN;
      state.conn = "up";
      state.everConnected = true;
      state.location = msg.location || "";
      state.demo = !!msg.demo;
      state.status = msg.status || null;
      if (msg.tz) state.tz = msg.tz;
      if (msg.time) {
        const st = Date.parse(msg.time);
        if (!isNaN(st)) state.skew = st - Date.now();
      }
      state.decision = null;
      state.staff = null;
      state.staffKey = "";
      state.ui = freshUI();
      setStaff(msg.staff || null);
      if (msg.decision && (msg.staff || !isStaffOutcome(msg.decision))) setDecision(msg.decision, false);
      render();
      break;
    case "decision":
      // A public decision means someone other than staff is at the door:
      // the staff panel goes at once (the server locks it too).
      if (msg.decision && !isStaffOutcome(msg.decision) && state.staff) setStaff(null);
      if (msg.decision) setDecision(msg.decision, true);
      render();
      break;
    case "done":
      if (state.decision && (msg.id === state.decision.id || (state.decision.session && msg.id === state.decision.session))) {
        clearDecision();
        render();
      }
      break;
    case "staff": {
      // The panel is sent after every change; an unchanged panel only
      // moves the lock deadline, so a finger on a button keeps its node.
      const key = msg.staff ? JSON.stringify({ ...msg.staff, locks_in_ms: 0 }) : "";
      const same = key !== "" && key === state.staffKey && state.staff;
      state.staffKey = key;
      setStaff(msg.staff || null);
      if (!same) render();
      break;
    }
    case "status":
      state.status = msg.status || null;
      if (screenName() === "idle" || (screenName() === "staff" && state.ui.tab === "system")) render();
      break;
    case "error":
      onServerError(msg.error || "");
      break;
    default:
      console.warn("kiosk: unknown message type", msg.type);
  }
}

function onServerError(err) {
  const scr = screenName();
  if (scr === "pin") {
    state.ui.pin = "";
    state.ui.pinWrong = true; // shown in its own line above the keypad
    render();
  } else if (scr === "staff" && err.includes("state_changed")) {
    toast(t("staff.request.state_changed"));
  } else if (scr === "staff") {
    toast(t("staff.error", { error: err }));
  } else {
    console.warn("kiosk: server refused an intent:", err);
  }
}

function toast(text) {
  state.ui.toast = text;
  state.ui.toastUntil = Date.now() + 5000;
  render();
}

// ---------- state changes ----------

function isStaffOutcome(d) {
  // "confirm" with reason undo_recent is a question to whoever tapped
  // (a parent, or staff at the public door): a public screen.
  return d.outcome === "staff_in" || d.outcome === "staff_menu" || (d.outcome === "confirm" && d.reason !== "undo_recent");
}

function holdFor(d) {
  if (d.session && d.expires_in_ms > 0) {
    const ms = d.expires_in_ms + 1500; // the server sends done; this is the backstop
    return d.outcome === "needs_staff" ? Math.min(ms, STAFF_WAIT_MAX_MS) : ms;
  }
  if (d.outcome === "error") return HOLD_ERROR_MS;
  if (d.outcome === "handover_wait") return d.expires_in_ms > 0 ? d.expires_in_ms : 15000;
  return HOLD_MS;
}

function setDecision(d, fresh) {
  state.decision = d;
  state.decisionUntil = Date.now() + holdFor(d);
  state.selection = d.outcome === "choose_children" || d.outcome === "confirm" ? new Set((d.children || []).filter((c) => c.selected).map((c) => c.id)) : null;
  if (isStaffOutcome(d)) {
    state.ui.autoRequest = true;
    if (d.outcome !== "confirm") state.ui.dismissConfirm = false;
  }
  if (fresh) play(soundFor(d));
}

function soundFor(d) {
  switch (d.outcome) {
    case "check_in":
    case "check_out":
    case "staff_in":
    case "staff_out":
    case "staff_menu":
      return d.committed ? "success" : "attention";
    case "denied":
    case "error":
      return "deny";
    default:
      return "attention";
  }
}

function clearDecision() {
  state.decision = null;
  state.selection = null;
  state.idleSince = Date.now();
}

function setStaff(s) {
  const was = state.staff;
  state.staff = s;
  if (!s) {
    if (was) state.ui = freshUI();
    // The panel closed: a staff tap's decision has nothing left to show.
    if (state.decision && isStaffOutcome(state.decision)) clearDecision();
    state.staffDeadline = 0;
    state.lockAfter = 0;
    state.idleSince = Date.now();
    return;
  }
  if (was && was.staff_id && s.staff_id && was.staff_id !== s.staff_id) state.ui = freshUI();
  const ms = Math.max(0, s.locks_in_ms || 0);
  state.lockAfter = Math.max(state.lockAfter, ms);
  state.staffDeadline = Date.now() + ms;
  if (state.ui.request && !(s.requests || []).some((r) => r.session === state.ui.request)) {
    state.ui.request = null;
    state.ui.idType = "";
    state.ui.reason = "";
    state.ui.refuse = false;
  }
  if (!s.confirm) state.ui.dismissConfirm = false;
}

// ---------- which screen ----------

function screenName() {
  const d = state.decision;
  if (d && !isStaffOutcome(d)) return publicScreen(d);
  if (state.staff) return state.staff.pin_required ? "pin" : "staff";
  if (d && d.outcome === "staff_in") return "staff_in";
  return "idle";
}

function publicScreen(d) {
  switch (d.outcome) {
    case "check_in":
    case "check_out":
      if (!d.committed) return "pending";
      return d.actor && d.actor.role === "child" ? "child_ok" : "ok";
    case "check_in_out":
      return d.committed ? "inout" : "pending";
    case "choose_children":
      return "choose";
    case "confirm":
      // The undo guard asks: one child (or staff) as a question, several
      // as a choice with nothing selected.
      return (d.children || []).length > 1 ? "choose" : "undo";
    case "needs_staff":
      return d.reason === "needs_grown_up" && d.actor && d.actor.role === "child" ? "child_grownup" : "needs_staff";
    case "handover_wait":
      return "handover";
    case "denied":
      return d.reason === "nothing_to_do" ? "nothing" : "denied";
    case "error":
      return "error";
    case "staff_out":
      return "staff_out";
    default:
      return "denied";
  }
}

// ---------- render ----------

const renders = [];
window.__kioskRenders = renders; // for the end-to-end benchmark: [decision id, performance.now()]

function render() {
  const root = document.getElementById("screen");
  const name = screenName();
  const view = {
    idle: renderIdle, ok: renderOK, pending: renderPending, child_ok: renderChildOK, choose: renderChoose,
    needs_staff: renderStaffComing, inout: renderInOut, undo: renderUndo, child_grownup: renderChildGrownUp, handover: renderHandover,
    denied: renderDenied, nothing: renderNothing, error: renderError, staff_out: renderStaffOut,
    staff_in: renderStaffIn, staff: renderStaff, pin: renderPIN,
  }[name];
  const content = view();
  // A staff panel re-rendered by the server (a roll call mark, a new
  // request) keeps its scroll position: the row under a finger stays put.
  const was = document.getElementById("staff-body");
  const where = name + "|" + state.ui.tab + "|" + (state.ui.request || "");
  const top = was && was.dataset.view === where ? was.scrollTop : 0;
  root.replaceChildren(content);
  const body = document.getElementById("staff-body");
  if (body) {
    body.scrollTop = top;
    body.dataset.view = where;
  }
  const ds = document.body.dataset;
  ds.screen = name;
  ds.conn = state.conn;
  ds.lang = state.lang;
  ds.decision = state.decision ? state.decision.id : "";
  ds.public = name === "staff" || name === "pin" ? "false" : "true";
  document.documentElement.lang = state.lang;
  renderChrome(name);
  if (state.decision) {
    renders.push([state.decision.id, performance.now()]);
    if (renders.length > 500) renders.splice(0, renders.length - 500);
  }
}

function renderChrome(name) {
  const lang = document.getElementById("lang");
  lang.textContent = t("lang.toggle");
  lang.setAttribute("aria-label", t("lang.toggle.label"));
  const tab = document.getElementById("demo-open");
  tab.hidden = !state.demo || name === "staff" || name === "pin";
  tab.textContent = t("demo.open");
  document.body.classList.toggle("with-demo", !tab.hidden);
  if (state.drawer && !state.demo) {
    state.drawer = false;
    renderDrawer();
  }
}

function screenEl(cls, ...kids) {
  return h("section", { class: "screen " + cls }, ...kids);
}

function renderIdle() {
  const d = new Date(now());
  return screenEl("idle",
    h("header", { class: "idle-head" }, h("div", { class: "location" }, state.location || "Kinderdeur")),
    h("div", { class: "idle-main" },
      h("div", { class: "clock", id: "clock" }, fmtTime(d)),
      h("div", { class: "date", id: "date" }, fmtDate(d)),
      h("div", { class: "prompt" }, icon("card"), h("div", {}, h("div", { class: "prompt-text" }, t("idle.prompt")), h("div", { class: "prompt-sub" }, t("idle.sub"))))),
    state.conn === "down" && state.everConnected ? h("div", { class: "banner-down", role: "status" }, t("conn.reconnecting")) : null,
    renderStatusLine());
}

function dot(ok) {
  return h("span", { class: "dot " + (ok ? "dot-ok" : "dot-bad"), "aria-hidden": "true" });
}

function renderStatusLine() {
  const s = state.status || {};
  const readers = Array.isArray(s.readers) ? s.readers : [];
  const sync = s.sync || {};
  const syncState = sync.state || "disabled";
  const items = [];
  if (readers.length === 0) items.push(h("span", { class: "st" }, dot(false), t("status.readers_none")));
  for (const r of readers) items.push(h("span", { class: "st", data: { reader: r.reader || "" } }, dot(!!r.ok), t("status.reader") + " " + (r.reader || "")));
  items.push(h("span", { class: "st" }, dot(syncState !== "offline"), t("status.network") + ": " + t("status.sync." + syncState)));
  items.push(h("span", { class: "st" }, dot(!!s.clock_synced), t("status.clock") + ": " + t(s.clock_synced ? "status.clock.ok" : "status.clock.bad")));
  items.push(h("span", { class: "st" }, dot(s.storage_ok !== false), t("status.storage") + ": " + t(s.storage_ok !== false ? "status.ok" : "status.bad")));
  items.push(h("span", { class: "st" }, dot(state.conn === "up"), t("status.screen") + ": " + t("conn." + state.conn)));
  return h("footer", { class: "statusline", id: "statusline" }, items);
}

function decisionTime(d) {
  const at = d.at ? new Date(d.at) : new Date(now());
  return fmtTime(isNaN(at) ? new Date(now()) : at);
}

function keptChildren(d) {
  const list = d.children || [];
  const kept = list.filter((c) => c.selected && c.action !== "none");
  return kept.length ? kept : list;
}

function countdown(ms) {
  return h("div", { class: "countdown", vars: { "--dur": Math.max(0, ms) + "ms" } }, h("div", { class: "countdown-bar" }));
}

function renderOK() {
  const d = state.decision;
  const out = d.outcome === "check_out";
  const kids = keptChildren(d).map((c) => c.name);
  const actor = d.actor && d.actor.name ? d.actor.name : "";
  if (out && d.reason === "handover" && kids.length === 1 && actor) {
    return screenEl("result ok",
      icon("ok"),
      h("h1", { class: "title" }, t("out.title")),
      h("div", { class: "big names" }, t("handover.out", { child: kids[0], name: actor })),
      h("div", { class: "sub" }, t("at.time", { time: decisionTime(d) })));
  }
  // The title says what happened, the names say to whom: each name once.
  return screenEl("result ok",
    icon("ok"),
    h("h1", { class: "title" }, t(out ? "out.title" : "in.title")),
    kids.length ? h("div", { class: "big names", id: "names" }, kids.map((n) => h("span", { class: "name" }, n))) : null,
    h("div", { class: "sub" }, t("at.time", { time: decisionTime(d) })),
    actor ? h("div", { class: "greeting", id: "greeting" }, out ? t("greeting.out", { name: actor }) : greeting(d, actor)) : null);
}

function renderPending() {
  return screenEl("result wait", icon("wait"), h("h1", { class: "title" }, t("pending")), h("div", { class: "sub" }, t("pending.sub")));
}

function renderChildOK() {
  const d = state.decision;
  const name = d.actor.name || (keptChildren(d)[0] || {}).name || "";
  const again = d.reason === "already_done";
  if (d.outcome === "check_in") {
    return screenEl("result child child-in", h("div", { class: "sun", "aria-hidden": "true" }),
      h("h1", { class: "child-title" }, t("child.in.title", { name })),
      h("div", { class: "child-sub" }, t(again ? "child.in.again" : "child.in.sub")));
  }
  if (again) {
    return screenEl("result child child-out", h("div", { class: "sun", "aria-hidden": "true" }),
      h("h1", { class: "child-title" }, t("child.out.title", { name })),
      h("div", { class: "child-sub" }, t("child.out.again")));
  }
  if (d.reason === "handover" && d.actor.role === "child") {
    return screenEl("result child child-out", h("div", { class: "sun", "aria-hidden": "true" }),
      h("h1", { class: "child-title" }, t("child.out.title", { name })),
      h("div", { class: "child-sub" }, t("child.handover.bye")));
  }
  return screenEl("result child child-out", h("div", { class: "sun", "aria-hidden": "true" }),
    h("h1", { class: "child-title" }, t("child.out.title", { name })),
    h("div", { class: "child-sub" }, t("child.out.sub")));
}

function renderChildGrownUp() {
  const d = state.decision;
  const name = d.actor.name || "";
  return screenEl("result child child-wait",
    h("h1", { class: "child-title" }, t("child.grownup.title", { name })),
    h("div", { class: "child-sub" }, t("child.grownup.sub")),
    h("div", { class: "prompt-line" }, icon("card"), t("child.grownup.prompt", { name })));
}

function renderHandover() {
  const d = state.decision;
  const byChild = d.actor && d.actor.role === "child";
  return screenEl("result attention",
    icon("card"),
    h("h1", { class: "title" }, t("handover.title")),
    h("div", { class: "big" }, t(byChild ? "handover.adult" : "handover.child")),
    countdown(state.decisionUntil - Date.now()));
}

function renderChoose() {
  const d = state.decision;
  const sel = state.selection || new Set();
  const kids = d.children || [];
  const choose = (c) => {
    if (c.action === "none") return;
    if (sel.has(c.id)) sel.delete(c.id);
    else sel.add(c.id);
    render();
  };
  const card = (c) => {
      const on = sel.has(c.id);
      return h("button", {
        type: "button", class: "child-card" + (on ? " on" : "") + (c.action === "none" ? " none" : ""),
        "aria-pressed": on ? "true" : "false", disabled: c.action === "none", data: { child: c.id },
        onclick: () => choose(c),
      },
      h("span", { class: "tick", "aria-hidden": "true" }, on ? "✓" : ""),
      h("span", { class: "child-name" }, c.name),
      h("span", { class: "child-state" }, c.reverses ? t("choose.just." + c.action) : c.present ? t("choose.present", { time: clock(c.since) }) : t("choose.absent")),
      h("span", { class: "child-action act-" + c.action }, t("choose.act." + c.action)));
  };
  const ins = kids.filter((c) => c.action === "check_in");
  const outs = kids.filter((c) => c.action === "check_out");
  const mixed = ins.length > 0 && outs.length > 0;
  // Both ways: two labelled groups, nothing preselected (the server sends
  // every child unselected); one way: one grid, preselected.
  const grid = mixed
    ? h("div", { class: "choose-groups" },
      [["in", ins], ["out", outs]].map(([dir, list]) => h("section", { class: "choose-group", id: "choose-" + dir, vars: { "--n": String(list.length) } },
        h("h2", { class: "choose-group-label" }, t("choose.group." + dir)),
        h("div", { class: "choose-grid n" + Math.min(list.length, 2) }, list.map(card)))))
    : h("div", { class: "choose-grid n" + Math.min(kids.length, 4) }, kids.map(card));
  const confirm = () => {
    if (sel.size === 0) return;
    send({ type: "select", session: d.session, children: kids.filter((c) => sel.has(c.id)).map((c) => c.id) });
  };
  const cancel = () => {
    send({ type: "cancel", session: d.session });
    clearDecision();
    render();
  };
  return screenEl("choose",
    h("header", { class: "choose-head" },
      h("h1", { class: "title" }, t(d.outcome === "confirm" ? "undo.mixed" : "choose.title")),
      h("div", { class: "sub", id: "choose-hint" }, chooseHint(kids)),
      d.reader === "in" || d.reader === "out" ? h("div", { class: "sub", id: "choose-reader" }, t("reader." + d.reader + ".title") + ". " + t("reader." + d.reader + ".sub")) : null),
    grid,
    h("div", { class: "actions" },
      button(t("choose.cancel"), cancel, "secondary", { id: "choose-cancel" }),
      button(sel.size === 0 ? t("choose.none_selected") : t("choose.confirm") + " (" + sel.size + ")", confirm, "primary", { id: "choose-confirm", disabled: sel.size === 0 })),
    countdown(state.decisionUntil - Date.now()));
}

// chooseHint words the choice by direction: leaving a child out of a
// check-in, leaving one here at pick-up, or (both directions, nothing
// preselected) picking the children brought or taken.
function chooseHint(kids) {
  const acts = new Set(kids.map((c) => c.action).filter((a) => a === "check_in" || a === "check_out"));
  if (acts.size > 1) return t("choose.hint.mixed");
  const dir = acts.has("check_in") ? "check_in" : "check_out";
  // Nothing preselected (the undo guard, a one-way reader): the person
  // picks; "tap a child to leave them here" would say the opposite.
  if (!kids.some((c) => c.selected)) return t("choose.hint.pick." + dir);
  return t("choose.hint." + dir);
}

function renderStaffComing() {
  const d = state.decision;
  const kids = d.committed ? d.children || [] : [];
  const gone = kids.filter((c) => !c.present).map((c) => c.name);
  const waiting = kids.filter((c) => c.present).map((c) => c.name);
  if (gone.length && waiting.length) {
    // A partly announced pickup: some children went, staff come for the rest.
    return screenEl("result attention", icon("wait"),
      h("h1", { class: "title", id: "public-title" }, t(gone.length > 1 ? "out.many" : "out.one", { name: gone[0], names: names(gone) })),
      h("div", { class: "big", id: "partial-waiting" }, t("partial.waiting", { names: names(waiting) })),
      h("div", { class: "sub" }, t("staffcoming.sub")));
  }
  return screenEl("result attention", icon("wait"), h("h1", { class: "title", id: "public-title" }, t("staffcoming.title")), h("div", { class: "sub" }, t("staffcoming.sub")));
}

// renderInOut: a choice that brought some children and took others; each
// child is named with what happened to it.
function renderInOut() {
  const d = state.decision;
  const kids = keptChildren(d);
  return screenEl("result ok",
    icon("ok"),
    h("h1", { class: "title" }, t("inout.title")),
    h("ul", { class: "inout", id: "inout" }, kids.map((c) => h("li", { class: "inout-line act-" + c.action, data: { child: c.id } },
      t(c.action === "check_in" ? "inout.in" : "inout.out", { name: c.name })))),
    h("div", { class: "sub" }, t("at.time", { time: decisionTime(d) })));
}

// renderUndo: a tap within the undo guard asks first. Either it would
// reverse what someone (this person or another) did to the child a moment
// ago ("Levi is net uitgecheckt. Nu weer brengen?"), or the same person
// tapped a moment ago for another child ("Je hebt net al getapt. Levi
// brengen?").
function renderUndo() {
  const d = state.decision;
  const kids = d.children || [];
  const no = () => {
    send({ type: "cancel", session: d.session });
    clearDecision();
    render();
  };
  const yes = () => send({ type: "select", session: d.session, children: kids.map((c) => c.id) });
  let title, q, yesLabel;
  if (!kids.length) {
    title = t("undo.staff", { name: d.actor && d.actor.name ? d.actor.name : "" });
    q = t("undo.staff.q");
    yesLabel = t("undo.staff.yes");
  } else {
    const act = kids[0].action;
    // The server says which: "reverses" is set only when it is true.
    if (kids[0].reverses) {
      title = t("undo.just." + act, { names: names(kids.map((c) => c.name)) });
      q = t("undo.q." + act);
    } else {
      title = t("undo.tapped");
      q = t("undo.q_named." + act, { names: names(kids.map((c) => c.name)) });
    }
    yesLabel = t("undo.yes." + act);
  }
  return screenEl("result attention undo",
    icon("card"),
    h("h1", { class: "title", id: "undo-title" }, title),
    h("div", { class: "big", id: "undo-question" }, q),
    h("div", { class: "actions" },
      button(t("undo.no"), no, "secondary", { id: "undo-no" }),
      button(yesLabel, yes, "primary", { id: "undo-yes" })),
    countdown(state.decisionUntil - Date.now()));
}

function renderDenied() {
  const d = state.decision;
  if (d.reason === "no_roster") {
    return screenEl("result deny", icon("no"), h("h1", { class: "title", id: "public-title" }, t("noroster.title")), h("div", { class: "sub" }, t("denied.sub")));
  }
  // unknown card, contact ban, not allowed: one neutral text for all.
  return screenEl("result deny", icon("no"), h("h1", { class: "title", id: "public-title" }, t("denied.title")), h("div", { class: "sub" }, t("denied.sub")));
}

function renderNothing() {
  const d = state.decision || {};
  // A one-way reader: say which door this is (a parent picking up at the
  // entrance).
  const k = d.reader === "in" || d.reader === "out" ? "reader." + d.reader : "nothing";
  return screenEl("result neutral", icon("card"), h("h1", { class: "title", id: "public-title" }, t(k + ".title")), h("div", { class: "sub" }, t(k + ".sub")));
}

function renderError() {
  return screenEl("result deny", icon("no"), h("h1", { class: "title", id: "public-title" }, t("error.title")), h("div", { class: "sub" }, t("error.sub")));
}

function renderStaffOut() {
  const d = state.decision;
  return screenEl("result ok", icon("ok"), h("h1", { class: "title" }, t("staffout.title", { name: d.actor.name || "" })), h("div", { class: "sub" }, t("staffout.sub", { time: decisionTime(d) })));
}

function renderStaffIn() {
  const d = state.decision;
  return screenEl("result ok", icon("ok"), h("h1", { class: "title" }, t("staffin.title", { name: d.actor.name || "" })), h("div", { class: "sub" }, t("staffin.sub", { time: decisionTime(d) })));
}

// ---------- staff panel ----------

function staffHeader(s) {
  const secs = Math.max(0, Math.ceil((state.staffDeadline - Date.now()) / 1000));
  return h("header", { class: "staff-head" },
    h("div", { class: "staff-name" }, t("staff.title", { name: s.name })),
    h("div", { class: "staff-lock-in", id: "locks-in" }, t("staff.locks_in", { s: secs })),
    s.pin_required ? null : button(t("staff.clockout"), () => manual("staff_out", { staff_id: s.staff_id }), "secondary", { id: "staff-clockout" }),
    button(t("staff.lock"), lockStaff, "dark", { id: "staff-lock" }));
}

function lockStaff() {
  send({ type: "lock" });
  setStaff(null);
  render();
}

function manual(action, extra) {
  send({ type: "manual", action, ...(extra || {}) });
}

function renderPIN() {
  const s = state.staff;
  const ui = state.ui;
  const press = (k) => {
    ui.pinWrong = false;
    if (k === "clear") ui.pin = "";
    else if (k === "ok") {
      if (ui.pin) send({ type: "pin", pin: ui.pin });
      ui.pin = "";
    } else if (ui.pin.length < 12) ui.pin += k;
    render();
  };
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"];
  return screenEl("staff pin",
    staffHeader(s),
    h("div", { class: "pin-body" },
      h("h1", { class: "title" }, t("staff.pin.title")),
      h("div", { class: "pin-dots", id: "pin-dots" }, "●".repeat(ui.pin.length) || " "),
      h("div", { class: "pin-error", id: "pin-error", role: "alert" }, ui.pinWrong ? t("staff.pin.wrong") : ""),
      h("div", { class: "keypad" }, keys.map((k) => button(k === "clear" ? t("staff.pin.clear") : k === "ok" ? t("staff.pin.ok") : k, () => press(k), "key" + (k === "ok" ? " primary" : ""), { data: { key: k } })))),
    renderToast());
}

function renderToast() {
  if (!state.ui.toast || Date.now() > state.ui.toastUntil) return null;
  return h("div", { class: "toast", role: "alert", id: "toast" }, state.ui.toast);
}

function renderStaff() {
  const s = state.staff;
  const ui = state.ui;
  const requests = s.requests || [];
  if (ui.autoRequest) {
    ui.autoRequest = false;
    if (requests.length && !ui.request) {
      ui.tab = "requests";
      ui.request = requests[0].session;
    }
  }
  const tabs = [
    ["overview", t("staff.tab.overview")],
    ["present", t("staff.tab.present")],
    ["today", t("staff.tab.today")],
    ["requests", t("staff.tab.requests") + (requests.length ? " (" + requests.length + ")" : "")],
    ["roll", t("staff.tab.roll") + (s.roll_call ? " !" : "")],
    ["system", t("staff.tab.system")],
  ];
  const body = {
    overview: staffOverview, present: staffPresent, today: staffToday, requests: staffRequests, roll: staffRoll, system: staffSystem,
  }[ui.tab] || staffOverview;
  return screenEl("staff",
    staffHeader(s),
    h("nav", { class: "tabs", role: "tablist" }, tabs.map(([id, label]) =>
      h("button", { type: "button", role: "tab", class: "tab" + (ui.tab === id ? " on" : "") + (id === "requests" && requests.length ? " alert" : ""), "aria-selected": ui.tab === id ? "true" : "false", data: { tab: id },
        onclick: () => { ui.tab = id; ui.request = null; ui.sheet = null; render(); } }, label))),
    h("div", { class: "staff-body", id: "staff-body" }, body(s)),
    ui.sheet ? renderSheet(s) : null,
    ui.corr ? renderCorrection(s) : null,
    s.confirm && !ui.dismissConfirm ? renderClockOutConfirm(s) : null,
    renderToast());
}

function groupCard(g) {
  const th = g.three_hour;
  const exp = ((state.staff || {}).expected || []).find((e) => e.group_id === g.id);
  return h("div", { class: "group-card " + (g.ok ? "g-ok" : "g-bad"), data: { group: g.id } },
    h("div", { class: "group-name" }, g.name, h("span", { class: "group-flag" }, g.ok ? t("staff.group.ok") : t("staff.group.short"))),
    h("div", { class: "group-nums" },
      h("span", { class: "num" }, h("b", {}, String(g.children)), " " + noun(state.lang, g.children, "child")),
      h("span", { class: "num" }, h("b", {}, g.staff_present + " / " + g.staff_required), " " + noun(state.lang, g.staff_required, "staff") + " (" + t("staff.group.required") + ")")),
    th ? h("div", { class: "group-3h" + (th.alert ? " bad" : "") }, t("staff.group.three_hour", { used: th.minutes_below, budget: th.budget }), th.alert ? " — " + th.alert.split(",").map((a) => t("staff.three_hour." + a.trim())).join(", ") : "") : null,
    exp ? expectedLine(exp) : null,
    g.problem ? h("div", { class: "group-problem" }, g.problem) : null);
}

// warningItem is one staff note: when, what (the code in words), which
// group, how often, and the door's detail. The server sends the notes
// sorted (contact bans and unrecorded taps first, then newest first) and
// de-duplicated (count).
function warningItem(w, s) {
  const group = w.group ? ((s.groups || []).find((g) => g.id === w.group) || {}).name || "" : "";
  return h("li", { class: "warning w-" + (w.code || ""), data: { code: w.code || "" } },
    h("div", { class: "warning-head" },
      w.at ? h("span", { class: "warning-at" }, clock(w.at)) : null,
      h("span", { class: "warning-what" }, t("staff.reason.code." + w.code) + (group ? " · " + group : "")),
      w.count > 1 ? h("span", { class: "warning-count" }, t("staff.warning.count", { n: w.count })) : null),
    w.text ? h("div", { class: "warning-text" }, w.text) : null);
}

// ---------- the parents' portal on the staff panel (staff only) ----------
// An announced pickup: who, the window, who announced it and when
// ("aangekondigd door Fatima om 16:55"); outside its window the line says
// "aangekondigd voor 16:00-17:00". An absence: "afgemeld: Mila (ziek)".

function announcedWindow(a) {
  return a.from || a.until ? (a.from || "") + "–" + (a.until || "") : t("staff.announced.all_day");
}

function announcedBy(a) {
  if (a.by && a.at) return t("staff.announced.by_at", { by: a.by, at: a.at });
  if (a.by) return t("staff.announced.by", { by: a.by });
  if (a.at) return t("staff.announced.at", { at: a.at });
  return "";
}

// announcedLine is one announcement under a child (present/absent lists)
// or a request (the tapping person's own: no name again).
function announcedLine(a, inRequest) {
  const parts = inRequest
    ? [a.now ? announcedWindow(a) : t("staff.announced.for", { window: announcedWindow(a) })]
    : [t("staff.announced.pickup", { person: a.person + (a.relation ? " (" + a.relation + ")" : ""), window: announcedWindow(a) })];
  const by = announcedBy(a);
  if (by) parts.push(by);
  if (a.id_note) parts.push(t("staff.announced.id", { id: a.id_note }));
  return h("div", { class: "announced" + (a.now ? " now" : " later"), data: { announced: a.person_id, announcedChild: a.child_id } }, parts.join(" · "));
}

function absenceText(kind) {
  return t("staff.absence." + kind);
}

function expectedLine(e) {
  const absent = e.absent || [];
  return h("div", { class: "expected", data: { expected: e.group_id } },
    h("b", {}, t("staff.expected", { n: e.expected })),
    absent.length ? ", " + t("staff.expected.absent", { list: absent.map((a) => a.name + " (" + absenceText(a.kind) + ")").join(", ") }) : null);
}

function staffOverview(s) {
  const warnings = s.warnings || [];
  const forgotten = s.forgotten || [];
  return [
    h("h2", {}, t("staff.groups")),
    h("div", { class: "groups" }, (s.groups || []).map(groupCard),
      (s.expected || []).filter((e) => !(s.groups || []).some((g) => g.id === e.group_id)).map((e) =>
        h("div", { class: "group-card g-empty", data: { group: e.group_id } }, h("div", { class: "group-name" }, e.group), expectedLine(e)))),
    forgotten.length ? [
      h("h2", {}, t("staff.forgotten")),
      h("ul", { class: "rows", id: "forgotten" }, forgotten.map((c) => h("li", { class: "row", data: { child: c.id } },
        h("span", { class: "row-name" }, c.name), h("span", { class: "row-meta" }, c.group + " · " + t("staff.since", { time: c.since })),
        button(t("staff.forgotten.resolve"), () => openSheet("check_out", c, "forgot_checkout"), "small", { data: { resolve: c.id } })))),
    ] : null,
    h("h2", {}, t("staff.warnings")),
    warnings.length
      ? h("ul", { class: "warnings", id: "warnings" }, warnings.map((w) => warningItem(w, s)))
      : h("p", { class: "muted" }, t("staff.no_warnings")),
    h("h2", {}, t("staff.staff_present")),
    h("ul", { class: "rows" }, (s.staff_present || []).length ? s.staff_present.map((p) => h("li", { class: "row" },
      h("span", { class: "row-name" }, p.name), h("span", { class: "row-meta" }, (p.group || "") + " · " + t("staff.since", { time: clock(p.since) })))) : h("li", { class: "muted" }, t("staff.none"))),
  ];
}

function staffPresent(s) {
  const present = s.present || [];
  const absent = s.absent || [];
  return h("div", { class: "two-col" },
    h("div", {},
      h("h2", {}, t("staff.present", { n: present.length })),
      h("ul", { class: "rows", id: "present" }, present.length ? present.map((c) => h("li", { class: "row", data: { child: c.id } },
        h("span", { class: "row-name" }, c.name),
        h("span", { class: "row-meta" }, c.group + " · " + t("staff.since", { time: clock(c.since) })),
        c.alert ? h("span", { class: "alert-pill" }, c.alert) : null,
        button(t("staff.checkout"), () => openSheet("check_out", c), "small", { data: { checkout: c.id } }),
        (c.announced || []).map((a) => announcedLine(a, false)))) : h("li", { class: "muted" }, t("staff.none")))),
    h("div", {},
      h("h2", {}, t("staff.absent", { n: absent.length })),
      h("ul", { class: "rows", id: "absent" }, absent.map((c) => h("li", { class: "row", data: { child: c.id } },
        h("span", { class: "row-name" }, c.name), h("span", { class: "row-meta" }, c.group),
        c.absence ? h("span", { class: "absence-pill", data: { absence: c.absence } }, absenceText(c.absence)) : null,
        button(t("staff.checkin"), () => openSheet("check_in", c), "small", { data: { checkin: c.id } }),
        (c.announced || []).map((a) => announcedLine(a, false)))))));
}

// ---------- corrections of today's stays (staff only) ----------
// A correction is a new event; the door's own events stay. Staff correct
// today's stays here; earlier days are corrected by a manager at central.

function staffToday(s) {
  const today = s.today || [];
  const kids = [...(s.present || []), ...(s.absent || [])].sort((a, b) => a.name.localeCompare(b.name));
  return [
    h("div", { class: "today-head" },
      h("h2", {}, t("staff.today.title")),
      button(t("staff.corr.add_stay"), () => openCorrection({ kind: "add_stay", child_id: (kids[0] || {}).id || "" }), "small", { id: "corr-add" })),
    h("p", { class: "muted" }, t("staff.today.hint")),
    h("ul", { class: "rows", id: "today" }, today.length ? today.map((st) => h("li", { class: "row", data: { stay: st.stay, child: st.child_id } },
      h("span", { class: "row-name" }, st.name),
      h("span", { class: "row-meta" }, (st.group ? st.group + " · " : "") + (st.in || "--:--") + " – " + (st.out || t("staff.today.open"))),
      st.corrected ? h("span", { class: "pill-corrected" }, t("staff.today.corrected")) : null,
      button(t("staff.corr.fix"), () => openCorrection({ stay: st, kind: st.out ? "set_check_out" : "set_check_in", check_in: st.in, check_out: st.out }), "small", { data: { fix: st.stay } }))) : h("li", { class: "muted" }, t("staff.none"))),
  ];
}

function openCorrection(c) {
  state.ui.corr = { reason: "", note: "", check_in: "", check_out: "", ...c };
  render();
}

const correctionReasons = ["forgot_tap", "wrong_card", "wrong_time", "not_here"];

function renderCorrection(s) {
  const ui = state.ui;
  const c = ui.corr;
  const close = () => { ui.corr = null; render(); };
  const kinds = c.kind === "add_stay" ? ["add_stay"] : ["set_check_in", "set_check_out", "remove_stay"];
  const reasonText = () => [c.reason ? translate("nl", "staff.corr.reason." + c.reason) : "", (c.note || "").trim()].filter(Boolean).join(": ");
  const ready = () => reasonText() !== "" &&
    (c.kind === "remove_stay" || (c.kind === "set_check_in" && c.check_in) || (c.kind === "set_check_out" && c.check_out) ||
      (c.kind === "add_stay" && c.child_id && c.check_in && c.check_out));
  const doIt = () => {
    if (!ready()) return;
    const msg = { type: "correct", kind: c.kind, reason: reasonText() };
    if (c.stay) msg.stay = c.stay.stay;
    if (c.kind === "add_stay") msg.child_id = c.child_id;
    if (c.kind === "set_check_in" || c.kind === "add_stay") msg.check_in = c.check_in;
    if (c.kind === "set_check_out" || c.kind === "add_stay") msg.check_out = c.check_out;
    send(msg);
    close();
  };
  const timeField = (key, label) => h("label", { class: "corr-time" }, h("span", { class: "label" }, label),
    h("input", { type: "time", id: "corr-" + key, value: c[key] || "", oninput: (e) => { c[key] = e.target.value; refreshDo(); } }));
  const refreshDo = () => { const b = document.getElementById("corr-do"); if (b) b.disabled = !ready(); };
  const kids = [...(s.present || []), ...(s.absent || [])].sort((a, b) => a.name.localeCompare(b.name));
  return h("div", { class: "sheet-backdrop" }, h("div", { class: "sheet corr-sheet", role: "dialog", id: "corr-sheet" },
    h("h2", {}, c.stay ? t("staff.corr.title", { name: c.stay.name, in: c.stay.in || "--:--", out: c.stay.out || t("staff.today.open") }) : t("staff.corr.add_stay")),
    h("div", { class: "corr-row" },
      kinds.length > 1 ? chips(kinds, c.kind, (k) => { c.kind = k; render(); }, "staff.corr.kind.", "kind") : null,
      c.kind === "add_stay" ? h("label", { class: "corr-time" }, h("span", { class: "label" }, t("staff.corr.child")),
        h("select", { id: "corr-child", onchange: (e) => { c.child_id = e.target.value; refreshDo(); } },
          kids.map((k) => h("option", { value: k.id, selected: k.id === c.child_id }, k.name + (k.group ? " (" + k.group + ")" : ""))))) : null,
      c.kind === "set_check_in" || c.kind === "add_stay" ? timeField("check_in", t("staff.corr.check_in")) : null,
      c.kind === "set_check_out" || c.kind === "add_stay" ? timeField("check_out", t("staff.corr.check_out")) : null,
      c.kind === "remove_stay" ? h("p", { class: "corr-remove" }, t("staff.corr.remove_ask")) : null),
    h("div", { class: "label" }, t("staff.reason.title") + " *"),
    chips(correctionReasons, c.reason, (r) => { c.reason = r; render(); }, "staff.corr.reason.", "reason"),
    h("div", { class: "corr-row corr-end" },
      h("input", { type: "text", id: "corr-note", maxlength: "200", placeholder: t("staff.corr.note"), value: c.note || "", oninput: (e) => { c.note = e.target.value; refreshDo(); } }),
      button(t("staff.cancel"), close, "secondary"), button(t("staff.corr.save"), doIt, "primary", { id: "corr-do", disabled: !ready() }))));
}

const manualReasons = {
  check_in: ["card_forgotten", "no_card", "correction"],
  check_out: ["card_forgotten", "forgot_checkout", "correction"],
};

function openSheet(action, child, reason) {
  state.ui.sheet = { action, child };
  state.ui.reason = reason || "";
  render();
}

function renderSheet() {
  const ui = state.ui;
  const { action, child } = ui.sheet;
  const close = () => { ui.sheet = null; ui.reason = ""; render(); };
  const doIt = () => {
    if (!ui.reason) return;
    manual(action, { child_id: child.id, reason: translate("nl", "staff.reason." + ui.reason) });
    close();
  };
  return h("div", { class: "sheet-backdrop" }, h("div", { class: "sheet", role: "dialog", id: "sheet" },
    h("h2", {}, t("staff.manual.title", { action: t(action === "check_in" ? "staff.checkin" : "staff.checkout"), name: child.name })),
    h("div", { class: "label" }, t("staff.reason.title")),
    chips(manualReasons[action], ui.reason, (r) => { ui.reason = r; render(); }, "staff.reason.", "reason"),
    h("div", { class: "actions" }, button(t("staff.cancel"), close, "secondary"), button(t("staff.do"), doIt, "primary", { id: "sheet-do", disabled: !ui.reason }))));
}

function chips(options, current, pick, prefix, dataKey) {
  return h("div", { class: "chips" }, options.map((o) => h("button", {
    type: "button", class: "chip" + (current === o ? " on" : ""), "aria-pressed": current === o ? "true" : "false",
    data: { [dataKey]: o }, onclick: () => pick(o),
  }, t(prefix + o))));
}

function renderClockOutConfirm(s) {
  return h("div", { class: "sheet-backdrop" }, h("div", { class: "sheet", role: "dialog", id: "clockout-confirm" },
    h("h2", {}, t("staff.clockout.warn")),
    h("ul", { class: "warnings" }, (s.confirm.warnings || []).map((w) => h("li", { class: "warning" }, w.text))),
    h("div", { class: "actions" },
      button(t("staff.cancel"), () => { state.ui.dismissConfirm = true; render(); }, "secondary"),
      button(t("staff.clockout.confirm"), () => manual("staff_out_sure", { staff_id: s.staff_id }), "danger", { id: "clockout-sure" }))));
}

const idTypes = ["rijbewijs", "paspoort", "id_kaart", "verblijfsdocument"];
const overrideReasons = ["extra_staff", "three_hour", "emergency"];
const refuseReasons = ["not_recognised", "no_id", "parent_unreachable"];

function staffRequests(s) {
  const requests = s.requests || [];
  const ui = state.ui;
  const r = requests.find((x) => x.session === ui.request);
  if (r) return renderRequest(r);
  if (!requests.length) return h("p", { class: "muted big-muted" }, t("staff.requests.none"));
  return h("ul", { class: "rows", id: "requests" }, requests.map((q) => h("li", { class: "row", data: { session: q.session } },
    h("span", { class: "row-name" }, q.person),
    h("span", { class: "row-meta" }, t("staff.reason.code." + q.reason) + " · " + (q.children || []).map((c) => c.name).join(", ")),
    q.alert ? h("span", { class: "alert-pill" }, q.alert) : null,
    (q.announced || []).map((a) => announcedLine(a, true)),
    button(t("staff.request.open"), () => { ui.request = q.session; ui.idType = ""; ui.reason = ""; ui.refuse = false; ui.keep = null; ui.releaseTo = ""; ui.personName = ""; render(); }, "small"))));
}

function renderRequest(r) {
  const ui = state.ui;
  const kids = r.children || [];
  if (!ui.keep || ui.keep.session !== r.session) ui.keep = { session: r.session, ids: new Set(kids.map((c) => c.id)) };
  const keep = ui.keep.ids;
  const override = r.reason === "ratio" || r.reason === "capacity";
  // A child who asked on its own goes only to a named grown-up: a person
  // of the roster, or someone else by name with the ID checked.
  const toWhom = r.role === "child";
  const other = toWhom && ui.releaseTo === "other";
  const needsID = !override && (!toWhom || other);
  const back = () => { ui.request = null; render(); };
  const ready = keep.size > 0 && (!needsID || ui.idType) && (!override || ui.reason) &&
    (!toWhom || (other ? (ui.personName || "").trim() !== "" : !!ui.releaseTo));
  const confirm = () => {
    if (!ready) return;
    const msg = { type: "confirm", session: r.session, children: kids.filter((c) => keep.has(c.id)).map((c) => c.id) };
    if (needsID) msg.id_type = ui.idType;
    if (toWhom && other) msg.person_name = ui.personName.trim();
    else if (toWhom) msg.released_to = ui.releaseTo;
    if (override) msg.reason = translate("nl", "staff.reason." + ui.reason);
    send(msg);
  };
  if (ui.refuse) {
    return h("div", { class: "request", id: "request" },
      h("h2", {}, t("staff.request.refuse_reason") + ": " + r.person),
      chips(refuseReasons, ui.reason, (x) => { ui.reason = x; render(); }, "staff.reason.", "reason"),
      h("div", { class: "actions" },
        button(t("staff.back"), () => { ui.refuse = false; ui.reason = ""; render(); }, "secondary"),
        button(t("staff.request.refuse"), () => { if (ui.reason) send({ type: "refuse", session: r.session, reason: translate("nl", "staff.reason." + ui.reason) }); }, "danger", { id: "refuse-do", disabled: !ui.reason })));
  }
  return h("div", { class: "request", id: "request", data: { session: r.session } },
    h("div", { class: "request-top" },
      r.photo ? h("div", { class: "photo", id: "photo" }, t("staff.request.photo")) : null,
      h("div", { class: "request-who" },
        h("div", { class: "request-person", id: "request-person" }, r.person),
        r.relation ? h("div", {}, t("staff.request.relation") + ": " + r.relation) : null,
        h("div", { class: "request-reason" }, t("staff.reason.code." + r.reason)),
        (r.announced || []).map((a) => announcedLine(a, true)),
        r.photo ? null : h("div", { class: "muted small" }, t("staff.request.photo_none")))),
    r.alert ? h("div", { class: "alert-box", id: "request-alert" }, r.alert) : null,
    (r.warnings || []).length ? h("ul", { class: "warnings" }, r.warnings.map((w) => h("li", { class: "warning" }, w))) : null,
    h("div", { class: "label" }, t(kids.length === 1 ? "staff.request.child" : "staff.request.children")),
    h("div", { class: "chips" }, kids.map((c) => h("button", {
      type: "button", class: "chip" + (keep.has(c.id) ? " on" : ""), "aria-pressed": keep.has(c.id) ? "true" : "false", data: { child: c.id },
      onclick: () => { if (keep.has(c.id)) keep.delete(c.id); else keep.add(c.id); render(); },
    }, c.name + (c.group ? " (" + c.group + ")" : ""), c.alert ? h("span", { class: "alert-pill" }, c.alert) : null))),
    toWhom ? [h("div", { class: "label" }, t("staff.request.release_to")),
      h("div", { class: "chips", id: "release-to" },
        (r.release_to || []).map((p) => h("button", {
          type: "button", class: "chip" + (ui.releaseTo === p.id ? " on" : ""), "aria-pressed": ui.releaseTo === p.id ? "true" : "false", data: { person: p.id },
          onclick: () => { ui.releaseTo = p.id; render(); },
        }, p.name + (p.relation ? " (" + p.relation + ")" : ""))),
        h("button", {
          type: "button", class: "chip" + (other ? " on" : ""), "aria-pressed": other ? "true" : "false", data: { person: "other" },
          onclick: () => {
            ui.releaseTo = "other";
            render();
            const el = document.getElementById("release-name");
            if (el) el.scrollIntoView({ block: "center" });
          },
        }, t("staff.request.someone_else"))),
      other ? h("input", { type: "text", class: "name-input", id: "release-name", maxlength: "100", autocomplete: "off",
        placeholder: t("staff.request.name"), value: ui.personName || "",
        oninput: (e) => { ui.personName = e.target.value; const b = document.getElementById("request-confirm"); if (b) b.disabled = !(keep.size > 0 && ui.idType && ui.personName.trim()); } }) : null] : null,
    needsID ? [h("div", { class: "label" }, t("staff.request.idtype")), chips(idTypes, ui.idType, (x) => { ui.idType = x; render(); }, "staff.id.", "id")] : null,
    override ? [h("div", { class: "label" }, t("staff.request.override")), chips(overrideReasons, ui.reason, (x) => { ui.reason = x; render(); }, "staff.reason.", "reason")] : null,
    h("div", { class: "actions" },
      button(t("staff.back"), back, "secondary"),
      button(t("staff.request.refuse"), () => { ui.refuse = true; ui.reason = ""; render(); }, "danger", { id: "request-refuse" }),
      button(t("staff.request.confirm"), confirm, "primary", { id: "request-confirm", disabled: !ready })));
}

// staffRoll is the emergency roll call: one big "present" button per
// person not yet counted, a clear counted state, the count on top, and a
// question before ending with people uncounted.
function staffRoll(s) {
  const rc = s.roll_call;
  const ui = state.ui;
  if (!rc) {
    ui.rollEndAsk = false;
    return h("div", { class: "roll-start" }, button(t("staff.roll.start"), () => manual("roll_call_start"), "danger big", { id: "roll-start" }));
  }
  const people = rc.people || [];
  const missing = people.filter((p) => !p.accounted);
  const end = () => {
    if (missing.length && !ui.rollEndAsk) {
      ui.rollEndAsk = true;
      render();
      return;
    }
    ui.rollEndAsk = false;
    manual("roll_call_end");
  };
  return [
    h("div", { class: "roll-head" },
      h("div", {},
        h("div", { class: "roll-missing" + (missing.length ? " bad" : " good"), id: "roll-missing" },
          missing.length ? t("staff.roll.counted", { n: people.length - missing.length, total: people.length }) : t("staff.roll.all")),
        h("div", { class: "roll-started" }, t("staff.roll.started", { time: clock(rc.started) }))),
      button(t("staff.roll.end"), end, "secondary", { id: "roll-end" })),
    h("ul", { class: "rows roll", id: "roll" }, people.map((p) => h("li", { class: "row roll-row" + (p.accounted ? " accounted" : ""), data: { person: p.id } },
      h("span", { class: "row-name" }, p.name),
      h("span", { class: "row-meta" }, (p.group || "") + " · " + t(p.kind === "staff" ? "staff.roll.staff" : "staff.roll.child")),
      p.accounted
        ? h("span", { class: "marked" }, t("staff.roll.marked"))
        : button(t("staff.roll.mark"), () => manual("roll_call_mark", p.kind === "staff" ? { staff_id: p.id } : { child_id: p.id }), "primary roll-mark", { data: { mark: p.id } })))),
    ui.rollEndAsk && missing.length ? renderRollEndAsk(missing) : null,
  ];
}

function renderRollEndAsk(missing) {
  const kids = missing.filter((p) => p.kind !== "staff");
  const staff = missing.filter((p) => p.kind === "staff");
  const who = [kids.length ? count(state.lang, kids.length, "child") : "", staff.length ? count(state.lang, staff.length, "staff") : ""].filter(Boolean).join(" " + t("and") + " ");
  return h("div", { class: "sheet-backdrop" }, h("div", { class: "sheet", role: "alertdialog", id: "roll-end-ask" },
    h("p", { class: "ask" }, t("staff.roll.end_ask", { who, names: kids.concat(staff).map((p) => p.name).join(", ") })),
    h("div", { class: "actions" },
      button(t("staff.roll.keep"), () => { state.ui.rollEndAsk = false; render(); }, "primary", { id: "roll-keep" }),
      button(t("staff.roll.end_sure"), () => { state.ui.rollEndAsk = false; manual("roll_call_end"); }, "danger", { id: "roll-end-sure" }))));
}

function staffSystem() {
  const s = state.status || {};
  const sync = s.sync || {};
  const readers = Array.isArray(s.readers) ? s.readers : [];
  const line = (label, ok, text) => h("li", { class: "row" }, dot(ok), h("span", { class: "row-name" }, label), h("span", { class: "row-meta" }, text));
  return [
    h("h2", {}, t("staff.system.readers")),
    h("ul", { class: "rows", id: "readers" }, readers.length ? readers.map((r) => line(r.reader, !!r.ok, [r.kind, r.chip, r.error, r.ok ? t("status.ok") : t("status.bad")].filter(Boolean).join(" · "))) : line(t("status.readers_none"), false, "")),
    h("h2", {}, t("staff.system.sync")),
    h("ul", { class: "rows", id: "sync" }, line(t("status.sync." + (sync.state || "disabled")), sync.state !== "offline",
      [sync.pending !== undefined ? t("staff.system.pending", { n: sync.pending }) : "", sync.quarantined ? t("staff.system.quarantined", { n: sync.quarantined }) : "", sync.last_sync ? t("staff.system.last_sync", { time: clock(sync.last_sync) }) : ""].filter(Boolean).join(" · "))),
    h("ul", { class: "rows" },
      line(t("staff.system.clock"), !!s.clock_synced, t(s.clock_synced ? "status.clock.ok" : "status.clock.bad")),
      line(t("staff.system.storage"), s.storage_ok !== false, t(s.storage_ok !== false ? "status.ok" : "status.bad")),
      line(t("staff.system.screen"), state.conn === "up", t("conn." + state.conn))),
  ];
}

// ---------- demo card panel ----------

async function loadCards() {
  try {
    const r = await fetch("/api/v1/sim/cards", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    state.cards = await r.json();
    state.drawerError = "";
  } catch (e) {
    state.drawerError = String(e.message || e);
  }
  renderDrawer();
}

async function simTap(card) {
  state.drawer = false;
  renderDrawer();
  unlock();
  try {
    const r = await fetch("/api/v1/sim/tap", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ reader: card.reader || "entrance", uid: card.uid }),
    });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      throw new Error(body.error || "HTTP " + r.status);
    }
  } catch (e) {
    state.drawer = true;
    state.drawerError = t("demo.failed", { error: String(e.message || e) });
    renderDrawer();
  }
}

function renderDrawer() {
  const el = document.getElementById("demo-drawer");
  const open = state.drawer && state.demo;
  el.hidden = !open;
  if (!open) {
    el.replaceChildren(); // nothing from the demo notes stays in the DOM
    return;
  }
  const cards = state.cards || [];
  el.replaceChildren();
  append(el, [
    h("header", { class: "drawer-head" }, h("h2", {}, t("demo.title")), button(t("demo.close"), () => { state.drawer = false; renderDrawer(); }, "small secondary", { id: "demo-close" })),
    h("p", { class: "muted small" }, t("demo.hint")),
    state.drawerError ? h("p", { class: "drawer-error" }, state.drawerError) : null,
    h("ul", { class: "cards" }, cards.map((c) => h("li", {}, h("button", { type: "button", class: "card-btn role-" + (c.role || "unknown"), data: { uid: c.uid }, onclick: () => simTap(c) },
      h("span", { class: "card-holder" }, c.holder),
      h("span", { class: "card-role" }, t("role." + (c.role || ""))),
      c.children && c.children.length ? h("span", { class: "card-kids" }, c.children.join(", ")) : null,
      c.note ? h("span", { class: "card-note" }, c.note) : null)))),
  ]);
}

// ---------- timers and input ----------

function tick() {
  const ms = Date.now();
  let dirty = false;
  if (state.decision && ms > state.decisionUntil) {
    clearDecision();
    dirty = true;
  }
  if (state.staff && state.staffDeadline && ms > state.staffDeadline + 1500) {
    // The server locks the session itself; this is the backstop.
    send({ type: "lock" });
    setStaff(null);
    dirty = true;
  }
  if (state.ui.toast && ms > state.ui.toastUntil) {
    state.ui.toast = "";
    dirty = true;
  }
  if (state.lang !== defaultLanguage && !state.decision && !state.staff && ms - state.idleSince > IDLE_LANG_RESET_MS) {
    state.lang = defaultLanguage;
    dirty = true;
  }
  if (dirty) {
    render();
    return;
  }
  const scr = document.body.dataset.screen;
  if (scr === "idle") {
    const c = document.getElementById("clock");
    const d = new Date(now());
    const txt = fmtTime(d);
    if (c && c.textContent !== txt) {
      c.textContent = txt;
      document.getElementById("date").textContent = fmtDate(d);
    }
  } else if (scr === "staff" || scr === "pin") {
    const el = document.getElementById("locks-in");
    if (el) el.textContent = t("staff.locks_in", { s: Math.max(0, Math.ceil((state.staffDeadline - ms) / 1000)) });
  }
}

function onActivity() {
  unlock();
  if (!state.staff) return;
  const ms = Date.now();
  if (state.lockAfter) state.staffDeadline = Math.max(state.staffDeadline, ms + state.lockAfter);
  if (ms - state.ui.lastActivity > ACTIVITY_EVERY_MS) {
    state.ui.lastActivity = ms;
    send({ type: "activity" });
  }
}

function start() {
  document.addEventListener("pointerdown", onActivity, { passive: true });
  document.addEventListener("contextmenu", (e) => e.preventDefault());
  document.addEventListener("gesturestart", (e) => e.preventDefault());
  document.addEventListener("touchmove", (e) => { if (e.touches && e.touches.length > 1) e.preventDefault(); }, { passive: false });
  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "nl" ? "en" : "nl";
    state.idleSince = Date.now();
    render();
  });
  document.getElementById("demo-open").addEventListener("click", () => {
    state.drawer = !state.drawer;
    if (state.drawer) loadCards();
    renderDrawer();
  });
  render();
  connect();
  setInterval(tick, 250);
}

start();
