// Freshness on the board (docs/metrics.md, "Freshness"): what the header and
// the banner say about how old the data is. Never "Live" over old data, an
// unknown tenant, a lost feed or a dropped connection. app.js calls
// wallboardFreshness.show(state, t) every second and on every push.
"use strict";

window.wallboardFreshness = (function () {
  // The server republishes at least every second: a push older than this
  // means the server itself has stopped.
  const STALE_PUSH_S = 5;
  const SOURCE_KEYS = {
    "asterisk-queue-log": "fr_src_queue_log",
    "asterisk-ami": "fr_src_ami",
    "freeswitch-callcenter": "fr_src_esl",
    simulator: "fr_src_simulator",
  };

  function clock(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const ss = String(r).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  // "7 days", "3 hours", "12 minutes", "40 seconds".
  function age(s, t) {
    if (s >= 2 * 86400) return t("fr_days", { n: Math.floor(s / 86400) });
    if (s >= 2 * 3600) return t("fr_hours", { n: Math.floor(s / 3600) });
    if (s >= 2 * 60) return t("fr_minutes", { n: Math.floor(s / 60) });
    return t("fr_seconds", { n: Math.floor(s) });
  }

  function sourceName(source, t) {
    const key = SOURCE_KEYS[source];
    return key ? t(key) : source;
  }

  // The worst source in `state` (largest silence first).
  function worst(f, state) {
    return (f.sources || [])
      .filter((s) => s.state === state)
      .sort((a, b) => b.silent_s - a.silent_s)[0];
  }

  // { state, text, alarm }: `alarm` states get the large banner.
  function describe(st, t) {
    const msg = st.last;
    const pushAge = msg ? (performance.now() - st.lastAt) / 1000 : null;
    if (!st.connected && msg) {
      return { state: "ws_reconnecting", alarm: true,
        text: t("reconnecting") + " · " + t("fr_last_update", { age: age(pushAge, t) }) };
    }
    if (!st.connected) return { state: "connecting", alarm: false, text: t("connecting") };
    if (!msg) return { state: "waiting", alarm: false, text: t("fr_waiting") };
    if (!msg.snapshot) {
      return { state: "unknown_tenant", alarm: true, text: t("fr_unknown_tenant", { tenant: msg.tenant }) };
    }
    if (pushAge > STALE_PUSH_S) {
      return { state: "stale", alarm: true, text: t("stale", { n: Math.floor(pushAge) }) };
    }
    const f = msg.snapshot.freshness;
    if (!f) return { state: "live", alarm: false, text: t("fresh") };
    // Seconds since the server computed `f`, so ages keep counting.
    const extra = Math.max(0, (Date.now() + st.offset - msg.server_ms) / 1000);
    const dataAge = (f.newest_event_age_s || 0) + extra;
    switch (f.state) {
      case "feed_lost": {
        const s = worst(f, "feed_lost");
        if (s) {
          return { state: "feed_lost", alarm: true,
            text: t("fr_feed_silent", { source: sourceName(s.source, t), time: clock(s.silent_s + extra) }) };
        }
        const quiet = f.quiet_s === null ? dataAge : f.quiet_s + extra;
        return { state: "feed_lost", alarm: true, text: t("fr_no_data_for", { time: clock(quiet) }) };
      }
      case "reconnecting": {
        const s = worst(f, "reconnecting");
        return { state: "reconnecting", alarm: true,
          text: t("fr_upstream_down", { source: sourceName(s ? s.source : "", t) }) };
      }
      case "old_data":
        return { state: "old_data", alarm: true, text: t("fr_old_data", { age: age(dataAge, t) }) };
      case "quiet":
        return { state: "quiet", alarm: false,
          text: t("fr_quiet", { time: clock((f.quiet_s === null ? dataAge : f.quiet_s) + extra) }) };
      default:
        return { state: "live", alarm: false, text: t("fresh") };
    }
  }

  function banner() {
    let b = document.getElementById("freshness-banner");
    if (!b) {
      b = document.createElement("div");
      b.id = "freshness-banner";
      b.setAttribute("role", "alert");
      b.hidden = true;
      const bar = document.getElementById("bar");
      bar.parentNode.insertBefore(b, bar.nextSibling);
    }
    return b;
  }

  function show(st, t) {
    const d = describe(st, t);
    const f = document.getElementById("freshness");
    f.textContent = d.text;
    // The class keeps the three older names (fresh, stale, offline);
    // data-state tells every state apart.
    f.className = d.state === "live" ? "fresh" : d.state === "connecting" || d.state === "ws_reconnecting" ? "offline" : "stale";
    f.dataset.state = d.state;
    const b = banner();
    b.hidden = !d.alarm;
    b.textContent = d.alarm ? d.text : "";
    b.dataset.state = d.state;
    document.body.dataset.freshness = d.state;
    // Greyed out unless the numbers are current (live, or quiet with a healthy feed).
    document.body.classList.toggle("is-stale", d.state !== "live" && d.state !== "quiet");
    return d;
  }

  return { show, describe };
})();
