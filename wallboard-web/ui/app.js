// The wallboard: connects to /ws, renders queue tiles, the intraday chart and
// the agent view, and says when its data is stale. In kiosk mode the board
// fills the screen: tiles, chart and agents are sized from the viewport and
// paged when more than fit legibly. Every name that comes from events or the
// configuration is set with textContent, never parsed as HTML.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const list = (v) => (v || "").split(",").filter(Boolean);
  const state = {
    lang: pickLang(),
    theme: params.get("theme") || localStorage.getItem("wb.theme") || "dark",
    kiosk: params.get("kiosk") === "1",
    layout: params.get("layout") || "full",
    variant: params.get("variant"),
    threshold: params.get("threshold") ? Number(params.get("threshold")) : null,
    tenant: params.get("tenant") || "",
    queues: list(params.get("queues")),
    token: params.get("token") || "",
    board: null, // the [[boards]] entry named by ?board=
    display: null, // the server's display configuration
    sort: params.get("sort") || "state",
    teams: list(params.get("team")),
    compact: params.get("compact") === "1",
    sound: params.get("sound") === "1",
    allQueues: params.get("all"),
    pageS: params.get("page") ? Number(params.get("page")) : null,
    chartQueue: params.get("chart"),
    missing: new Set(), // i18n keys without a string (tests read it)
    chimes: 0, // chimes played (tests read it)
    chimed: new Set(),
    deltas: 0, // deltas applied (tests read it)
    last: null, // last push, a snapshot (deltas applied)
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
    let s = (window.I18N[state.lang] || window.I18N.en)[key];
    if (s === undefined) {
      state.missing.add(state.lang + ":" + key);
      s = key;
    }
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
  const int = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString(state.lang));
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

  // ---- options: URL over board over [display] ------------------------------
  const opt = {
    pageS: () => state.pageS || state.board?.page_s || state.display?.display.page_s || 15,
    allQueues: () => state.allQueues || state.board?.all_queues || state.display?.display.all_queues || "first",
    compact: () => state.compact || !!state.board?.compact,
    sound: () => state.sound || !!state.board?.sound || !!state.display?.display.sound,
    teams: () => (state.teams.length ? state.teams : state.board?.teams || []),
    queues: () => (state.queues.length ? state.queues : state.board?.queues || []),
    layout: () => params.get("layout") || state.board?.layout || "full",
  };

  // ---- chrome -------------------------------------------------------------
  function applyChrome() {
    document.documentElement.lang = state.lang;
    document.body.dataset.theme = state.theme;
    document.body.classList.toggle("kiosk", state.kiosk);
    document.body.classList.toggle("compact", opt.compact());
    state.layout = opt.layout();
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
    render();
  });
  document.getElementById("kiosk").addEventListener("click", () => {
    state.kiosk = true;
    applyChrome();
    render();
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  });
  document.getElementById("sort").addEventListener("change", (e) => {
    state.sort = e.target.value;
    render();
  });
  document.getElementById("team").addEventListener("change", (e) => {
    state.teams = list(e.target.value);
    render();
  });
  window.addEventListener("resize", () => render());

  // ---- connection ---------------------------------------------------------
  function connect() {
    const q = new URLSearchParams();
    if (state.tenant) q.set("tenant", state.tenant);
    if (opt.queues().length) q.set("queues", opt.queues().join(","));
    if (state.token) q.set("token", state.token);
    // After the first snapshot only what changed (docs/architecture.md,
    // "WebSocket fan-out"): applyDelta rebuilds the snapshot.
    q.set("delta", "1");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws?${q}`);
    ws.onopen = () => {
      state.connected = true;
      state.retry = 0;
      freshness();
    };
    ws.onmessage = (m) => {
      let msg = JSON.parse(m.data);
      if (msg.type === "display") return onDisplay(ws, msg);
      if (msg.type === "delta") {
        const whole = applyDelta(state.last, msg);
        // Not a delta of what this board holds (never sent): start over
        // with a full snapshot.
        if (!whole) return ws.close();
        msg = whole;
        state.deltas++;
      } else if (msg.type !== "snapshot") return;
      state.last = msg;
      state.lastAt = performance.now();
      state.offset = msg.server_ms - Date.now();
      // Messages at once (cheap); the board once for a burst of pushes, so
      // a slow screen never falls behind the pushes.
      floorMessages(msg.snapshot, new Map(msg.targets.map((x) => [x.name, x])));
      if (!state.renderQueued) {
        state.renderQueued = true;
        setTimeout(() => {
          state.renderQueued = false;
          render();
          freshness();
        }, 0);
      }
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

  // The snapshot a delta stands for, from the snapshot it is a delta of
  // (docs/architecture.md, "WebSocket fan-out": a string is the base's row
  // of that name; a queue row's intraday_from keeps the base's first
  // points). null when the delta is not of `base`.
  function applyDelta(base, d) {
    if (!base || !base.snapshot || base.version === undefined || base.version !== d.base) return null;
    const queues = new Map(base.snapshot.queues.map((q) => [q.queue, q]));
    const agents = new Map(base.snapshot.agents.map((a) => [a.agent, a]));
    let whole = true;
    const row = (map, r) => {
      const old = map.get(r);
      if (old === undefined) whole = false;
      return old;
    };
    const queue = (q) => {
      if (typeof q === "string") return row(queues, q);
      if (q.intraday_from === undefined) return q;
      const old = row(queues, q.queue);
      if (!old) return q;
      const { intraday_from: k, ...rest } = q;
      return { ...rest, intraday: old.intraday.slice(0, k).concat(q.intraday) };
    };
    const snapshot = {
      ...d.snapshot,
      queues: d.snapshot.queues.map(queue),
      agents: d.snapshot.agents.map((a) => (typeof a === "string" ? row(agents, a) : a)),
    };
    if (!whole) return null;
    const { base: _, ...rest } = d;
    return { ...rest, type: "snapshot", snapshot };
  }

  state.applyDelta = applyDelta; // for tests

  // The display configuration comes first on every connection. A board
  // named in the URL may choose the queues: subscribe to them.
  function onDisplay(ws, msg) {
    const hadBoard = !!state.board;
    state.display = msg;
    state.agentInfo = new Map(msg.agents.map((a) => [a.id, a]));
    state.reasonLabels = new Map(msg.reasons.map((r) => [r.code, r.labels]));
    const name = params.get("board");
    state.board = name ? msg.boards.find((b) => b.name === name) || null : null;
    applyChrome();
    if (state.board && !hadBoard && !state.queues.length && state.board.queues.length) {
      ws.send(JSON.stringify({ type: "subscribe", tenant: state.tenant || undefined, queues: state.board.queues }));
    }
  }

  // How old the data is: freshness.js decides (docs/metrics.md, "Freshness").
  function freshness() {
    window.wallboardFreshness.show(state, t);
    document.getElementById("clock").textContent = hm(serverNow(), true);
  }

  // ---- colours ------------------------------------------------------------
  // Never colour alone: every coloured number also gets a shape.
  const MARKS = { good: "✓", warn: "▲", bad: "✖" };

  /** Higher is worse: amber at or above `band.amber`, red at or above `band.red`. */
  function banded(value, band) {
    if (value === null || value === undefined || !band) return "none";
    if (value >= band.red) return "bad";
    if (value >= band.amber) return "warn";
    return "good";
  }

  /** Service level: green at or above target, amber within `sl_amber` below. */
  function colour(value, target) {
    if (value === null || value === undefined) return "none";
    if (value >= target.sl_target) return "good";
    if (value >= target.sl_target - (target.sl_amber ?? 0.05)) return "warn";
    return "bad";
  }

  function waitingBand(target) {
    if (target.waiting) return target.waiting;
    return target.max_waiting ? { amber: 1, red: target.max_waiting } : null;
  }

  // ---- queues -------------------------------------------------------------
  function queueLabel(name, target) {
    if (name === "*") return t("all_queues");
    return (target && ((target.labels || {})[state.lang] || target.label)) || name;
  }

  /** The SL to show; `missing` when the engine does not compute that threshold. */
  function slOf(row, target) {
    const variant = state.variant || target.sl_variant || "sl3";
    const thr = String(state.threshold || target.sl_threshold_s || 20);
    const v = row.sl[thr];
    if (!v) return { value: null, variant, thr, missing: true };
    return { value: v[variant] ?? null, variant, thr, missing: false };
  }

  function metric(cls, label, value, raw, status, extra) {
    const d = el("div", "metric " + cls + " " + (status || "none"));
    d.dataset.metric = cls.split(" ")[0];
    d.append(el("span", "label", label));
    const line = el("span", "vline");
    const v = el("span", "value", value);
    if (raw !== undefined) v.dataset.raw = raw === null ? "null" : String(raw);
    line.append(v);
    if (MARKS[status]) {
      const m = el("span", "mark", MARKS[status]);
      m.title = t("status_" + status);
      m.setAttribute("aria-label", t("status_" + status));
      line.append(m);
    }
    d.append(line);
    if (extra) d.append(extra);
    return d;
  }

  function slMetric(cls, label, sl, target, extra) {
    if (sl.missing) {
      const m = metric(cls + " missing", label, t("sl_not_computed", { v: sl.variant.toUpperCase(), s: sl.thr }), "not_computed", "none", extra);
      return m;
    }
    return metric(cls, label, pct(sl.value), sl.value, colour(sl.value, target), extra);
  }

  // ---- the tile's secondary line ---------------------------------------------
  // The numbers beside the main ones (docs/metrics.md "The queue tile's
  // secondary line"), in priority order: a kiosk tile too narrow for all of
  // them shows the first that fit and "+N" for the rest (tilefit.js), never a
  // cut-off text. The full numbers are in each chip's title.
  const KPI_ORDER = ["plan", "blocked", "csat", "fcr", "qa"];

  function kpiChip(kind, text, status, title) {
    const c = el("span", `kpi ${kind} ${status}`, text);
    c.dataset.kpi = kind;
    if (MARKS[status]) {
      const m = el("span", "mark", MARKS[status]);
      m.title = t("status_" + status);
      m.setAttribute("aria-label", t("status_" + status));
      c.append(m);
    }
    c.title = title;
    return c;
  }

  /** "plan +12 %": today's offered calls against the calls planned up to
   * now, amber with ▲ beyond ±10 % (docs/metrics.md "Forecast vs actual"). */
  function planChip(q) {
    const v = q.forecast ? q.forecast.today.volume_variance_pct : null;
    if (v === null || v === undefined) return null;
    const n = Math.round(v);
    const text = `${n > 0 ? "+" : n < 0 ? "\u2212" : "\u00b1"}${Math.abs(n)} %`;
    const c = kpiChip("plan", `${t("plan_n")} ${text}`, Math.abs(v) > 10 ? "warn" : "none", t("vs_plan_title", {
      v: text, f: Math.round(q.forecast.today.forecast_calls), r: Math.round(q.forecast.today.reforecast_calls),
    }));
    c.dataset.variance = String(v);
    return c;
  }

  /** Calls the queue refused today, once there are any (metrics.md
   * "Blocked calls": never part of Offered); this interval's in the title. */
  function blockedChip(q) {
    const today = q.today.blocked || 0;
    if (!today) return null;
    const now = q.interval.blocked || 0;
    const c = kpiChip("blocked", t("blocked_n", { n: int(today) }), "none", t("blocked_title", { n: int(now), d: int(today) }));
    c.dataset.blocked = String(now);
    c.dataset.blockedToday = String(today);
    return c;
  }

  /** Today's CSAT, FCR and QA, each once there is any (docs/metrics.md
   * "Repeat contacts and FCR", "CSAT and QA"): FCR of the last known day
   * (`fcr_known`), else today's so far (marked ≈). */
  function qualityChips(q) {
    const d = q.today;
    const known = q.fcr_known ? q.fcr_known.fcr : null;
    const soFar = d.repeat_eligible ? 1 - d.repeat_contacts / d.repeat_eligible : null;
    const title = t("quality_title", {
      c: d.surveys ? pct(d.csat) : "–", m: d.surveys ? int(Math.round(d.csat_mean)) : "–", s: int(d.surveys || 0),
      q: d.qa_evaluations ? int(Math.round(d.qa_score)) : "–", e: int(d.qa_evaluations || 0), x: int(d.qa_fatal || 0),
      f: known !== null ? pct(known) : soFar !== null ? `≈${pct(soFar)}` : "–",
      r: int((q.fcr_known || d).repeat_contacts || 0), h: int((q.fcr_known || d).repeat_eligible || 0),
    });
    const chips = [];
    if (d.surveys) chips.push(kpiChip("csat", t("csat_n", { p: pct(d.csat) }), "none", title));
    if (known !== null) chips.push(kpiChip("fcr", t("fcr_n", { p: pct(known) }), "none", title));
    else if (soFar !== null) chips.push(kpiChip("fcr", t("fcr_so_far", { p: pct(soFar) }), "none", title));
    if (d.qa_evaluations) chips.push(kpiChip("qa", t("qa_n", { n: int(Math.round(d.qa_score)) }), "none", title));
    for (const c of chips) c.dataset[c.dataset.kpi] = String({ csat: d.csat, qa: d.qa_score, fcr: known !== null ? known : soFar }[c.dataset.kpi]);
    return chips;
  }

  /** The secondary line of a tile, or null when it has none of its numbers. */
  function kpiLine(q) {
    const rank = (c) => KPI_ORDER.indexOf(c.dataset.kpi);
    const chips = [planChip(q), blockedChip(q), ...qualityChips(q)].filter(Boolean).sort((a, b) => rank(a) - rank(b));
    if (!chips.length) return null;
    const line = el("div", "kpis");
    // "+N", for the chips a narrow kiosk tile leaves out (tilefit.js).
    const more = el("span", "kpi more none", `+${chips.length}`);
    more.hidden = !state.kiosk;
    line.append(...chips, more);
    return line;
  }

  function tile(q, target) {
    const card = el("article", "tile");
    card.dataset.queue = q.queue;
    const inner = el("div", "tile-in");
    const name = el("h2", "qname", queueLabel(q.queue, target));
    name.title = name.textContent;
    inner.append(name);
    const cur = slOf(q.interval, target);
    const big = el("div", "big");
    big.append(withShort(metric("waiting", t("waiting"), int(q.waiting), q.waiting, banded(q.waiting, waitingBand(target))), t("waiting_short")));
    // Longest wait keeps counting between pushes.
    const oldest = q.oldest_wait_ms === null ? null : q.oldest_wait_ms + sincePush();
    const oldestS = oldest === null ? 0 : oldest / 1000;
    big.append(withShort(metric("longest", t("longest"), dur(oldest), q.oldest_wait_ms, banded(oldestS, target.longest_wait_s)), t("longest_short")));
    const goal = el("span", "goal", `${t("target")} ${pct(target.sl_target)}`);
    const slm = slMetric("sl", `${cur.variant.toUpperCase()}@${cur.thr}s · ${t("interval")}`, cur, target, goal);
    slm.firstChild.title = t(cur.variant); // the variant's meaning, also in the legend
    big.append(withShort(slm, `${cur.variant.toUpperCase()}@${cur.thr}s`));
    inner.append(big);
    inner.append(smallMetrics(q, target));
    const kpis = kpiLine(q);
    if (kpis) inner.append(kpis);
    const states = el("div", "states");
    for (const s of ["available", "ringing", "on_call", "acw", "not_ready"]) {
      const b = el("span", "st " + s);
      b.dataset.state = s;
      b.title = t(s);
      b.append(el("b", null, q.agents[s]), el("span", null, t("st_" + s)));
      states.append(b);
    }
    inner.append(states);
    card.append(inner);
    return card;
  }

  /** A metric's short label, for a kiosk tile too narrow for its label (tilefit.js). */
  function withShort(m, text) {
    const label = m.querySelector(".label");
    if (text !== label.textContent) label.dataset.short = text;
    return m;
  }

  /**
   * The small numbers in their priority order (docs/metrics.md "The queue
   * tile on the TV": a kiosk tile short of room shows a prefix), then the
   * "+N" for those it leaves out (tilefit.js).
   */
  function smallMetrics(q, target) {
    const small = el("div", "small");
    const n = state.last.snapshot.rolling_window_minutes;
    const [staff, met] = staffingMetrics(q);
    const asa = q.interval.asa_ms;
    const ab = q.interval.abandon_rate;
    small.append(
      slMetric("sl-rolling", t("rolling", { n }), slOf(q.rolling, target), target),
      staff,
      withShort(metric("abandon", t("abandon_rate"), pct(ab), ab, banded(ab, target.abandon_rate)), t("abandon_short")),
      withShort(metric("asa", t("asa"), dur(asa), asa, banded(asa === null ? null : asa / 1000, target.asa_s)), t("asa_short")),
      slMetric("sl-today", t("today"), slOf(q.today, target), target),
      metric("offered", t("offered"), int(q.interval.offered), q.interval.offered),
      withShort(metric("aht", t("aht"), dur(q.interval.aht_ms), q.interval.aht_ms), t("aht_short")),
      withShort(met, t("attained_short")),
    );
    // Their widest usual values (tilefit.js keeps room for them).
    const samples = { "sl-rolling": "100.0%✓", staffing: "00 · 00✓", abandon: "100.0%✓", asa: "00:00✓", "sl-today": "100.0%✓", offered: "0000", aht: "00:00", attained: "00/00" };
    for (const m of small.children) m.dataset.sample = samples[m.dataset.metric];
    const more = el("span", "more");
    more.hidden = true;
    small.append(more);
    return small;
  }

  /** "Need · have" (Erlang C's agents for the goal now, and those taking
   * calls; red when short) and today's intervals that met the goal
   * (docs/metrics.md "Live staffing", "Intraday attainment"). */
  function staffingMetrics(q) {
    const st = q.staffing;
    const need = st.required_agents;
    const short = st.gap === null ? "none" : st.gap > 0 ? "bad" : "good";
    const staff = metric("staffing", t("need_have"), `${int(need)} · ${int(st.serving)}`, need, short);
    staff.dataset.need = need === null ? "null" : String(need);
    staff.dataset.have = String(st.serving);
    staff.title = t("need_have_title", { s: st.threshold_s, p: pct(st.target) });
    const at = q.attainment;
    const met = metric("attained", t("attained"), at.intervals ? `${int(at.met)}/${int(at.intervals)}` : "–", at.share);
    met.dataset.met = String(at.met);
    met.dataset.intervals = String(at.intervals);
    met.title = t("attained_title", { v: at.variant.toUpperCase(), s: at.threshold_s, p: pct(at.target) });
    return [staff, met];
  }

  /** Queues in board order: configured `order`, `[[queues]]` order, or the URL's. */
  function ordered(queues) {
    const explicit = opt.queues();
    const conf = state.display ? state.display.queues : [];
    const rank = (name) => {
      const i = explicit.indexOf(name);
      if (explicit.length) return [i < 0 ? 1e9 : i, 0, name];
      const c = conf.findIndex((x) => x.name === name);
      const order = c >= 0 && conf[c].order !== null && conf[c].order !== undefined ? conf[c].order : 1e9;
      return [order, c < 0 ? 1e9 : c, name];
    };
    const cmp = (a, b) => {
      const x = rank(a.queue), y = rank(b.queue);
      return x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2], "en", { numeric: true });
    };
    const all = queues.filter((q) => q.queue === "*");
    const rest = queues.filter((q) => q.queue !== "*").sort(cmp);
    switch (opt.allQueues()) {
      case "hidden":
        return rest;
      case "last":
        return rest.concat(all);
      default:
        return all.concat(rest);
    }
  }

  // ---- paging -------------------------------------------------------------
  /** The page shown now: pages turn every `page_s`, in step on every screen. */
  function currentPage(count) {
    return count <= 1 ? 0 : Math.floor(serverNow() / 1000 / opt.pageS()) % count;
  }

  function pager(id, count, index) {
    const p = document.getElementById(id);
    p.hidden = count <= 1;
    if (count <= 1) return p.replaceChildren();
    const dots = el("span", "dots", Array.from({ length: count }, (_, i) => (i === index ? "●" : "○")).join(""));
    dots.setAttribute("aria-hidden", "true");
    p.replaceChildren(el("span", "pagetext", t("page", { n: index + 1, m: count })), dots);
    p.dataset.page = String(index + 1);
    p.dataset.pages = String(count);
  }

  // Smallest legible tile in kiosk mode, from the viewport.
  function minTile() {
    const short = Math.min(window.innerWidth, window.innerHeight);
    return { w: Math.max(240, short * 0.27), h: Math.max(150, short * 0.16) };
  }

  function renderTiles(snap, target) {
    const box = document.getElementById("tiles");
    const queues = ordered(snap.queues);
    if (!state.kiosk) {
      pager("tiles-pager", 1, 0);
      return box.replaceChildren(...queues.map((q) => tile(q, target(q.queue))));
    }
    const w = box.clientWidth, h = box.clientHeight;
    const min = minTile();
    // A 2 % margin on the smallest legible tile: the few fixed pixels of
    // borders and gaps weigh half as much at 4K as at 1080p, and must not
    // give the sharper screen another row of smaller tiles.
    const fit = window.WBLayout.capacity(w, h, min.w * 1.02, min.h * 1.02);
    const pages = window.WBLayout.pages(queues, fit);
    const index = currentPage(pages.length);
    const page = pages[index];
    // Rows of tiles; a row with fewer tiles has wider ones (--tw per row).
    const g = window.WBLayout.grid(page.length, w, h, min.w, min.h);
    const gap = parseFloat(getComputedStyle(box).rowGap) || 0;
    box.style.setProperty("--th", ((h - gap * (g.rows.length - 1)) / g.rows.length).toFixed(1) + "px");
    let next = 0;
    const rows = g.rows.map((count) => {
      const row = el("div", "trow");
      const tw = (w - gap * (count - 1)) / count;
      row.style.setProperty("--tw", tw.toFixed(1) + "px");
      // Tall tiles put the SL on a line of its own, as large as it fits.
      row.classList.toggle("tall", tw / (h / g.rows.length) < 1.35);
      row.append(...page.slice(next, next + count).map((q) => tile(q, target(q.queue))));
      next += count;
      return row;
    });
    box.replaceChildren(...rows);
    window.WBTileFit.fit(box, t);
    pager("tiles-pager", pages.length, index);
  }

  // ---- agents -------------------------------------------------------------
  const STATE_ORDER = ["not_ready", "acw", "ringing", "on_call", "available", "logged_out"];

  function agentName(id) {
    const a = state.agentInfo && state.agentInfo.get(id);
    return (a && a.name) || id;
  }
  const agentTeam = (id) => (state.agentInfo && state.agentInfo.get(id)?.team) || null;

  function reasonLabel(code) {
    if (!code) return t("reason_none");
    const conf = state.reasonLabels && state.reasonLabels.get(code);
    if (conf && conf[state.lang]) return conf[state.lang];
    const key = "reason_" + code;
    const dict = window.I18N[state.lang] || window.I18N.en;
    return dict[key] !== undefined ? dict[key] : code;
  }

  function timeBand(a, ms) {
    const limits = state.display ? state.display.display.state_limits_s : null;
    return banded(ms / 1000, limits && limits[a.state]);
  }

  function agentCard(a, now) {
    const c = el("div", "agent " + a.state);
    c.dataset.agent = a.agent;
    const name = el("span", "aname", agentName(a.agent));
    name.title = name.textContent;
    c.append(name);
    const ms = a.since_ms === null ? null : now - a.since_ms;
    const band = ms === null ? "none" : timeBand(a, ms);
    const time = el("span", "atime " + band, ms === null ? "" : dur(ms));
    if (MARKS[band] && band !== "good") time.prepend(el("span", "mark", MARKS[band] + " "));
    c.append(time);
    c.dataset.time = band;
    const st = t(a.state) + (a.state === "not_ready" || a.reason ? " · " + reasonLabel(a.reason) : "");
    c.append(el("span", "astate", st));
    const team = agentTeam(a.agent);
    c.append(el("span", "aqueue", (team ? team + " · " : "") + a.queues.join(", ")));
    if (a.call) c.append(el("span", "acall", a.call));
    if (a.out_of_adherence_since_ms !== null) {
      c.classList.add("ooa");
      // The duration first and never cut: a narrow card may shorten the words.
      const flag = el("span", "flag");
      flag.append(el("b", "ooa-time", dur(now - a.out_of_adherence_since_ms)), el("span", "ooa-label", t("out_of_adherence")));
      c.append(flag);
    }
    return c;
  }

  function agentList(snap, now) {
    const teams = opt.teams();
    const shown = snap.agents.filter(
      (a) => (a.state !== "logged_out" || a.adherent === false) && (!teams.length || teams.includes(agentTeam(a.agent)))
    );
    const byName = (a, b) => agentName(a.agent).localeCompare(agentName(b.agent), state.lang);
    const since = (a) => (a.since_ms === null ? now : a.since_ms);
    const byState = (a, b) =>
      STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || since(a) - since(b) || byName(a, b);
    return shown.sort(state.sort === "name" ? byName : byState);
  }

  function counts(agents) {
    const box = document.getElementById("agent-counts");
    const by = {}, reasons = new Map();
    for (const a of agents) {
      by[a.state] = (by[a.state] || 0) + 1;
      if (a.state === "not_ready") reasons.set(a.reason || "", (reasons.get(a.reason || "") || 0) + 1);
    }
    const chip = (cls, n, label) => {
      const c = el("span", "count " + cls);
      c.append(el("b", null, n), el("span", null, label));
      return c;
    };
    const chips = ["available", "ringing", "on_call", "acw", "not_ready"].map((s) => {
      const c = chip(s, by[s] || 0, t(s));
      c.dataset.state = s;
      return c;
    });
    const rs = el("span", "reasons");
    if (reasons.size) rs.append(el("span", "rlabel", t("not_ready_by_reason")));
    for (const [code, n] of [...reasons].sort((a, b) => b[1] - a[1])) {
      const c = chip("reason", n, reasonLabel(code));
      c.dataset.reason = code;
      rs.append(c);
    }
    box.replaceChildren(...chips, rs);
  }

  function teamOptions() {
    const sel = document.getElementById("team");
    const teams = [...new Set((state.display ? state.display.agents : []).map((a) => a.team).filter(Boolean))].sort();
    const current = opt.teams().join(",");
    const opts = [["", t("all_teams")], ...teams.map((x) => [x, x])].map(([v, label]) => {
      const o = el("option", null, label);
      o.value = v;
      o.selected = v === current;
      return o;
    });
    sel.replaceChildren(...opts);
    sel.hidden = teams.length === 0;
    const sort = document.getElementById("sort");
    for (const o of sort.options) o.textContent = t("sort_" + o.value);
    sort.value = state.sort;
  }

  function renderAgents(snap) {
    const now = snap.now_ms + sincePush();
    const all = agentList(snap, now);
    counts(all);
    teamOptions();
    const box = document.getElementById("agents");
    if (!state.kiosk) {
      pager("agents-pager", 1, 0);
      return box.replaceChildren(...all.map((a) => agentCard(a, now)));
    }
    // Cards have a fixed size in kiosk mode (style.css): page what does not fit.
    const fs = parseFloat(getComputedStyle(box).fontSize) || 16;
    // Card size and gap in the box's em, as in style.css.
    const [cw, ch, g] = opt.compact() ? [10, 1.45, 0.25] : [11.5, 3.4, 0.4];
    const gap = g * fs;
    const cols = Math.max(1, Math.floor((box.clientWidth + gap) / (cw * fs + gap)));
    const rows = Math.max(1, Math.floor((box.clientHeight + gap) / (ch * fs + gap)));
    const pages = window.WBLayout.pages(all, cols * rows);
    const index = currentPage(pages.length);
    box.replaceChildren(...pages[index].map((a) => agentCard(a, now)));
    pager("agents-pager", pages.length, index);
  }

  // ---- alerts and sound ---------------------------------------------------
  const PCT_METRICS = ["service_level", "abandon_rate", "occupancy", "projected_service_level"];
  const SECONDS_METRICS = ["oldest_wait_s", "asa_s", "aht_s"];

  /** A rule's value formatted like the tile shows it. */
  function alertValue(metricName, v) {
    if (v === null || v === undefined) return t("no_value");
    if (PCT_METRICS.includes(metricName)) return pct(v);
    if (SECONDS_METRICS.includes(metricName)) return dur(v * 1000);
    if (metricName === "out_of_adherence_minutes") return dur(v * 60000);
    return int(v);
  }

  const OPS = { "<": "op_lt", "<=": "op_le", ">": "op_gt", ">=": "op_ge" };

  function alertText(a, targets) {
    const agentMetric = a.metric === "out_of_adherence_minutes";
    const metricText =
      a.metric === "service_level"
        ? t("m_service_level", { v: (a.variant || "sl3").toUpperCase(), s: a.sl_threshold_s })
        : t("m_" + a.metric);
    const n = state.last.snapshot ? state.last.snapshot.rolling_window_minutes : 15;
    const window = a.window === "rolling" ? t("rolling", { n }) : t(a.window || "interval");
    return t(agentMetric ? "alert_line_agent" : "alert_line", {
      rule: a.rule,
      subject: agentMetric ? agentName(a.subject) : queueLabel(a.subject, targets.get(a.subject)),
      metric: metricText,
      window,
      value: alertValue(a.metric, a.value),
      op: t(OPS[a.op] || "op_ge"),
      threshold: alertValue(a.metric, a.threshold),
    });
  }

  function banner(alerts, targets) {
    const b = document.getElementById("alerts");
    const live = (alerts || []).filter((a) => !a.acknowledged);
    b.hidden = live.length === 0;
    b.replaceChildren(
      ...live.map((a) => {
        const line = el("div", "alert " + a.severity);
        line.dataset.rule = a.rule;
        const sev = el("b", "sev", (MARKS.bad + " ") + t("sev_" + a.severity) + " ");
        line.append(sev, el("span", null, a.metric ? alertText(a, targets) : a.summary));
        return line;
      })
    );
    chime(live);
  }

  /** One short chime per new critical alert; never again for the same firing. */
  function chime(live) {
    for (const a of live) if (a.severity === "critical") ring(`alert|${a.rule}|${a.subject}|${a.since_ms}`);
  }

  /** Chimes once for `key` (an alert's firing, a message's id), never again. */
  function ring(key) {
    if (state.chimed.has(key)) return;
    state.chimed.add(key);
    if (!opt.sound()) return;
    state.chimes++;
    try {
      const ctx = state.audio || (state.audio = new AudioContext());
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.25, ctx.currentTime);
      g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.6);
      o.connect(g).connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.6);
    } catch (e) {
      // No audio device: the banner still shows.
    }
  }

  /** The floor messages banner (messages.js); a new critical one chimes. */
  function floorMessages(snap, targets) {
    const up = window.WBMessages.render(document.getElementById("messages"), snap ? snap.messages : [], {
      t,
      lang: state.lang,
      now: serverNow(),
      queueLabel: (q) => queueLabel(q, targets.get(q)),
    });
    for (const m of up) if (m.severity === "critical") ring("message|" + m.id);
  }

  // ---- the intraday chart ---------------------------------------------------
  function renderChart(snap, targets, target) {
    const queues = ordered(snap.queues);
    const chosen = queues.find((q) => q.queue === state.chartQueue) || queues[0];
    const sel = document.getElementById("chart-queue");
    sel.replaceChildren(
      ...queues.map((q) => {
        const o = el("option", null, queueLabel(q.queue, targets.get(q.queue)));
        o.value = q.queue;
        o.selected = q === chosen;
        return o;
      })
    );
    if (!chosen) return;
    const tg = target(chosen.queue);
    document.getElementById("chart-title").textContent = queueLabel(chosen.queue, tg);
    const points = (chosen.intraday || []).map((p) => ({ ...p, value: slOf(p, tg).value }));
    // The plan of the rest of the day (docs/metrics.md "Forecast vs actual").
    const ahead = chosen.forecast && chosen.forecast.ahead ? chosen.forecast.ahead : [];
    for (const a of ahead) points.push({ start_ms: a.start_ms, value: null, offered: null, abandoned: null, forecast_calls: a.forecast_calls });
    window.WBChart.draw(document.getElementById("chart"), points, tg, {
      t, pct, hm, tz: snap.tz, lang: state.lang, theme: state.theme,
      variant: slOf(chosen.interval, tg).variant, thr: slOf(chosen.interval, tg).thr,
    });
    const legend = document.getElementById("legend");
    const used = new Set(queues.map((q) => slOf(q.interval, target(q.queue)).variant));
    legend.replaceChildren(el("span", "ltitle", t("sl_legend")), ...[...used].sort().map((v) => el("span", "lvar", t(v))));
  }

  document.getElementById("chart-queue").addEventListener("change", (e) => {
    state.chartQueue = e.target.value;
    render();
  });

  // Numbers rebuilt from a log that lost records (docs/architecture.md,
  // "Never silently partial"): said on the board, never hidden.
  function incomplete(ranges) {
    const note = document.getElementById("incomplete");
    const list = ranges || [];
    note.hidden = list.length === 0;
    note.textContent = list
      .map((r) => (r.end_ms == null ? t("incomplete_open") : t("incomplete_until", { t: hm(r.end_ms) })))
      .join(" · ");
  }

  function render() {
    const msg = state.last;
    if (!msg) return;
    const targets = new Map(msg.targets.map((x) => [x.name, x]));
    banner(msg.alerts, targets);
    floorMessages(msg.snapshot, targets);
    incomplete(msg.snapshot ? msg.snapshot.incomplete : null);
    document.getElementById("tenant").textContent = msg.tenant;
    const tiles = document.getElementById("tiles");
    const snap = msg.snapshot;
    if (!snap) {
      tiles.replaceChildren(el("p", "empty", t("no_data")));
      return;
    }
    const target = (q) =>
      targets.get(q) || { sl_variant: "sl3", sl_threshold_s: snap.sl_thresholds_s[0], sl_target: 0.8, sl_amber: 0.05 };
    document.getElementById("interval").textContent =
      hm(snap.interval_start_ms) + "–" + hm(snap.interval_end_ms) + (snap.tz === "UTC" ? " UTC" : "");
    if (state.layout !== "agents" && state.layout !== "chart") renderTiles(snap, target);
    if (state.layout === "full" || state.layout === "chart") renderChart(snap, targets, target);
    if (state.layout === "full" || state.layout === "agents") renderAgents(snap);
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
