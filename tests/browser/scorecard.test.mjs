// The agent scorecard page (issue 13 item 7) in headless Chromium: the
// table's numbers are the REST API's, the team median row is there, flagged
// cells carry an arrow and a word besides the colour, the period switch and
// the CSV link work, and the page speaks zh-CN and en completely.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, DATA, demo, newContext, until, useBrowser } from "./helpers.mjs";

useBrowser();

async function open(base, query) {
  const ctx = await newContext({ viewport: { width: 1600, height: 900 }, locale: "en-US" });
  const p = await ctx.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  await p.goto(`${base}/scorecard.html?${query}`);
  await p.waitForSelector("#sc-body tr.median");
  return { p, ctx, errors };
}

/** Every rendered cell: { agent (null: the median row), key, value, text, flag }. */
function cells(p) {
  return p.$$eval("#sc-body tr", (rows) => rows.flatMap((tr) => [...tr.children].map((td) => ({
    agent: tr.classList.contains("median") ? null : tr.dataset.agent,
    key: td.dataset.key,
    value: td.dataset.value === undefined ? null : Number(td.dataset.value),
    text: td.textContent,
    flag: td.classList.contains("flag") ? [...td.classList].find((c) => c === "high" || c === "low") : null,
  }))));
}

async function scorecard(base, tenant, period) {
  return (await fetch(`${base}/api/v1/tenants/${tenant}/agents/scorecard?period=${period}`)).json();
}

/** The table equals the API's scorecard: every agent, every column, the median, the flags. */
function assertTableIs(got, card) {
  const keys = [...new Set(got.map((c) => c.key))].filter((k) => k !== "agent");
  const rows = [{ agent: null, values: card.team_median, flags: {} }, ...card.agents.map((a) => ({ agent: a.agent, values: a, flags: a.flags }))];
  for (const row of rows) {
    for (const key of keys) {
      const c = got.find((x) => x.agent === row.agent && x.key === key);
      assert.ok(c, `no cell ${row.agent ?? "median"}/${key}`);
      assert.equal(c.value, row.values[key] ?? null, `${row.agent ?? "median"}/${key}`);
      assert.equal(c.flag, row.flags[key] ?? null, `flag of ${row.agent ?? "median"}/${key}`);
    }
  }
  assert.equal(new Set(got.filter((c) => c.agent).map((c) => c.agent)).size, card.agents.length);
}

