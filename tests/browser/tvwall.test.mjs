// The TV wall (issue 11) in Debian's headless Chromium: the kiosk board fits
// every common screen with nothing clipped, type scales with the screen,
// every UI string exists in both languages, colours follow the configured
// bands, boards order and filter, the alert banner speaks people's language,
// and what the chart and agent cards show equals the REST API. Screenshots
// land in tests/artifacts/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, DATA, demo, layoutSettled, newContext, root, until, useBrowser } from "./helpers.mjs";
import vm from "node:vm";

const UI = join(root, "wallboard-web/ui");

useBrowser(["--autoplay-policy=no-user-gesture-required"]);

function config(text) {
  const dir = mkdtempSync(join(tmpdir(), "wb-tv-"));
  const file = join(dir, "wallboard.toml");
  writeFileSync(file, text);
  return file;
}

async function newPage(width, height, locale = "en-US") {
  const ctx = await newContext({ viewport: { width, height }, locale });
  const p = await ctx.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  const dialogs = [];
  p.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  return { p, ctx, errors, dialogs };
}

const shot = (p, name) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/** Everything that does not fit: page scroll, content outside its tile or section, clipped numbers. */
function overflowReport() {
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > innerWidth + 1) out.push(`page scrolls sideways (${de.scrollWidth} > ${innerWidth})`);
  if (de.scrollHeight > innerHeight + 1) out.push(`page scrolls down (${de.scrollHeight} > ${innerHeight})`);
  const inside = (box, root, what) => {
    const r = root.getBoundingClientRect();
    for (const e of root.querySelectorAll("*")) {
      const b = e.getBoundingClientRect();
      if (b.width === 0 && b.height === 0) continue;
      if (getComputedStyle(e).position === "absolute" && e.closest(".sr-only")) continue;
      if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1)
        out.push(`${what}: <${e.tagName.toLowerCase()} class="${e.className}"> "${e.textContent.slice(0, 30)}" outside`);
      // Truncation is allowed only where it is meant (names, with the full text in a title).
      const cs = getComputedStyle(e);
      const ellipsis = cs.textOverflow === "ellipsis";
      if (!ellipsis && cs.display !== "inline" && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) && !e.closest(".sr-only, .uplot"))
        out.push(`${what}: <${e.tagName.toLowerCase()} class="${e.className}"> "${e.textContent.slice(0, 30)}" overflows its box`);
    }
  };
  for (const t of document.querySelectorAll(".tile")) inside(t, t, `tile ${t.dataset.queue}`);
  for (const s of document.querySelectorAll("main > section")) {
    if (getComputedStyle(s).display === "none") continue;
    const r = s.getBoundingClientRect();
    for (const e of s.querySelectorAll(".agent, .pager, #agent-counts, #legend, #chart")) {
      const b = e.getBoundingClientRect();
      if (b.width && (b.bottom > r.bottom + 1 || b.right > r.right + 1)) out.push(`${s.id}: ${e.className || e.id} outside its section`);
    }
  }
  for (const v of document.querySelectorAll(".tile .value")) {
    if (v.scrollWidth > v.clientWidth + 1) out.push(`value "${v.textContent}" clipped`);
  }
  return out;
}

const VIEWPORTS = [[1920, 1080], [3840, 2160], [1080, 1920]];

