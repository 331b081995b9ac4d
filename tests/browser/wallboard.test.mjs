// Browser tests of the wallboard page in Debian's headless Chromium, driven
// by playwright-core, against the real `wallboard demo` binary. Screenshots
// of each view are written to tests/artifacts/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, DATA, demo, newContext, until, useBrowser } from "./helpers.mjs";


useBrowser();

async function page(url) {
  const ctx = await newContext({ viewport: { width: 1600, height: 1000 }, locale: "en-US" });
  const p = await ctx.newPage();
  const dialogs = [];
  p.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await p.goto(url);
  return { p, dialogs };
}

const shot = (p, name) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

test("the live demo connects and shows queue tiles and agents", async () => {
  const { base } = await demo(["--agents", "30"]);
  const { p } = await page(`${base}/?lang=en`);
  await p.waitForSelector('.tile[data-queue="sales"]');
  const queues = await p.$$eval(".tile", (ts) => ts.map((t) => t.dataset.queue));
  assert.deepEqual(queues, ["*", "billing", "sales", "support", "vip"]);
  await until("agent cards", async () => (await p.$$(".agent")).length > 0);
  assert.equal(await p.textContent("#freshness"), "Live");
  assert.equal(await p.textContent("#title"), "Wallboard");
  // Every tile shows calls waiting and a service level with its target.
  for (const q of queues) {
    const waiting = await p.getAttribute(`.tile[data-queue="${q}"] .waiting .value`, "data-raw");
    assert.match(waiting, /^\d+$/);
    assert.match(await p.textContent(`.tile[data-queue="${q}"] .sl .goal`), /target 80\.0%/);
  }
  await shot(p, "wallboard-en");
});

test("numbers on screen equal the REST API's", async () => {
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--interval", "15"]);
  const { p } = await page(`${base}/?lang=en&tenant=edge`);
  await p.waitForSelector('.tile[data-queue="q2"]');
  // What is on screen was rebuilt from deltas (the writer republishes the
  // view every second), then drawn (the render queued before this timer).
  await until("deltas applied", () => p.evaluate(() => window.wallboard.deltas >= 2));
  await p.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  const rest = await (await fetch(`${base}/api/v1/tenants/edge/queues`)).json();
  for (const q of rest.queues) {
    const tile = `.tile[data-queue="${q.queue}"]`;
    const raw = async (cls) => p.getAttribute(`${tile} .${cls} .value`, "data-raw");
    assert.equal(await raw("waiting"), String(q.waiting), `${q.queue} waiting`);
    assert.equal(await raw("offered"), String(q.interval.offered), `${q.queue} offered`);
    const sl = (row) => String(row.sl["20"].sl3);
    assert.equal(await raw("sl"), sl(q.interval), `${q.queue} SL this interval`);
    assert.equal(await raw("sl-today"), sl(q.today), `${q.queue} SL today`);
    assert.equal(await raw("asa"), String(q.interval.asa_ms), `${q.queue} ASA`);
    for (const s of ["available", "on_call", "not_ready"]) {
      const shown = await p.textContent(`${tile} .st[data-state="${s}"] b`);
      assert.equal(shown, String(q.agents[s]), `${q.queue} ${s}`);
    }
  }
  // Ann logged out while scheduled to work: flagged out of adherence.
  await p.waitForSelector('.agent[data-agent="ann"].ooa');
  assert.match(await p.textContent('.agent[data-agent="ann"] .flag'), /Out of adherence/);
  // For as long as the API says (the card counts on between pushes).
  const seconds = (text) => text.split(":").reduce((acc, x) => acc * 60 + Number(x), 0);
  const api = await (await fetch(`${base}/api/v1/tenants/edge/agents`)).json();
  const ann = api.agents.find((a) => a.agent === "ann");
  const want = (api.now_ms - ann.out_of_adherence_since_ms) / 1000;
  const shown = seconds(await p.textContent('.agent[data-agent="ann"] .ooa-time'));
  // She logged out after her work segment began: out of adherence since
  // then (docs/metrics.md, "Out of adherence since"), not since "now".
  assert.equal(ann.out_of_adherence_since_ms, ann.since_ms);
  assert.ok(ann.out_of_adherence_since_ms < api.now_ms);
  assert.ok(Math.abs(shown - want) <= 3, `card shows ${shown} s, the API ${want} s`);
  await shot(p, "wallboard-edge-trace");
});

test("kiosk mode in zh-CN", async () => {
  const { base } = await demo(["--agents", "30"]);
  const { p } = await page(`${base}/?kiosk=1&lang=zh-CN&theme=light&layout=tiles`);
  await p.waitForSelector(".tile");
  assert.equal(await p.textContent("#title"), "实时监控大屏");
  assert.equal(await p.isVisible(".controls"), false, "no controls in kiosk mode");
  assert.equal(await p.isVisible("#agents-section"), false, "tiles layout hides agents");
  assert.match(await p.textContent('.tile[data-queue="*"] .qname'), /全部队列/);
  assert.match(await p.textContent('.tile[data-queue="*"] .waiting .label'), /排队数/);
  assert.equal(await p.getAttribute("html", "lang"), "zh-CN");
  await shot(p, "wallboard-kiosk-zh-CN");
});

