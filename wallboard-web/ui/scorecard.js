// The agent scorecard page for team leads (docs/metrics.md "Agent
// scorecard"): GET …/agents/scorecard as a sortable table, the team median
// first, flagged cells marked by colour, an arrow and a word.
"use strict";

// Every key exists in both languages (tests/browser/scorecard.test.mjs).
window.SC_TEXT = {
  en: {
    title: "Agent scorecard", period: "Period", today: "Today", week: "Last 7 days", csv: "Download CSV",
    agent: "Agent", median: "Team median", handled: "Handled", aht_ms: "AHT", avg_talk_ms: "Talk (excl. hold)",
    avg_hold_ms: "Hold", avg_acw_ms: "ACW", transfer_rate: "Transfers", occupancy: "Occupancy",
    adherence: "Adherence", csat: "CSAT", csat_mean: "CSAT mean", qa_score: "QA score",
    repeat_rate: "Repeat contacts", flag_high: "high", flag_low: "low",
    flag_title: "{v} vs team median {m}: more than {p} % {side}",
    legend: "Ratios of the period's sums. Flagged: more than {p} % from the team median on the bad side, with at least {n} calls, surveys or evaluations (1 h for occupancy and adherence).",
    truncated: "Only {d} of history kept: the period starts later than asked.",
    range: "{from} – {to} ({tz})", loading: "Loading…", failed: "Could not load the scorecard: {e}",
    no_agents: "No agent has data in this period.", lang_other: "中文", theme_dark: "Dark", theme_light: "Light",
  },
  "zh-CN": {
    title: "座席绩效", period: "周期", today: "今日", week: "近 7 天", csv: "下载 CSV",
    agent: "座席", median: "团队中位数", handled: "处理量", aht_ms: "平均处理时长", avg_talk_ms: "通话(不含保持)",
    avg_hold_ms: "保持", avg_acw_ms: "话后处理", transfer_rate: "转接率", occupancy: "占用率",
    adherence: "排班遵守率", csat: "满意度", csat_mean: "满意度均分", qa_score: "质检得分",
    repeat_rate: "重复来电率", flag_high: "偏高", flag_low: "偏低",
    flag_title: "{v}，团队中位数 {m}：{side}超过 {p}%",
    legend: "按周期内总和计算的比率。标记：在不利方向偏离团队中位数超过 {p}%，且至少 {n} 通来电、调查或质检（占用率和排班遵守率至少 1 小时）。",
    truncated: "仅保留 {d} 的历史：周期起点晚于所选。",
    range: "{from} – {to}（{tz}）", loading: "加载中…", failed: "无法加载座席绩效：{e}",
    no_agents: "本周期内没有座席数据。", lang_other: "English", theme_dark: "深色", theme_light: "浅色",
  },
};