test("the kiosk board fits 1080p, 4K and portrait with 1, 5, 12 and 40 queues, en and zh-CN", async () => {
  const slSize = {};
  for (const n of [1, 5, 12, 40]) {
    const { base } = await demo(["--queues", String(n), "--agents", String(Math.max(20, n * 3))]);
    for (const [w, h] of VIEWPORTS) {
      const { p, ctx, errors } = await newPage(w, h);
      for (const lang of ["en", "zh-CN"]) {
        // Pages turn by the clock (every 15 s by default); one page a day
        // keeps every viewport on the same page, so sizes compare like for like.
        await p.goto(`${base}/?kiosk=1&lang=${lang}&page=86400`);
        await p.waitForSelector(".tile .sl .value");
        await p.waitForFunction(() => document.querySelectorAll(".agent").length > 0);
        // Queues appear as the simulator's first calls reach them: measure
        // the board with every queue on it (and "All queues").
        await p.waitForFunction((n) => (window.wallboard.last?.snapshot?.queues.length || 0) > n, n);
        // ... and live: a freshness banner (while the demo starts) takes room.
        await p.waitForFunction(() => document.getElementById("freshness").dataset.state === "live");
        await layoutSettled(p);
        const problems = await p.evaluate(overflowReport);
        assert.deepEqual(problems, [], `${n} queues at ${w}×${h} ${lang}`);
        assert.deepEqual(await p.evaluate(() => [...window.wallboard.missing]), [], "strings missing");
        // No lone tile on the last row.
        const rows = await p.$$eval(".tile", (ts) => {
          const tops = new Map();
          for (const t of ts) tops.set(Math.round(t.getBoundingClientRect().top), (tops.get(Math.round(t.getBoundingClientRect().top)) || 0) + 1);
          return [...tops.values()];
        });
        if (rows.length > 1) assert.ok(rows[rows.length - 1] * 2 >= rows[0], `orphan tiles ${rows} (${n} queues, ${w}×${h})`);
        if (lang === "en") {
          slSize[`${n}:${w}x${h}`] = await p.evaluate(() =>
            parseFloat(getComputedStyle(document.querySelector(".tile .sl .value")).fontSize)
          );
        }
        if (n === 5 || n === 40) await shot(p, `tv-kiosk-${n}q-${w}x${h}-${lang}`);
      }
      assert.deepEqual(errors, []);
      await ctx.close();
    }
    const ratio = slSize[`${n}:3840x2160`] / slSize[`${n}:1920x1080`];
    assert.ok(ratio >= 1.8, `${n} queues: SL at 4K is ${ratio.toFixed(2)}× its 1080p size (${JSON.stringify(slSize)})`);
  }
});

test("a 390 px phone does not scroll sideways", async () => {
  const { base } = await demo(["--queues", "5", "--agents", "30"]);
  for (const lang of ["en", "zh-CN"]) {
    const { p, ctx } = await newPage(390, 844);
    await p.goto(`${base}/?lang=${lang}`);
    await p.waitForSelector(".agent");
    const sw = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(sw <= 390, `${lang}: scrollWidth ${sw}`);
    for (const v of await p.$$eval(".tile .value", (vs) => vs.filter((v) => v.scrollWidth > v.clientWidth + 1).map((v) => v.textContent)))
      assert.fail(`clipped on a phone: ${v}`);
    await p.screenshot({ path: join(ARTIFACTS, `tv-phone-${lang}.png`), fullPage: true });
    await ctx.close();
  }
});

test("every UI string exists in English and Chinese", () => {
  const sandbox = { window: {} };
  vm.runInNewContext(readFileSync(join(UI, "i18n.js"), "utf8"), sandbox);
  const { en, "zh-CN": zh } = sandbox.window.I18N;
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort(), "same keys in both languages");
  for (const [k, v] of Object.entries({ ...en, ...zh })) assert.ok(typeof v === "string" && v.length, `empty ${k}`);
  const code = ["app.js", "tilefit.js", "chart.js", "messages.js"].map((f) => readFileSync(join(UI, f), "utf8")).join("\n");
  const html = readFileSync(join(UI, "index.html"), "utf8");
  const used = new Set([...code.matchAll(/\bt\("([a-z0-9_]+)"/g), ...html.matchAll(/data-i18n="([a-z0-9_]+)"/g)].map((m) => m[1]).filter((k) => !k.endsWith("_")));
  // Keys built from a prefix and a value (states, severities, metrics, …).
  const states = ["available", "ringing", "on_call", "acw", "not_ready", "logged_out"];
  for (const s of states) used.add(s);
  for (const s of states.slice(0, 5)) used.add("st_" + s);
  for (const s of ["critical", "warning", "info"]) used.add("sev_" + s);
  for (const m of ["waiting", "oldest_wait_s", "abandon_rate", "asa_s", "aht_s", "occupancy", "agents_available", "blocked", "out_of_adherence_minutes", "staffing_gap", "required_agents", "projected_service_level", "csat", "csat_mean", "qa_score", "fcr"]) used.add("m_" + m);
  for (const o of ["lt", "le", "gt", "ge"]) used.add("op_" + o);
  for (const s of ["good", "warn", "bad"]) used.add("status_" + s);
  for (const s of ["state", "name"]) used.add("sort_" + s);
  for (const v of ["sl1", "sl2", "sl3", "sl4"]) used.add(v);
  for (const r of ["break", "lunch", "meeting", "training", "coaching", "admin", "other", "none"]) used.add("reason_" + r);
  for (const k of used) {
    assert.ok(k in en, `"${k}" has no English string`);
    assert.ok(k in zh, `"${k}" has no Chinese string`);
  }
});

