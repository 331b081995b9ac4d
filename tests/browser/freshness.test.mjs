// Freshness on the board (docs/metrics.md, "Freshness"), in headless
// Chromium against the real `wallboard demo`: an old trace never says
// "Live", an unknown tenant says so, a feed that stops heartbeating is shown
// as lost within its threshold, and an adapter whose PBX is down as
// reconnecting. Screenshots go to tests/artifacts/.
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
  await p.goto(url);
  return p;
}

const shot = (p, name) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const stateOf = (p) => p.getAttribute("#freshness", "data-state");

test("an old day's trace says how old the data is, never Live", async () => {
  const { base } = await demo(["--trace", join(DATA, "day-small.jsonl")]);
  const p = await page(`${base}/?lang=en&tenant=acme`);
  await p.waitForSelector('#freshness[data-state="old_data"]');
  const text = await p.textContent("#freshness");
  assert.match(text, /^Data is \d+ days old$/);
  assert.notEqual(text, "Live");
  // Large and unmistakable: the banner says it too.
  assert.equal(await p.isVisible("#freshness-banner"), true);
  assert.equal(await p.textContent("#freshness-banner"), text);
  const size = await p.$eval("#freshness-banner", (b) => parseFloat(getComputedStyle(b).fontSize));
  assert.ok(size >= 32, `banner font ${size}px`);
  assert.equal(await p.evaluate(() => document.body.classList.contains("is-stale")), true);
  await shot(p, "freshness-old-data");
  await p.click("#lang");
  await until("zh-CN text", async () => /^数据已过时：\d+ 天前$/.test(await p.textContent("#freshness")));
  await shot(p, "freshness-old-data-zh");
});

test("an unknown tenant says so, never Live", async () => {
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl")]);
  const p = await page(`${base}/?lang=en&tenant=nobody`);
  await p.waitForSelector('#freshness[data-state="unknown_tenant"]');
  assert.match(await p.textContent("#freshness"), /Unknown tenant “nobody”/);
  assert.equal(await p.isVisible("#freshness-banner"), true);
  await shot(p, "freshness-unknown-tenant");
});

test("a feed that stops heartbeating shows as lost within the threshold, a PBX down as reconnecting", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wb-fresh-"));
  const cfg = join(dir, "w.toml");
  writeFileSync(cfg, "[freshness]\nquiet_after_s = 1\nfeed_lost_after_s = 2\nold_data_after_s = 300\n");
  const { base } = await demo(["--trace", join(DATA, "edge-basic.jsonl"), "--config", cfg]);
  const beat = (upstream = "up") =>
    fetch(`${base}/ingest/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        v: 1, id: `hb-${Date.now()}`, ts: Date.now(), tenant: "edge",
        kind: "heartbeat", source: "asterisk-queue-log", upstream,
      }),
    });
  const p = await page(`${base}/?lang=en&tenant=edge`);
  // While heartbeats come the feed is fine: quiet (old events, none arriving).
  for (let i = 0; i < 4; i++) {
    assert.equal((await beat()).status, 200);
    await new Promise((r) => setTimeout(r, 500));
  }
  await until("quiet with a healthy feed", async () => (await stateOf(p)) === "quiet");
  assert.match(await p.textContent("#freshness"), /^Quiet — no calls for \d+:\d\d, feed OK$/);
  // The heartbeats stop: lost once silent for more than 2 s (plus a publish).
  await p.waitForSelector('#freshness[data-state="feed_lost"]', { timeout: 6000 });
  assert.match(await p.textContent("#freshness-banner"), /^Asterisk feed silent for 0:0\d$/);
  await shot(p, "freshness-feed-lost");
  // It comes back: no longer lost.
  assert.equal((await beat()).status, 200);
  await until("back from feed_lost", async () => (await stateOf(p)) !== "feed_lost");
  // The adapter lost its PBX connection: reconnecting, not live, not lost.
  assert.equal((await beat("down")).status, 200);
  await p.waitForSelector('#freshness[data-state="reconnecting"]', { timeout: 5000 });
  assert.equal(await p.textContent("#freshness-banner"), "Reconnecting to Asterisk");
  await shot(p, "freshness-reconnecting");
});
