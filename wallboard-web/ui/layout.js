// Fitting a board to the screen: how many tiles fit legibly, how they are
// split into pages, and the rows × columns of a page. Pure functions.
"use strict";

window.WBLayout = (function () {
  // Tiles read best a little wider than tall.
  const IDEAL_ASPECT = 1.7;

  /**
   * The grid for `n` tiles in a `w` × `h` box, no tile smaller than
   * `minW` × `minH`: `{ cols, rows }`, never a lone tile on the last row
   * (when any other shape fits).
   */
  function grid(n, w, h, minW, minH) {
    if (n <= 1) return { cols: 1, rows: 1 };
    let best = null;
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const last = n - (rows - 1) * cols;
      const orphan = rows > 1 && last * 2 < cols;
      const tooSmall = w / cols < minW || h / rows < minH;
      const aspect = w / cols / (h / rows);
      const score =
        Math.abs(Math.log(aspect / IDEAL_ASPECT)) +
        (0.6 * (cols * rows - n)) / n +
        (orphan ? 10 : 0) +
        (tooSmall ? 100 : 0);
      if (!best || score < best.score) best = { cols, rows, score };
    }
    return { cols: best.cols, rows: best.rows };
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