const BOARD_CONFIG = `
[[queues]]
name = "q2"
labels = { en = "Second <b>line</b>", "zh-CN" = "二线" }
order = 1
waiting = { amber = 1, red = 2 }
asa_s = { amber = 1, red = 2 }
abandon_rate = { amber = 0.01, red = 0.02 }
sl_target = 0.9
sl_amber = 0.5

[[queues]]
name = "q1"
label = "First"
order = 2

[display.state_limits_s]
not_ready = { amber = 1, red = 2 }

[[boards]]
name = "floor2"
queues = ["q2", "q1"]
all_queues = "last"
layout = "full"

[[agents]]
id = "bob"
name = "Bob <i>Smith</i>"
team = "North"

[[agents]]
id = "ann"
name = "Ann Lee"
team = "South"

[[reasons]]
code = "lunch"
labels = { en = "Lunch <script>x</script>", "zh-CN" = "午饭" }

[[alerts]]
name = "queue backlog"
metric = "waiting"
op = ">="
threshold = 0
severity = "critical"
`;

test("boards order queues, colour by the configured bands and name agents from the configuration", async () => {
  const cfg = config(BOARD_CONFIG);
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--interval", "15", "--config", cfg]);
  const { p, ctx, dialogs } = await newPage(1920, 1080);
  await p.goto(`${base}/?board=floor2&kiosk=1&lang=en&tenant=edge&sound=1`);
  await p.waitForSelector('.tile[data-queue="q1"]');
  assert.deepEqual(await p.$$eval(".tile", (ts) => ts.map((t) => t.dataset.queue)), ["q2", "q1", "*"]);
  // Labels from the configuration are text, per language.
  assert.equal(await p.textContent('.tile[data-queue="q2"] .qname'), "Second <b>line</b>");
  assert.equal(await p.textContent('.tile[data-queue="*"] .qname'), "All queues");
  // Every coloured number has a shape too.
  const rest = await (await fetch(`${base}/api/v1/tenants/edge/queues`)).json();
  const q2 = rest.queues.find((q) => q.queue === "q2");
  const cls = (m) => p.getAttribute(`.tile[data-queue="q2"] .metric.${m}`, "class");
  const band = (v, a, r) => (v === null ? "none" : v >= r ? "bad" : v >= a ? "warn" : "good");
  assert.match(await cls("waiting"), new RegExp(band(q2.waiting, 1, 2)));
  if (q2.interval.asa_ms !== null) assert.match(await cls("asa"), new RegExp(band(q2.interval.asa_ms / 1000, 1, 2)));
  for (const m of await p.$$(".tile .metric.good, .tile .metric.warn, .tile .metric.bad")) {
    assert.ok(await m.$(".mark"), "a coloured metric without a mark");
  }
  // Agents: display names, team, reason labels; numbers equal the REST API.
  await p.waitForSelector('.agent[data-agent="bob"]');
  assert.equal(await p.textContent('.agent[data-agent="bob"] .aname'), "Bob <i>Smith</i>");
  const agents = (await (await fetch(`${base}/api/v1/tenants/edge/agents`)).json()).agents;
  const byState = {};
  for (const a of agents) if (a.state !== "logged_out" || a.adherent === false) byState[a.state] = (byState[a.state] || 0) + 1;
  for (const s of ["available", "on_call", "acw", "not_ready"]) {
    assert.equal(await p.textContent(`#agent-counts .count[data-state="${s}"] b`), String(byState[s] || 0), s);
  }
  const lunch = agents.find((a) => a.reason === "lunch");
  if (lunch) assert.match(await p.textContent(`.agent[data-agent="${lunch.agent}"] .astate`), /Lunch <script>x<\/script>/);
  // The alert banner: rule name, "All queues", integers, translated.
  await p.waitForSelector("#alerts .alert");
  const line = await p.textContent('#alerts .alert[data-rule="queue backlog"]');
  assert.match(line, /queue backlog: (All queues|Second <b>line<\/b>|First) · calls waiting \(last 15 min\) is \d+, at least 0$/);
  assert.doesNotMatch(line, /\*|\d\.\d{3}/);
  // One chime per new critical alert, not repeated.
  await until("a chime", () => p.evaluate(() => window.wallboard.chimes > 0));
  const chimes = await p.evaluate(() => window.wallboard.chimes);
  await p.waitForTimeout(2500);
  assert.equal(await p.evaluate(() => window.wallboard.chimes), chimes);
  assert.equal(await p.$$eval("main img, main script", (n) => n.length), 0);
  assert.equal(await p.$eval('.tile[data-queue="q2"] .qname', (e) => e.children.length), 0);
  assert.equal(await p.$eval('.agent[data-agent="bob"] .aname', (e) => e.children.length), 0);
  assert.deepEqual(dialogs, []);
  await shot(p, "tv-board-floor2-en");
  await p.goto(`${base}/?board=floor2&kiosk=1&lang=zh-CN&tenant=edge`);
  await p.waitForSelector('.tile[data-queue="q2"]');
  assert.equal(await p.textContent('.tile[data-queue="q2"] .qname'), "二线");
  assert.match(await p.textContent("#alerts"), /queue backlog：.* · 排队数（近15分钟）为 \d+，不低于 0/);
  assert.deepEqual(await p.evaluate(() => [...window.wallboard.missing]), []);
  await shot(p, "tv-board-floor2-zh-CN");
  // A team filter keeps only that team's agents.
  await p.goto(`${base}/?lang=en&tenant=edge&team=North`);
  await p.waitForSelector('.agent[data-agent="bob"]');
  assert.equal(await p.$$eval('.agent[data-agent="ann"]', (n) => n.length), 0);
  await ctx.close();
});

