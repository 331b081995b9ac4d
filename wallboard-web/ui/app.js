// The wallboard: connects to /ws, renders queue tiles, the intraday strip and
// the agent grid, and says when its data is stale. Every name that comes from
// events is set with textContent, never parsed as HTML.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const state = {
    lang: pickLang(),
    theme: params.get("theme") || localStorage.getItem("wb.theme") || "dark",
    kiosk: params.get("kiosk") === "1",
    layout: params.get("layout") || "full",
    variant: params.get("variant"),
    threshold: params.get("threshold") ? Number(params.get("threshold")) : null,
    tenant: params.get("tenant") || "",
    queues: (params.get("queues") || "").split(",").filter(Boolean),
    token: params.get("token") || "",
    last: null, // last push
    lastAt: 0, // performance.now() of the last push
    offset: 0, // server clock minus local clock, ms
    connected: false,
    retry: 0,
  };
  window.wallboard = state; // for tests and debugging

  function pickLang() {
    const p = params.get("lang") || localStorage.getItem("wb.lang");
    if (p && window.I18N[p]) return p;
    return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  }

  function t(key, vars) {
    let s = (window.I18N[state.lang] || window.I18N.en)[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- formatting ---------------------------------------------------------
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%");
  function dur(ms) {
    if (ms === null || ms === undefined) return "–";
    const s = Math.max(0, Math.round(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }
  const serverNow = () => Date.now() + state.offset;
  // A time of day in the centre's time zone.
  function hm(ms, seconds) {
    const tz = state.last && state.last.snapshot ? state.last.snapshot.tz : undefined;
    const opts = { hour: "2-digit", minute: "2-digit", timeZone: tz };
    if (seconds) opts.second = "2-digit";
    try {
      return new Date(ms).toLocaleTimeString(state.lang, opts);
    } catch (e) {
      return new Date(ms).toLocaleTimeString(state.lang);
    }
  }
  // Milliseconds since the server produced the last push (while connected).
  const sincePush = () => (state.connected && state.last ? Math.max(0, serverNow() - state.last.server_ms) : 0);

  // ---- chrome -------------------------------------------------------------
  function applyChrome() {
    document.documentElement.lang = state.lang;
    document.body.dataset.theme = state.theme;
    document.body.classList.toggle("kiosk", state.kiosk);
    document.body.dataset.layout = state.layout;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    document.getElementById("lang").textContent = t("lang_other");
    document.getElementById("theme").textContent = state.theme === "dark" ? t("theme_light") : t("theme_dark");
  }

  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "zh-CN" : "en";
    localStorage.setItem("wb.lang", state.lang);
    applyChrome();
    render();
  });
  document.getElementById("theme").addEventListener("click", () => {
    state.theme = state.theme === "dark" ? "light" : "dark";
    localStorage.setItem("wb.theme", state.theme);
    applyChrome();
  });
  document.getElementById("kiosk").addEventListener("click", () => {
    state.kiosk = true;
    applyChrome();
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  });

  // ---- connection ---------------------------------------------------------
  function connect() {
    const q = new URLSearchParams();
    if (state.tenant) q.set("tenant", state.tenant);
    if (state.queues.length) q.set("queues", state.queues.join(","));
    if (state.token) q.set("token", state.token);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws?${q}`);
    ws.onopen = () => {
      state.connected = true;
      state.retry = 0;
      freshness();
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type !== "snapshot") return;
      state.last = msg;
      state.lastAt = performance.now();
      state.offset = msg.server_ms - Date.now();
      render();
      freshness();
    };
    ws.onclose = () => {
      state.connected = false;
      freshness();
      // Reconnect with capped backoff; a fresh snapshot arrives on connect.
      const delay = Math.min(10000, 500 * 2 ** state.retry++);
      setTimeout(connect, delay);
    };
    ws.onerror = () => ws.close();
  }

  // How old the data is: freshness.js decides (docs/metrics.md, "Freshness").
  function freshness() {
    window.wallboardFreshness.show(state, t);
    document.getElementById("clock").textContent = hm(serverNow(), true);
  }

  // ---- rendering ----------------------------------------------------------
  function slOf(row, target) {
    const variant = state.variant || target.sl_variant || "sl3";
    const thr = String(state.threshold || target.sl_threshold_s || 20);
    const v = row.sl[thr] || Object.values(row.sl)[0] || {};
    return { value: v[variant] ?? null, variant, thr };
  }

  function colour(value, goal) {
    if (value === null || value === undefined) return "none";
    if (value >= goal) return "good";
    if (value >= goal - 0.05) return "warn";
    return "bad";
  }

  function metric(cls, label, value, raw, extra) {
    const d = el("div", "metric " + cls);
    d.append(el("span", "label", label));
    const v = el("span", "value", value);
    if (raw !== undefined) v.dataset.raw = raw === null ? "null" : String(raw);
    d.append(v);
    if (extra) d.append(extra);
    return d;
  }

  function tile(q, target) {
    const card = el("article", "tile");
    card.dataset.queue = q.queue;
    const name = q.queue === "*" ? t("all_queues") : target.label || q.queue;
    card.append(el("h2", "qname", name));
    const cur = slOf(q.interval, target);
    const roll = slOf(q.rolling, target);
    const day = slOf(q.today, target);
    const waitingCls = target.max_waiting && q.waiting >= target.max_waiting ? "bad" : q.waiting > 0 ? "warn" : "good";
    const big = el("div", "big");
    big.append(metric("waiting " + waitingCls, t("waiting"), q.waiting, q.waiting));
    // Longest wait keeps counting between pushes.
    const oldest = q.oldest_wait_ms === null ? null : q.oldest_wait_ms + sincePush();
    big.append(metric("longest", t("longest"), dur(oldest), q.oldest_wait_ms));
    big.append(
      metric(
        "sl " + colour(cur.value, target.sl_target),
        `${t("sl")} ${cur.variant.toUpperCase()}@${cur.thr}s · ${t("interval")}`,
        pct(cur.value),
        cur.value,
        el("span", "goal", `${t("target")} ${pct(target.sl_target)}`)
      )
    );
    card.append(big);
    const small = el("div", "small");
    const n = state.last.snapshot.rolling_window_minutes;
    small.append(metric("sl-rolling " + colour(roll.value, target.sl_target), t("rolling", { n }), pct(roll.value), roll.value));
    small.append(metric("sl-today " + colour(day.value, target.sl_target), t("today"), pct(day.value), day.value));
    small.append(metric("asa", t("asa"), dur(q.interval.asa_ms), q.interval.asa_ms));
    small.append(metric("aht", t("aht"), dur(q.interval.aht_ms), q.interval.aht_ms));
    small.append(metric("abandon", t("abandon_rate"), pct(q.interval.abandon_rate), q.interval.abandon_rate));
    small.append(metric("offered", t("offered"), q.interval.offered, q.interval.offered));
    card.append(small);
    const states = el("div", "states");
    for (const s of ["available", "ringing", "on_call", "acw", "not_ready"]) {
      const b = el("span", "st " + s);
      b.dataset.state = s;
      b.append(el("b", null, q.agents[s]), el("span", null, " " + t(s)));
      states.append(b);
    }
    card.append(states);
    return card;
  }

  function intradayRow(q, target, snap) {
    const row = el("div", "strip");
    row.dataset.queue = q.queue;
    row.append(el("span", "qname", q.queue === "*" ? t("all_queues") : target.label || q.queue));
    const cells = el("span", "cells");
    for (const p of q.intraday || []) {
      const v = slOf(p, target).value;
      const c = el("span", "cell " + colour(v, target.sl_target));
      c.title = hm(p.start_ms) + " " + pct(v);
      if (p.start_ms === snap.interval_start_ms) c.classList.add("current");
      cells.append(c);
    }
    row.append(cells);
    return row;
  }

  function agentCard(a, now) {
    const c = el("div", "agent " + a.state);
    c.dataset.agent = a.agent;
    c.append(el("span", "aname", a.agent));
    c.append(el("span", "atime", a.since_ms === null ? "" : dur(now - a.since_ms)));
    const st = t(a.state) + (a.reason ? " · " + a.reason : "");
    c.append(el("span", "astate", st));
    c.append(el("span", "aqueue", a.queues.join(", ")));
    if (a.call) c.append(el("span", "acall", a.call));
    if (a.out_of_adherence_since_ms !== null) {
      c.classList.add("ooa");
      c.append(el("span", "flag", `${t("out_of_adherence")} ${t("since")} ${dur(now - a.out_of_adherence_since_ms)}`));
    }
    return c;
  }

  function banner(alerts) {
    const b = document.getElementById("alerts");
    const live = (alerts || []).filter((a) => !a.acknowledged);
    b.hidden = live.length === 0;
    b.replaceChildren(
      ...live.map((a) => {
        const line = el("div", "alert " + a.severity);
        line.dataset.rule = a.rule;
        line.append(el("b", null, a.severity.toUpperCase() + " "), el("span", null, a.summary));
        return line;
      })
    );
  }

  function render() {
    const msg = state.last;
    if (!msg) return;
    banner(msg.alerts);
    document.getElementById("tenant").textContent = msg.tenant;
    const tiles = document.getElementById("tiles");
    const strip = document.getElementById("intraday");
    const agents = document.getElementById("agents");
    const snap = msg.snapshot;
    if (!snap) {
      tiles.replaceChildren(el("p", "empty", t("no_data")));
      return;
    }
    const targets = new Map(msg.targets.map((x) => [x.name, x]));
    const target = (q) => targets.get(q) || { sl_variant: "sl3", sl_threshold_s: snap.sl_thresholds_s[0], sl_target: 0.8 };
    document.getElementById("interval").textContent =
      hm(snap.interval_start_ms) + "–" + hm(snap.interval_end_ms) + (snap.tz === "UTC" ? " UTC" : "");
    tiles.replaceChildren(...snap.queues.map((q) => tile(q, target(q.queue))));
    strip.replaceChildren(...snap.queues.map((q) => intradayRow(q, target(q.queue), snap)));
    const now = snap.now_ms + sincePush();
    agents.replaceChildren(...snap.agents.filter((a) => a.state !== "logged_out" || a.adherent === false).map((a) => agentCard(a, now)));
  }

  // Time-based text (ages, longest wait) moves on every second.
  setInterval(() => {
    freshness();
    render();
  }, 1000);

  applyChrome();
  freshness();
  connect();
})();
