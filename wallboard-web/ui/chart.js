// The intraday chart (uPlot, vendored in ui/vendor): per interval of today
// the service level against its target line, offered and abandoned calls as
// bars, the forecast calls as a dashed line (with the plan of the rest of
// the day), a time axis in the centre's time zone, and the SL value written over
// each point that has room (a TV has no mouse to hover with). The same
// numbers go into a table for screen readers and tests.
"use strict";

window.WBChart = (function () {
  let plot = null;
  let key = "";

  const css = (name) => getComputedStyle(document.body).getPropertyValue(name).trim() || "#888";

  function options(box, o, target, fontPx) {
    const font = `${fontPx}px system-ui, "Noto Sans CJK SC", sans-serif`;
    const fg = css("--fg"), muted = css("--muted"), line = css("--line");
    const axis = (extra) => ({ stroke: muted, font, grid: { stroke: line, width: 1 }, ticks: { stroke: line }, ...extra });
    return {
      width: Math.max(100, box.clientWidth),
      height: Math.max(80, box.clientHeight),
      legend: { show: false },
      cursor: { show: false },
      tzDate: (ts) => (o.tz ? uPlot.tzDate(new Date(ts * 1e3), o.tz) : new Date(ts * 1e3)),
      scales: {
        x: { time: true },
        pct: { range: [0, 100] },
        n: { range: (u, min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.25))] },
      },
      series: [
        {},
        { label: "sl", scale: "pct", stroke: css("--accent"), width: Math.max(2, fontPx / 6), points: { show: true, size: fontPx / 2 } },
        { label: "target", scale: "pct", stroke: css("--good"), width: Math.max(1, fontPx / 10), dash: [fontPx / 2, fontPx / 3], points: { show: false } },
        { label: "offered", scale: "n", fill: muted + "66", stroke: muted, paths: uPlot.paths.bars({ size: [0.4, Infinity], align: -1 }), points: { show: false } },
        { label: "abandoned", scale: "n", fill: css("--bad") + "aa", stroke: css("--bad"), paths: uPlot.paths.bars({ size: [0.4, Infinity], align: 1 }), points: { show: false } },
        { label: "forecast", scale: "n", stroke: css("--warn"), width: Math.max(2, fontPx / 8), dash: [fontPx / 3, fontPx / 4], points: { show: true, size: fontPx / 3 } },
      ],
      axes: [
        axis({ values: (u, ticks) => ticks.map((s) => o.hm(s * 1000)), size: fontPx * 2.4, space: fontPx * 6 }),
        axis({ scale: "pct", values: (u, ticks) => ticks.map((v) => v + "%"), size: fontPx * 4, space: fontPx * 2.5 }),
        axis({ scale: "n", side: 1, grid: { show: false }, size: fontPx * 3.2, space: fontPx * 2.5 }),
      ],
      hooks: { draw: [(u) => labels(u, fg, font, fontPx)] },
    };
  }

  // SL values over the points, skipping those too close to the last drawn.
  function labels(u, fg, font, fontPx) {
    const ctx = u.ctx;
    ctx.save();
    ctx.font = `700 ${font}`;
    ctx.fillStyle = fg;
    ctx.textAlign = "center";
    const xs = u.data[0], sl = u.data[1];
    let lastX = -Infinity;
    const width = ctx.measureText("100.0%").width * 1.1;
    for (let i = xs.length - 1; i >= 0; i--) {
      if (sl[i] === null || sl[i] === undefined) continue;
      const x = u.valToPos(xs[i], "x", true), y = u.valToPos(sl[i], "pct", true);
      if (Math.abs(lastX - x) < width && i !== xs.length - 1) continue;
      ctx.fillText(sl[i].toFixed(1) + "%", x, Math.max(fontPx * 1.2, y - fontPx * 0.6));
      lastX = x;
    }
    ctx.restore();
  }

  function table(box, points, o) {
    const tb = box.querySelector("table") || box.appendChild(document.createElement("table"));
    tb.className = "sr-only";
    const rows = points.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.start = String(p.start_ms);
      tr.dataset.sl = p.value === null ? "null" : String(p.value);
      tr.dataset.offered = String(p.offered);
      tr.dataset.abandoned = String(p.abandoned);
      const fc = p.forecast_calls === undefined || p.forecast_calls === null ? null : p.forecast_calls;
      tr.dataset.forecast = fc === null ? "null" : String(fc);
      // The plan in an attribute only: another cell would widen the table
      // past a phone's width.
      for (const text of [o.hm(p.start_ms), o.pct(p.value), p.offered ?? "", p.abandoned ?? ""]) {
        const td = document.createElement("td");
        td.textContent = String(text);
        tr.append(td);
      }
      return tr;
    });
    tb.replaceChildren(...rows);
  }

  /** Draws (or updates) the chart of `points` in `box`. */
  function draw(box, points, target, o) {
    const canvasBox = box.querySelector(".plot") || box.appendChild(Object.assign(document.createElement("div"), { className: "plot" }));
    const fontPx = Math.round(parseFloat(getComputedStyle(box).fontSize) || 14);
    const data = [
      points.map((p) => p.start_ms / 1000),
      points.map((p) => (p.value === null ? null : p.value * 100)),
      points.map(() => target.sl_target * 100),
      points.map((p) => p.offered),
      points.map((p) => p.abandoned),
      points.map((p) => (p.forecast_calls === undefined ? null : p.forecast_calls)),
    ];
    // Rebuilt when what it is drawn with changes; resized in place.
    const k = [o.lang, o.theme, fontPx, o.tz, target.sl_target].join("|");
    const w = Math.max(100, canvasBox.clientWidth), h = Math.max(80, canvasBox.clientHeight);
    if (!plot || k !== key || !canvasBox.contains(plot.root)) {
      if (plot) plot.destroy();
      canvasBox.replaceChildren();
      plot = new uPlot(options(canvasBox, o, target, fontPx), data, canvasBox);
      key = k;
    } else {
      if (plot.width !== w || plot.height !== h) plot.setSize({ width: w, height: h });
      plot.setData(data);
    }
    table(box, points, o);
  }

  return { draw };
})();