test("an SL threshold that is not computed says so instead of showing another", async () => {
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--interval", "15"]);
  const { p, ctx } = await newPage(1600, 1000);
  await p.goto(`${base}/?lang=en&tenant=edge&threshold=17`);
  await p.waitForSelector('.tile[data-queue="q1"]');
  assert.equal(await p.getAttribute('.tile[data-queue="q1"] .sl .value', "data-raw"), "not_computed");
  assert.equal(await p.textContent('.tile[data-queue="q1"] .sl .value'), "SL3@17s not computed");
  await ctx.close();
});

test("the intraday chart shows the REST API's numbers per interval", async () => {
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--interval", "15"]);
  const { p, ctx } = await newPage(1920, 1080);
  await p.goto(`${base}/?lang=en&tenant=edge&kiosk=1&chart=q1`);
  await p.waitForSelector("#chart tr");
  await p.waitForSelector("#chart canvas");
  const rest = await (await fetch(`${base}/api/v1/tenants/edge/queues`)).json();
  const q1 = rest.queues.find((q) => q.queue === "q1");
  const rows = await p.$$eval("#chart tr", (trs) => trs.map((r) => ({ ...r.dataset })));
  assert.equal(rows.length, q1.intraday.length);
  q1.intraday.forEach((pt, i) => {
    assert.equal(rows[i].start, String(pt.start_ms));
    assert.equal(rows[i].offered, String(pt.offered));
    assert.equal(rows[i].abandoned, String(pt.abandoned));
    const sl = pt.sl["20"].sl3;
    assert.equal(rows[i].sl, sl === null ? "null" : String(sl));
  });
  await shot(p, "tv-chart-edge");
  await ctx.close();
});

