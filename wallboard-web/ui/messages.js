// Messages to the floor (README, "Messages to the floor"): the banner of a
// tenant's active messages, critical first, each with its severity as an
// icon and a word as well as a colour. The text is set with textContent, so
// markup in a message shows as typed. A message leaves the banner at its
// expiry by this screen's (server-corrected) clock, even between pushes.
"use strict";

window.WBMessages = (function () {
  const ICONS = { critical: "✖", warning: "▲", info: "ℹ" };
  // When (this screen's Date.now()) each message id was first shown and
  // last taken down: tests read them.
  const shownAt = {}, goneAt = {};

  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function line(m, { t, queueLabel }) {
    const d = document.createElement("div");
    d.className = "msg " + m.severity;
    d.dataset.id = m.id;
    d.dataset.severity = m.severity;
    d.append(span("msev", ICONS[m.severity] + " " + t("sev_" + m.severity)), span("mtext", m.text));
    if (m.queues.length) d.append(span("mqueues", t("msg_for", { queues: m.queues.map(queueLabel).join(", ") })));
    return d;
  }

  /**
   * Shows the messages of `list` active at `ctx.now` in `box`; returns them.
   * `ctx`: `{ t, lang, now, queueLabel }`.
   */
  function render(box, list, ctx) {
    const up = (list || []).filter((m) => m.expires_ms > ctx.now);
    // Rebuilt only when something shown changes, not on every tick.
    const sig = JSON.stringify([ctx.lang, up.map((m) => [m.id, m.posted_ms])]);
    if (box.dataset.sig === sig) return up;
    box.dataset.sig = sig;
    const now = Date.now();
    for (const m of up) if (!(m.id in shownAt)) shownAt[m.id] = now;
    for (const e of box.children) if (!up.some((m) => m.id === e.dataset.id)) goneAt[e.dataset.id] = now;
    box.hidden = up.length === 0;
    box.replaceChildren(...up.map((m) => line(m, ctx)));
    return up;
  }

  return { render, shownAt, goneAt };
})();
