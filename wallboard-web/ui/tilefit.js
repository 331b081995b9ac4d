// Kiosk tiles: what each tile shows of its numbers so that every text stays
// legible from across the room (docs/metrics.md "The queue tile on the TV",
// "The queue tile's secondary line"). One layout read for the whole board,
// with the tiles in a measuring state (natural widths), then only writes:
// the small numbers' columns and rows and their "+N", short labels, the
// secondary line's prefix and "+N", agents by state on one or two lines, and
// the big values' size from the height left. The decisions are
// WBLayout.fitTile's; this module only reads and writes the page.
"use strict";

window.WBTileFit = (function () {
  // Smallest tile text, in px of a 1080 px short side (style.css --m).
  const MIN_TEXT_1080P = 14;
  // Big values get at least this many times the smallest text before a
  // row of small numbers is given up for them.
  const MIN_BIG = 1.6;

  const ctx = document.createElement("canvas").getContext("2d");
  /** The width `text` would have in `e`'s font. */
  function textWidth(e, text) {
    const cs = getComputedStyle(e);
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    return ctx.measureText(text).width;
  }

  const width = (e) => e.getBoundingClientRect().width;
  // A text's own width, also where its box is narrower (overflow hidden).
  const textBox = (e) => Math.max(width(e), e.scrollWidth);
  const height = (e) => (e ? e.getBoundingClientRect().height : 0);
  const px = (v) => parseFloat(v) || 0;

  /** A label's width with its own text and with its short form. */
  function labelWidths(label) {
    const long = textBox(label);
    const short = label.dataset.short ? Math.min(long, textWidth(label, label.dataset.short)) : long;
    return { long, short };
  }

  /** The big values' largest size for their columns (style.css: % of the
   * tile's width). */
  function bigCap(tile, tall) {
    const w = width(tile) / 100;
    return tall ? { sl: 11 * w, big: 7.5 * w } : { sl: 6.2 * w, big: 6.2 * w };
  }

  /** Everything `fit` needs to know of one tile, read from the page. */
  function measure(tile, minText) {
    const inner = tile.querySelector(".tile-in");
    const cs = getComputedStyle(inner);
    const rows = [...inner.children];
    const [qname, big, small, kpis, states] = [".qname", ".big", ".small", ".kpis", ".states"].map((s) => inner.querySelector(":scope > " + s));
    // Agents by state: one line if their chips fit side by side.
    const stGap = px(getComputedStyle(states).columnGap);
    const chips = [...states.children];
    const stNeed = chips.reduce((a, c) => a + width(c), 0) + stGap * (chips.length - 1);
    const wrap = stNeed > states.clientWidth + 0.5;
    const statesH = wrap ? 2 * height(states) + stGap : height(states);
    // The small numbers, each with its label and value side by side at natural width.
    const sc = getComputedStyle(small);
    const metrics = [...small.querySelectorAll(":scope > .metric")];
    const need = metrics.map((m) => {
      // Room for its widest usual value too, so the tile keeps its layout
      // from one second to the next.
      const value = m.querySelector(".value");
      const l = labelWidths(m.querySelector(".label"));
      const v = Math.max(textBox(m.querySelector(".vline")), m.dataset.sample ? textWidth(value, m.dataset.sample) : 0);
      return { long: Math.max(l.long, v) + 1, short: Math.max(l.short, v) + 1 };
    });
    const more = small.querySelector(":scope > .more");
    const bigLabel = big.querySelector(".label");
    const tall = !!tile.closest(".trow.tall");
    const m = {
      height: inner.clientHeight - px(cs.paddingTop) - px(cs.paddingBottom),
      fixed: height(qname) + height(kpis) + statesH + px(cs.rowGap) * (rows.length - 1),
      width: small.clientWidth, colGap: px(sc.columnGap), rowGap: px(sc.rowGap), rowH: height(small),
      need, plus: textWidth(more, `+${metrics.length}`) + 2,
      big: { labelH: height(bigLabel), goalH: height(big.querySelector(".goal")), gap: px(getComputedStyle(big).rowGap), tall, cap: bigCap(tile, tall) },
      minBig: MIN_BIG * minText,
    };
    // Big labels longer than their column take their short form.
    const bigShort = [...big.querySelectorAll(":scope > .metric")]
      .map((b) => b.querySelector(".label"))
      .map((l) => !!l.dataset.short && textBox(l) > width(l.parentElement) + 0.5);
    return { tile, m, wrap, bigShort, metrics, more, kpis: kpis && measureKpis(kpis) };
  }

  function measureKpis(line) {
    return { line, room: line.clientWidth, gap: px(getComputedStyle(line).columnGap), widths: [...line.children].map(width) };
  }

  /** The label's short form, the full label in its title. */
  function useShort(label) {
    if (!label.dataset.short) return;
    const long = label.textContent;
    label.textContent = label.dataset.short;
    label.title = label.title ? `${long}: ${label.title}` : long;
  }

  /**
   * One tile's measurements standing for its whole row: the tiles of a row
   * have one size, and show the same numbers with the same labels, as
   * each needs the most room.
   */
  function merge(rs) {
    const ms = rs.map((r) => r.m);
    const max = (f) => Math.max(...ms.map(f)), min = (f) => Math.min(...ms.map(f));
    const b = ms[0].big;
    return {
      ...ms[0],
      height: min((m) => m.height), fixed: max((m) => m.fixed), width: min((m) => m.width), rowH: max((m) => m.rowH),
      need: ms[0].need.map((_, i) => ({ long: max((m) => m.need[i].long), short: max((m) => m.need[i].short) })),
      plus: max((m) => m.plus),
      big: { ...b, labelH: max((m) => m.big.labelH), goalH: max((m) => m.big.goalH), cap: { big: min((m) => m.big.cap.big), sl: min((m) => m.big.cap.sl) } },
    };
  }

  function apply(r, fit, bigShort, t) {
    const small = r.more.parentElement;
    const left = r.metrics.slice(fit.shown);
    small.style.gridTemplateColumns = `repeat(${fit.cols}, minmax(0, 1fr))` + (left.length ? " auto" : "");
    r.metrics.forEach((m, i) => {
      m.hidden = i >= fit.shown;
      if (fit.short[i]) useShort(m.querySelector(".label"));
    });
    r.more.hidden = left.length === 0;
    r.more.textContent = `+${left.length}`;
    r.more.style.gridColumn = String(fit.cols + 1);
    r.more.style.gridRow = `1 / span ${fit.rows}`;
    const named = left.map((m) => `${m.querySelector(".label").textContent} ${m.querySelector(".value").textContent}`);
    r.more.title = t("kpi_more_title", { list: named.join(" · ") });
    small.dataset.hidden = left.map((m) => m.dataset.metric).join(",");
    r.tile.querySelectorAll(".big > .metric > .label").forEach((l, i) => bigShort[i] && useShort(l));
    const goal = r.tile.querySelector(".big .goal");
    if (fit.noGoal) {
      goal.hidden = true;
      const sl = r.tile.querySelector(".big .sl .label");
      sl.title = `${sl.title} · ${goal.textContent}`;
    }
    r.tile.querySelector(".states").classList.toggle("wrap", r.wrap);
    r.tile.style.setProperty("--bv", fit.big.toFixed(1) + "px");
    r.tile.style.setProperty("--bvs", fit.bigSl.toFixed(1) + "px");
    if (r.kpis) fitKpis(r.kpis, t);
  }

  /**
   * The secondary line keeps the longest prefix of its chips that fits on
   * one line with "+N" after it, or all of them without "+N".
   */
  function fitKpis({ line, room, gap, widths }, t) {
    const chips = [...line.children].slice(0, -1), more = line.lastChild;
    const sum = (k) => widths.slice(0, k).reduce((a, w) => a + w, 0) + gap * Math.max(0, k - 1);
    let keep = chips.length;
    if (sum(keep) > room) {
      keep--;
      while (keep > 0 && sum(keep) + gap + widths[widths.length - 1] > room) keep--;
    }
    const left = chips.slice(keep);
    for (const c of left) c.hidden = true;
    more.hidden = left.length === 0;
    more.textContent = `+${left.length}`;
    more.title = t("kpi_more_title", { list: left.map((c) => c.textContent).join(" · ") });
    line.dataset.hidden = left.map((c) => c.dataset.kpi).join(",");
  }

  /** Fits every tile of `box` (kiosk). */
  function fit(box, t) {
    const minText = (Math.min(window.innerWidth, window.innerHeight) * MIN_TEXT_1080P) / 1080;
    box.classList.add("fitting");
    const read = [...box.querySelectorAll(".tile")].map((tile) => measure(tile, minText));
    box.classList.remove("fitting");
    const rows = new Map();
    for (const r of read) rows.set(r.tile.parentElement, [...(rows.get(r.tile.parentElement) || []), r]);
    for (const rs of rows.values()) {
      const fit = window.WBLayout.fitTile(merge(rs));
      const bigShort = rs[0].bigShort.map((_, i) => rs.some((r) => r.bigShort[i]));
      // The big values as each tile's own room allows.
      for (const r of rs) apply(r, { ...fit, ...window.WBLayout.bigFor(r.m, fit.rows) }, bigShort, t);
    }
  }

  return { fit };
})();