test("names from events are shown as text, never run", async () => {
  const evil = "<img src=x onerror=alert(1)>";
  const evil2 = "<script>window.__xss=1</script>";
  const dir = mkdtempSync(join(tmpdir(), "wb-xss-"));
  const trace = join(dir, "xss.jsonl");
  const t0 = 1795424400000;
  const ev = (i, kind, rest) => JSON.stringify({ v: 1, id: `x${i}`, ts: t0 + i * 1000, tenant: "xss", kind, ...rest });
  writeFileSync(
    trace,
    [
      ev(1, "agent_queues", { agent: evil, queues: [evil] }),
      ev(2, "agent_state", { agent: evil, state: "not_ready", reason: evil2 }),
      ev(3, "call_queued", { call: evil2, queue: evil }),
    ].join("\n") + "\n"
  );
  const { base } = await demo(["--trace", trace]);
  const { p, dialogs } = await page(`${base}/?lang=en`);
  await p.waitForSelector(".agent");
  assert.equal(await p.textContent(".tile:nth-child(2) .qname"), evil);
  assert.equal(await p.textContent(".agent .aname"), evil);
  assert.match(await p.textContent(".agent .astate"), /<script>/);
  assert.equal(await p.$$eval("main img, main script", (n) => n.length), 0);
  assert.equal(await p.evaluate(() => window.__xss), undefined);
  assert.deepEqual(dialogs, []);
  await shot(p, "wallboard-xss");
});

test("a firing alert shows in the banner", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wb-alert-"));
  const cfg = join(dir, "wallboard.toml");
  writeFileSync(
    cfg,
    '[[alerts]]\nname = "nobody available"\nmetric = "agents_available"\nop = "<="\nthreshold = 0\nseverity = "critical"\n'
  );
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--interval", "15", "--config", cfg]);
  const { p } = await page(`${base}/?lang=en`);
  await p.waitForSelector('#alerts .alert[data-rule="nobody available"]', { timeout: 10000 });
  assert.equal(await p.isVisible("#alerts"), true);
  assert.match(await p.textContent("#alerts"), /CRITICAL.*nobody available/);
  await shot(p, "wallboard-alert-banner");
});

test("a stopped server shows as stale within 5 s", async () => {
  const { base, proc } = await demo(["--agents", "20"]);
  const { p } = await page(`${base}/?lang=en`);
  await p.waitForSelector(".tile");
  assert.equal(await p.getAttribute("#freshness", "class"), "fresh");
  const stopped = Date.now();
  proc.kill("SIGKILL");
  await p.waitForSelector("#freshness.offline", { timeout: 5000 });
  const seconds = (Date.now() - stopped) / 1000;
  assert.ok(seconds <= 5, `shown after ${seconds} s`);
  assert.match(await p.textContent("#freshness"), /Reconnecting/);
  await shot(p, "wallboard-stale");
});

// Keys sorted, so that two objects that say the same compare equal.
const canonical = (v) =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === "object"
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]))
      : v;

test("deltas applied by the page give the server's full snapshot of the same version", async () => {
  const { base } = await demo(["--agents", "30", "--speed", "20"]);
  const { p } = await page(`${base}/?lang=en&queues=sales`);
  // The board itself runs on deltas.
  await until("the board applies deltas", () => p.evaluate(() => window.wallboard.deltas >= 3));
  // Two more connections of one subscription (same queues, deltas): one
  // rebuilds every version from deltas as the board does, the other's
  // first push is the full snapshot of the version current then.
  const got = await p.evaluate(async () => {
    const open = (on) => {
      const ws = new WebSocket(`ws://${location.host}/ws?queues=sales&delta=1`);
      ws.onmessage = (m) => on(JSON.parse(m.data), ws);
      return ws;
    };
    const wait = async (ok) => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      return ok();
    };
    const rebuilt = new Map();
    const viaDelta = new Set();
    let last = null;
    const a = open((m) => {
      if (m.type === "delta") {
        last = window.wallboard.applyDelta(last, m);
        if (last) viaDelta.add(last.version);
      } else if (m.type === "snapshot") last = m;
      else return;
      if (last) rebuilt.set(last.version, last);
    });
    await wait(() => viaDelta.size >= 3);
    const full = await new Promise((ok) =>
      open((m, ws) => {
        if (m.type === "snapshot") {
          ws.close();
          ok(m);
        }
      })
    );
    await wait(() => rebuilt.has(full.version));
    a.close();
    return { full, rebuilt: rebuilt.get(full.version) || null, viaDelta: viaDelta.has(full.version), deltas: viaDelta.size };
  });
  assert.ok(got.deltas >= 3, "deltas arrived");
  assert.ok(got.rebuilt, `version ${got.full.version} reached`);
  assert.ok(got.viaDelta, `version ${got.full.version} came as a delta`);
  const same = (m) => canonical({ ...m, server_ms: 0 });
  assert.deepEqual(same(got.rebuilt), same(got.full));
});