test("the golden trace's scorecard: numbers, median row, flags by word, period, CSV", async () => {
  const { base } = await demo(["--trace", join(DATA, "extra/scorecard.jsonl")]);
  await until("the trace applied", async () => (await scorecard(base, "default", "today")).agents?.length === 4);
  const { p, ctx, errors } = await open(base, "tenant=default&lang=en");
  const today = await scorecard(base, "default", "today");
  assertTableIs(await cells(p), today);
  const got = await cells(p);
  assert.equal(got.find((c) => c.agent === null && c.key === "agent").text, "Team median");
  // a3's AHT of 300 s is flagged high: colour (class), arrow and word.
  const aht = got.find((c) => c.agent === "a3" && c.key === "aht_ms");
  assert.equal(aht.flag, "high");
  assert.match(aht.text, /300\.0 s▲ high/);
  assert.match(got.find((c) => c.agent === "a3" && c.key === "csat").text, /▼ low/);
  assert.equal(got.find((c) => c.agent === "a4" && c.key === "occupancy").flag, "low");
  // Sorting by AHT, highest first: a3 leads, the median row stays on top.
  await p.click('th[data-key="aht_ms"]');
  await p.click('th[data-key="aht_ms"]');
  const order = await p.$$eval("#sc-body tr", (rows) => rows.map((r) => r.dataset.agent ?? "median"));
  assert.deepEqual(order.slice(0, 2), ["median", "a3"]);
  // The CSV link downloads the same scorecard.
  const href = await p.getAttribute("#csv", "href");
  const bytes = new Uint8Array(await (await fetch(base + href)).arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], "a UTF-8 byte-order mark");
  const csv = new TextDecoder().decode(bytes);
  assert.ok(csv.startsWith("row,agent,handled,"), csv.slice(0, 40));
  assert.ok(csv.includes("\r\nagent,a3,5,300000,"), csv);
  // The week: a1 handled a call the day before.
  await p.selectOption("#period", "week");
  await p.waitForFunction(() => window.scorecard.card?.period === "week");
  assertTableIs(await cells(p), await scorecard(base, "default", "week"));
  assert.ok((await p.getAttribute("#csv", "href")).includes("period=week"));
  await p.screenshot({ path: join(ARTIFACTS, "scorecard-en.png"), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(await p.evaluate(() => [...window.scorecard.missing]), []);
  await ctx.close();
});

test("the scorecard page speaks zh-CN completely", async () => {
  const { base } = await demo(["--trace", join(DATA, "extra/scorecard.jsonl")]);
  await until("the trace applied", async () => (await scorecard(base, "default", "today")).agents?.length === 4);
  const { p, ctx, errors } = await open(base, "tenant=default&lang=zh-CN");
  const keys = await p.evaluate(() => [Object.keys(window.SC_TEXT.en).sort(), Object.keys(window.SC_TEXT["zh-CN"]).sort()]);
  assert.deepEqual(keys[1], keys[0], "same keys in both languages");
  const heads = await p.$$eval("#sc-head th", (ths) => ths.map((t) => t.textContent));
  assert.equal(heads[0], "座席");
  assert.ok(heads.includes("平均处理时长") && heads.includes("满意度"), heads.join(","));
  const got = await cells(p);
  assert.equal(got.find((c) => c.agent === null && c.key === "agent").text, "团队中位数");
  assert.match(got.find((c) => c.agent === "a3" && c.key === "aht_ms").text, /▲ 偏高/);
  assert.equal(await p.textContent("#period option[value=week]"), "近 7 天");
  assert.ok((await p.getAttribute("#csv", "href")).includes("lang=zh-CN"));
  // No English left in the page's own strings.
  const text = await p.textContent("body");
  for (const en of ["Team median", "Handled", "Download CSV", "high", "Period"]) assert.ok(!text.includes(en), `"${en}" in zh-CN`);
  await p.screenshot({ path: join(ARTIFACTS, "scorecard-zh-CN.png"), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(await p.evaluate(() => [...window.scorecard.missing]), []);
  await ctx.close();
});

test("the demo's scorecard is plausible and the page shows the API's numbers", async () => {
  const { base } = await demo(["--speed", "60"]);
  const card = await until("agents with 5+ calls", async () => {
    const c = await scorecard(base, "acme", "today");
    return c.agents?.filter((a) => a.handled >= 5).length >= 5 ? c : null;
  }, 60000);
  const busy = card.agents.filter((a) => a.handled >= 5);
  for (const a of busy) {
    assert.ok(a.aht_ms > 30000 && a.aht_ms < 1800000, `${a.agent} AHT ${a.aht_ms}`);
    assert.ok(Math.abs(a.avg_talk_ms + a.avg_hold_ms + a.avg_acw_ms - a.aht_ms) < 1e-6 * a.aht_ms);
    assert.ok(a.occupancy > 0 && a.occupancy <= 1, `${a.agent} occupancy ${a.occupancy}`);
  }
  assert.ok(card.agents.some((a) => a.surveys > 0), "some surveys");
  assert.ok(card.team_median.aht_ms > 0);
  const { p, ctx, errors } = await open(base, "lang=en");
  // The page's table is the scorecard it fetched (the demo moves on).
  const shown = await p.evaluate(() => window.scorecard.card);
  assert.equal(shown.tenant, "acme");
  assertTableIs(await cells(p), shown);
  assert.deepEqual(errors, []);
  await ctx.close();
});
