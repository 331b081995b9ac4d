// WBLayout.fitTile, the pure part of a kiosk tile's fitting (docs/metrics.md
// "The queue tile on the TV"), without a browser: what shows is a prefix
// that fits its columns, big values keep their minimum while a row of
// small numbers can go, there is always a row, and the SL's target goes
// only when one row still leaves the big values too small.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const sandbox = { window: {} };
vm.runInNewContext(readFileSync(join(root, "wallboard-web/ui/layout.js"), "utf8"), sandbox);
const { fitTile } = sandbox.window.WBLayout;

// Widths of the eight small numbers with their label and short label, as
// measured at 14 px (English).
const NEED = [[79, 79], [85, 85], [104, 65], [31, 31], [45, 45], [55, 55], [34, 34], [94, 45]].map(([long, short]) => ({ long, short }));
/** A 1080p tile of 300 × 187 px with every text at 14 px. */
const SMALL_TILE = {
  height: 174, fixed: 66, width: 282, colGap: 6, rowGap: 2, rowH: 37, need: NEED, plus: 22,
  big: { labelH: 17.5, goalH: 17.5, gap: 2, tall: false, cap: { big: 100, sl: 100 } }, minBig: 22.4,
};

/** The column width of a fit, as fitTile computes it. */
function column(m, f) {
  const room = m.width - (f.shown < m.need.length ? m.plus + m.colGap : 0);
  return (room - (f.cols - 1) * m.colGap) / f.cols;
}

test("a small tile shows the prefix that fits its columns and one row", () => {
  const f = fitTile(SMALL_TILE);
  assert.equal(f.rows, 1);
  assert.ok(f.shown >= 1 && f.shown < NEED.length, JSON.stringify(f));
  const col = column(SMALL_TILE, f);
  NEED.slice(0, f.shown).forEach((x, i) => assert.ok((f.short[i] ? x.short : x.long) <= col, `${i}: ${JSON.stringify(f)}`));
  // One more column would not have fitted.
  assert.ok(f.cols === 4 || NEED.slice(0, f.shown + 1).some((x) => x.short > column(SMALL_TILE, { ...f, cols: f.cols + 1, shown: f.shown + 1 })));
  assert.equal(f.noGoal, false);
  assert.ok(f.big >= SMALL_TILE.minBig);
});

test("a roomy tile shows every small number and gives the big values the height left", () => {
  const m = { ...SMALL_TILE, height: 268, fixed: 80, width: 600 };
  const f = fitTile(m);
  assert.deepEqual([f.cols, f.rows, f.shown], [4, 2, 8]);
  assert.deepEqual(f.short, Array(8).fill(false));
  // The height left after two rows, less the label and the target, at line height 1.2.
  assert.ok(Math.abs(f.big - (268 - 80 - 2 * 37 - 2 - 17.5 - 17.5) / 1.2) < 1e-9, String(f.big));
});

test("short labels only where the long one does not fit", () => {
  const need = [{ long: 150, short: 60 }, { long: 60, short: 60 }];
  const narrow = fitTile({ ...SMALL_TILE, width: 250, need });
  assert.deepEqual([narrow.cols, narrow.shown, narrow.short], [2, 2, [true, false]]);
  const wide = fitTile({ ...SMALL_TILE, width: 400, need });
  assert.deepEqual([wide.cols, wide.shown, wide.short], [2, 2, [false, false]]);
});

test("rows of small numbers give way to the big values' minimum, never the last row", () => {
  const m = { ...SMALL_TILE, width: 600, height: 200 };
  const f = fitTile(m);
  assert.equal(f.rows, 1, JSON.stringify(f));
  assert.equal(f.shown, 4);
  assert.ok(f.big >= m.minBig);
  const tight = fitTile({ ...m, height: 120 });
  assert.equal(tight.rows, 1);
  assert.ok(tight.shown >= 1);
});

test("the SL's target goes only when one row leaves the big values too small", () => {
  const f = fitTile({ ...SMALL_TILE, fixed: 90 });
  assert.equal(f.noGoal, true);
  // The target's line height goes to the big values.
  assert.ok(Math.abs(f.big - (174 - 90 - 37 - 17.5) / 1.2) < 1e-9, String(f.big));
  assert.equal(fitTile({ ...SMALL_TILE, fixed: 60 }).noGoal, false);
});

test("a tall tile's SL is 1/0.55 of the two other big values", () => {
  const f = fitTile({ ...SMALL_TILE, height: 400, width: 300, big: { ...SMALL_TILE.big, tall: true } });
  assert.ok(Math.abs(f.big / f.bigSl - 0.55) < 1e-9);
});

test("big values stop at their width's cap, and nothing gives way for more", () => {
  const m = { ...SMALL_TILE, width: 600, height: 268, fixed: 80, big: { ...SMALL_TILE.big, cap: { big: 20, sl: 20 } } };
  const f = fitTile(m);
  assert.deepEqual([f.rows, f.shown, f.big], [2, 8, 20]);
  // Too little height even for one row, but the cap is what binds: the target stays.
  assert.equal(fitTile({ ...SMALL_TILE, fixed: 90, big: { ...SMALL_TILE.big, cap: { big: 9, sl: 9 } } }).noGoal, false);
});