test("a queue that refused callers says so on its tile, in both languages, and the board still fits", async () => {
  const { base } = await demo(["--trace", join(root, "tests/golden/extra/blocked.jsonl"), "--interval", "30"]);
  const rest = await (await fetch(`${base}/api/v1/tenants/blk/queues`)).json();
  const sales = rest.queues.find((q) => q.queue === "sales");
  assert.equal(sales.today.blocked, 3);
  for (const [lang, text] of [["en", "3 blocked"], ["zh-CN", "3 通未进队"]]) {
    for (const [w, h] of VIEWPORTS) {
      const { p, ctx, errors } = await newPage(w, h);
      await p.goto(`${base}/?kiosk=1&lang=${lang}&tenant=blk&page=86400`);
      // On the tile's secondary line (docs/metrics.md), first without a plan.
      const blocked = '.tile[data-queue="sales"] .kpi.blocked';
      await p.waitForSelector(blocked);
      assert.equal(await p.getAttribute(blocked, "data-blocked-today"), "3");
      assert.equal(await p.textContent(blocked), text);
      assert.ok(await p.isVisible(blocked), "blocked calls left out");
      assert.match(await p.getAttribute(blocked, "title"), lang === "en" ? /Blocked today .*: 3; this interval: 0/ : /今日拒绝进队.*：3；本时段：0/);
      // Offered itself is unchanged: blocked calls never entered the queue.
      assert.equal(await p.getAttribute('.tile[data-queue="sales"] .offered .value', "data-raw"), String(sales.interval.offered));
      // A queue that refused nobody shows no blocked calls.
      const q = rest.queues.find((x) => !x.today.blocked);
      if (q) assert.equal(await p.$$eval(`.tile[data-queue="${q.queue}"] .kpi.blocked`, (e) => e.length), 0);
      await layoutSettled(p);
      assert.deepEqual(await p.evaluate(overflowReport), [], `${w}×${h} ${lang}`);
      assert.deepEqual(await p.evaluate(() => [...window.wallboard.missing]), [], "strings missing");
      if (w === 1920) await shot(p, `tv-blocked-${lang}`);
      assert.deepEqual(errors, []);
      await ctx.close();
    }
  }
});

test("CSAT, QA and FCR show on the secondary line, in both languages, and the board still fits", async () => {
  const { base } = await demo(["--trace", join(root, "tests/golden/extra/quality.jsonl"), "--interval", "30"]);
  const rest = await (await fetch(`${base}/api/v1/tenants/default/queues`)).json();
  const sales = rest.queues.find((q) => q.queue === "sales");
  // Today (the trace's second day): c6, still pending; the last known day: 1 repeat of 2.
  assert.equal(sales.today.repeat_pending, 1);
  assert.equal(sales.fcr_known.fcr, 0.5);
  const aht = { en: "AHT", "zh-CN": "平均处理时长" };
  for (const [lang, text] of [["en", "FCR 50.0%"], ["zh-CN", "首解率 50.0%"]]) {
    for (const [w, h] of VIEWPORTS) {
      const { p, ctx, errors } = await newPage(w, h);
      await p.goto(`${base}/?kiosk=1&lang=${lang}&page=86400`);
      // On the tile's secondary line (docs/metrics.md), after CSAT.
      const fcr = '.tile[data-queue="sales"] .kpi.fcr';
      await p.waitForSelector(fcr);
      assert.equal(await p.getAttribute(fcr, "data-fcr"), "0.5");
      assert.equal(await p.textContent(fcr), text);
      assert.ok(await p.isVisible(fcr), "FCR left out");
      assert.match(await p.getAttribute(fcr, "title"), lang === "en" ? /FCR 50\.0% \(1 repeat contacts of 2 handled/ : /首次解决率 50\.0%/);
      // AHT's label is AHT alone.
      assert.equal(await p.textContent('.tile[data-queue="sales"] .aht .label'), aht[lang]);
      // A queue without callers, surveys or evaluations shows no FCR.
      assert.equal(await p.$$eval('.tile[data-queue="support"] .kpi.fcr', (e) => e.length), 0);
      await layoutSettled(p);
      assert.deepEqual(await p.evaluate(overflowReport), [], `${w}×${h} ${lang}`);
      assert.deepEqual(await p.evaluate(() => [...window.wallboard.missing]), [], "strings missing");
      if (w === 1920) await shot(p, `tv-quality-${lang}`);
      assert.deepEqual(errors, []);
      await ctx.close();
    }
  }
});