(function () {
  const params = new URLSearchParams(location.search);
  const state = {
    lang: params.get("lang") || localStorage.getItem("wb.lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en"),
    theme: params.get("theme") || localStorage.getItem("wb.theme") || "dark",
    tenant: params.get("tenant") || "",
    token: params.get("token") || "",
    queue: params.get("queue") || "",
    period: params.get("period") === "week" ? "week" : "today",
    sort: { key: "agent", dir: 1 },
    card: null,
    missing: new Set(),
  };
  if (!window.SC_TEXT[state.lang]) state.lang = "en";
  window.scorecard = state; // for tests and debugging

  // Columns: [key, kind]; kind formats the value.
  const COLUMNS = [
    ["agent", "text"], ["handled", "count"], ["aht_ms", "seconds"], ["avg_talk_ms", "seconds"],
    ["avg_hold_ms", "seconds"], ["avg_acw_ms", "seconds"], ["transfer_rate", "percent"],
    ["occupancy", "percent"], ["adherence", "percent"], ["csat", "percent"], ["csat_mean", "score"],
    ["qa_score", "score"], ["repeat_rate", "percent"],
  ];

  function t(key, vars) {
    let s = (window.SC_TEXT[state.lang] || window.SC_TEXT.en)[key];
    if (s === undefined) {
      state.missing.add(state.lang + ":" + key);
      s = key;
    }
    for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
    return s;
  }

  function format(v, kind) {
    if (v === null || v === undefined) return "–";
    switch (kind) {
      case "count": return String(Math.round(v * 10) / 10);
      case "seconds": return (v / 1000).toFixed(1) + " s";
      case "percent": return (v * 100).toFixed(1) + " %";
      case "score": return v.toFixed(1);
      default: return String(v);
    }
  }

  function api(extra) {
    const q = new URLSearchParams({ period: state.period, ...extra });
    if (state.queue) q.set("queue", state.queue);
    if (state.token) q.set("token", state.token);
    return `/api/v1/tenants/${encodeURIComponent(state.tenant)}/agents/scorecard?${q}`;
  }

  function cell(tr, key, kind, v, flag, median) {
    const td = document.createElement("td");
    td.dataset.key = key;
    if (typeof v === "number") td.dataset.value = String(v);
    td.textContent = format(v, kind);
    if (flag) {
      td.classList.add("flag", flag);
      const word = document.createElement("span");
      word.className = "flag-word";
      word.textContent = (flag === "high" ? "▲ " : "▼ ") + t("flag_" + flag);
      td.append(word);
      td.title = t("flag_title", {
        v: format(v, kind), m: format(median, kind), p: state.card.flag_pct, side: t("flag_" + flag),
      });
    }
    tr.append(td);
  }

  function sorted(agents) {
    const { key, dir } = state.sort;
    const val = (a) => a[key];
    return [...agents].sort((a, b) => {
      const x = val(a), y = val(b);
      if (x === y) return a.agent < b.agent ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
  }

  function renderHead() {
    const head = document.getElementById("sc-head");
    head.replaceChildren();
    for (const [key] of COLUMNS) {
      const th = document.createElement("th");
      th.dataset.key = key;
      th.textContent = t(key);
      th.scope = "col";
      if (state.sort.key === key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      th.onclick = () => {
        state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
        render();
      };
      head.append(th);
    }
  }

  function renderBody(card) {
    const body = document.getElementById("sc-body");
    body.replaceChildren();
    const med = document.createElement("tr");
    med.className = "median";
    for (const [key, kind] of COLUMNS) {
      if (key === "agent") cell(med, key, "text", t("median"));
      else cell(med, key, kind, card.team_median[key]);
    }
    body.append(med);
    for (const a of sorted(card.agents)) {
      const tr = document.createElement("tr");
      tr.dataset.agent = a.agent;
      for (const [key, kind] of COLUMNS) cell(tr, key, kind, a[key], a.flags[key], card.team_median[key]);
      body.append(tr);
    }
  }

  function localTime(ms, tz) {
    return new Date(ms).toLocaleString(state.lang, { timeZone: tz, dateStyle: "short", timeStyle: "short" });
  }

  function render() {
    document.documentElement.lang = state.lang;
    document.body.dataset.theme = state.theme;
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
    document.title = t("title");
    document.getElementById("lang").textContent = t("lang_other");
    document.getElementById("theme").textContent = t(state.theme === "dark" ? "theme_light" : "theme_dark");
    document.getElementById("period").value = state.period;
    document.getElementById("tenant").textContent = state.tenant;
    const csv = document.getElementById("csv");
    csv.href = api({ format: "csv", lang: state.lang });
    csv.setAttribute("download", `wallboard-scorecard-${state.tenant}-${state.period}.csv`);
    renderHead();
    const card = state.card;
    if (!card) return;
    document.getElementById("range").textContent = t("range", {
      from: localTime(card.covered_from_ms, card.tz), to: localTime(card.end_ms, card.tz), tz: card.tz,
    });
    renderBody(card);
    const notes = [t("legend", { p: card.flag_pct, n: card.min_sample })];
    if (card.truncated) notes.push(t("truncated", { d: localTime(card.covered_from_ms, card.tz) }));
    document.getElementById("sc-legend").textContent = notes.join(" ");
    document.getElementById("sc-status").textContent = card.agents.length ? "" : t("no_agents");
  }

  async function load() {
    const status = document.getElementById("sc-status");
    try {
      if (!state.tenant) {
        const q = state.token ? `?token=${encodeURIComponent(state.token)}` : "";
        const tenants = await (await fetch(`/api/v1/tenants${q}`)).json();
        state.tenant = tenants[0] || "default";
      }
      const r = await fetch(api({}));
      if (!r.ok) throw new Error((await r.json()).detail || r.status);
      state.card = await r.json();
      state.loadedAt = Date.now();
    } catch (e) {
      status.textContent = t("failed", { e: e.message });
    }
    render();
  }

  function start() {
    render();
    document.getElementById("sc-status").textContent = t("loading");
    document.getElementById("period").onchange = (e) => {
      state.period = e.target.value;
      state.card = null;
      load();
    };
    document.getElementById("lang").onclick = () => {
      state.lang = state.lang === "en" ? "zh-CN" : "en";
      localStorage.setItem("wb.lang", state.lang);
      render();
    };
    document.getElementById("theme").onclick = () => {
      state.theme = state.theme === "dark" ? "light" : "dark";
      localStorage.setItem("wb.theme", state.theme);
      render();
    };
    load();
    // The scorecard changes slowly; a refresh a minute is plenty.
    setInterval(load, 60000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
