// Fitting a board to the screen: how many tiles fit legibly, how they are
// split into pages, the rows × columns of a page, and what a kiosk tile's
// numbers get of its room. Pure functions.
"use strict";

window.WBLayout = (function () {
  // Tiles read best a little wider than tall.
  const IDEAL_ASPECT = 1.7;

  /** `n` tiles in `rows` rows, as even as possible (fuller rows first). */
  function spread(n, rows) {
    const base = Math.floor(n / rows), extra = n % rows;
    return Array.from({ length: rows }, (_, i) => base + (i < extra ? 1 : 0));
  }

  /**
   * The rows for `n` tiles in a `w` × `h` box, no tile smaller than
   * `minW` × `minH`: `{ rows: [tiles in each row] }`. Rows differ by at most
   * one tile, so there is no hole and no lone tile under a full row.
   */
  function grid(n, w, h, minW, minH) {
    if (n <= 1) return { rows: [1] };
    let best = null;
    for (let r = 1; r <= n; r++) {
      const rows = spread(n, r);
      const cols = rows[0];
      const orphan = rows[rows.length - 1] === 1 && cols > 1;
      const tooSmall = w / cols < minW || h / r < minH;
      const aspect = w / cols / (h / r);
      const score = Math.abs(Math.log(aspect / IDEAL_ASPECT)) + (orphan ? 10 : 0) + (tooSmall ? 100 : 0);
      if (!best || score < best.score) best = { rows, score };
    }
    return { rows: best.rows };
  }

  /** Most tiles of at least `minW` × `minH` that fit in `w` × `h`. */
  function capacity(w, h, minW, minH) {
    return Math.max(1, Math.floor(w / minW)) * Math.max(1, Math.floor(h / minH));
  }

  /** `items` split into pages of at most `max`, as even as possible. */
  function pages(items, max) {
    const count = Math.max(1, Math.ceil(items.length / Math.max(1, max)));
    const size = Math.ceil(items.length / count);
    const out = [];
    for (let i = 0; i < count; i++) out.push(items.slice(i * size, (i + 1) * size));
    return out;
  }

  /**
   * How a kiosk tile's small numbers and big values share its height
   * (docs/metrics.md "The queue tile on the TV"). `m`, in px:
   * - `height`: the tile's content height; `fixed`: its other rows (name,
   *   secondary line, agents by state) and the gaps between all rows;
   * - `width`, `colGap`, `rowGap`, `rowH`: the small grid's;
   * - `need`: per small number in priority order, the width it needs with
   *   its label (`long`) and with its short label (`short`);
   * - `plus`: the width of "+N";
   * - `big`: `{ labelH, goalH, gap, tall, cap }` of the big values, `cap`
   *   their largest size for their columns' width (`{ big, sl }`);
   * - `minBig`: the smallest big value worth a row of small numbers.
   * Returns `{ cols, rows, shown, short, big, bigSl, noGoal }`: the grid,
   * how many numbers show (a prefix), which of them use their short label,
   * the big values' font size from the height and the width, and whether
   * the SL's target line gives its room to them.
   */
  function fitTile(m) {
    const n = m.need.length;
    // Below its width's cap, a big value is as large as it can be anyway.
    const enough = Math.min(m.minBig, m.big.cap.big);
    let best = null;
    for (let c = Math.min(4, n); c >= 1; c--) {
      for (let r = Math.ceil(n / c); r >= 1; r--) {
        const shown = Math.min(n, r * c);
        const room = m.width - (shown < n ? m.plus + m.colGap : 0);
        const col = (room - (c - 1) * m.colGap) / c;
        if (m.need.slice(0, shown).some((x) => Math.min(x.long, x.short) > col)) continue;
        const rows = Math.ceil(shown / c);
        const px = bigSize(m.height - m.fixed - rows * m.rowH - (rows - 1) * m.rowGap, m.big);
        // Fewer rows rather than big values too small, but always a row.
        if (px.big < enough && r > 1) continue;
        const fit = { cols: c, rows, shown, ...px, short: m.need.slice(0, shown).map((x) => x.long > col) };
        if (!best || shown > best.shown || (shown === best.shown && px.big > best.big)) best = fit;
        break;
      }
    }
    if (!best) best = { cols: 1, rows: 1, shown: Math.min(1, n), short: m.need.slice(0, 1).map(() => true) };
    return { ...best, ...bigFor(m, best.rows) };
  }

  /**
   * The big values' sizes (`{ big, bigSl, noGoal }`) of a tile measured as
   * `m` (fitTile) with `rows` rows of small numbers. Still below their
   * minimum, the SL's target gives its line (it is in the SL's title, and
   * the SL's colour and mark say whether it is met).
   */
  function bigFor(m, rows) {
    const h = m.height - m.fixed - rows * m.rowH - (rows - 1) * m.rowGap;
    const px = bigSize(h, m.big);
    if (px.big < Math.min(m.minBig, m.big.cap.big) && m.big.goalH > 0) return { ...bigSize(h, { ...m.big, goalH: 0 }), noGoal: true };
    return { ...px, noGoal: false };
  }

  /** The big values' font size for `h` px of height: one row (value line
   * height 1.2), or on a tall tile the SL on its own line over the two
   * others at 0.55 of its size; each at most its `cap`. */
  function bigSize(h, b) {
    if (b.tall) {
      const sl = Math.max(0, (h - 2 * b.labelH - b.goalH - b.gap) / (1.2 * 1.55));
      return { bigSl: Math.min(sl, b.cap.sl), big: Math.min(sl * 0.55, b.cap.big) };
    }
    const v = Math.max(0, (h - b.labelH - b.goalH) / 1.2);
    return { big: Math.min(v, b.cap.big), bigSl: Math.min(v, b.cap.sl) };
  }

  return { grid, capacity, pages, fitTile, bigFor };
})();
