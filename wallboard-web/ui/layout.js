// Fitting a board to the screen: how many tiles fit legibly, how they are
// split into pages, and the rows × columns of a page. Pure functions.
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

  return { grid, capacity, pages };
})();
