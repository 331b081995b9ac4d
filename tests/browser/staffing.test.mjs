// Live staffing and intraday attainment on the queue tiles (docs/metrics.md,
// "Live staffing", "Intraday attainment"): what the tile shows is what the
// REST API says, in English and Chinese.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DATA, demo, newContext, useBrowser } from "./helpers.mjs";

useBrowser();

test("need · have and intervals met equal the REST API's", async () => {
  const { base } = await demo(["--trace", join(DATA, "attainment.jsonl"), "--interval", "30"]);
  const ctx = await newContext({ viewport: { width: 1600, height: 1000 }, locale: "en-US" });
  const p = await ctx.newPage();
  for (const lang of ["en", "zh-CN"]) {
    await p.goto(`${base}/?lang=${lang}&tenant=att`);
    await p.waitForSelector('.tile[data-queue="support"] .staffing');
    const rest = await (await fetch(`${base}/api/v1/tenants/att/queues`)).json();
    for (const q of rest.queues) {
      const tile = `.tile[data-queue="${q.queue}"]`;
      const staffing = await p.$eval(`${tile} .staffing`, (e) => ({ ...e.dataset, text: e.querySelector(".value").textContent, cls: e.className }));
      assert.equal(staffing.need, String(q.staffing.required_agents), `${q.queue} need`);
      assert.equal(staffing.have, String(q.staffing.serving), `${q.queue} have`);
      assert.equal(staffing.text, `${q.staffing.required_agents} · ${q.staffing.serving}`);
      // Red only when short.
      assert.equal(staffing.cls.includes(" bad"), q.staffing.gap > 0, `${q.queue} colour`);
      const met = await p.$eval(`${tile} .attained`, (e) => ({ ...e.dataset, text: e.querySelector(".value").textContent }));
      assert.equal(met.met, String(q.attainment.met), `${q.queue} met`);
      assert.equal(met.intervals, String(q.attainment.intervals), `${q.queue} intervals`);
      assert.equal(met.text, `${q.attainment.met}/${q.attainment.intervals}`);
    }
    const label = await p.textContent('.tile[data-queue="sales"] .staffing .label');
    assert.equal(label, lang === "en" ? "Need · have" : "需要 · 在岗");
    assert.deepEqual(await p.evaluate(() => [...window.wallboard.missing]), [], "strings missing");
  }
  await ctx.close();
});
