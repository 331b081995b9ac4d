// The agent view at scale (issue 11 items 2 and 5) in Debian's headless
// Chromium: compact kiosk mode shows 300+ agents on one 4K screen, every
// card inside the viewport and no name cut; when the cards do not fit, the
// agent view pages and its page indicator turns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ARTIFACTS, demo, newContext, until, useBrowser } from "./helpers.mjs";

useBrowser();

async function open(base, query, width, height) {
  const ctx = await newContext({ viewport: { width, height }, locale: "en-US" });
  const p = await ctx.newPage();
  const errors = [];
  p.on("pageerror", (e) => errors.push(String(e)));
  await p.goto(`${base}/?${query}`);
  await p.waitForSelector(".agent", { state: "attached" });
  return { p, ctx, errors };
}

/** Shown agents (logged-out ones without an adherence problem are not), per the REST API. */
async function shownAgents(base) {
  const { agents } = await (await fetch(`${base}/api/v1/tenants/acme/agents`)).json();
  return agents.filter((a) => a.state !== "logged_out" || a.adherent === false).length;
}

test("compact kiosk mode shows 300+ agents on one 4K screen, none cut", async () => {
  const { base } = await demo(["--queues", "5", "--agents", "320"]);
  await until("300+ agents signed in", async () => (await shownAgents(base)) >= 300, 30000);
  const { p, ctx, errors } = await open(base, "kiosk=1&compact=1&layout=agents&lang=en", 3840, 2160);
  await p.waitForFunction(() => document.querySelectorAll(".agent").length >= 300);
  const report = await p.evaluate(() => {
    const cards = [...document.querySelectorAll(".agent")];
    const outside = cards.filter((c) => {
      const r = c.getBoundingClientRect();
      return r.left < 0 || r.top < 0 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1;
    }).map((c) => c.dataset.agent);
    const cut = cards.filter((c) => {
      const n = c.querySelector(".aname"), t = c.querySelector(".atime");
      return n.scrollWidth > n.clientWidth + 1 || t.scrollWidth > t.clientWidth + 1;
    }).map((c) => c.dataset.agent);
    const de = document.documentElement;
    return {
      cards: cards.length, outside, cut,
      scroll: de.scrollHeight > innerHeight + 1 || de.scrollWidth > innerWidth + 1,
      paged: !document.getElementById("agents-pager").hidden,
    };
  });
  assert.ok(report.cards >= 300, `${report.cards} cards`);
  assert.deepEqual(report.outside, [], "cards outside the viewport");
  assert.deepEqual(report.cut, [], "names or times cut");
  assert.equal(report.scroll, false, "the page scrolls");
  assert.equal(report.paged, false, "all on one page");
  // Every shown agent is on the screen (the API's count, at about the same moment).
  const api = await shownAgents(base);
  assert.ok(Math.abs(api - report.cards) <= 5, `${report.cards} cards, ${api} agents shown by the API`);
  await p.screenshot({ path: join(ARTIFACTS, "tv-agents-compact-320-3840x2160.png") });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("the agent view pages when the cards do not fit, and the indicator turns", async () => {
  const { base } = await demo(["--queues", "3", "--agents", "120"]);
  const { p, ctx, errors } = await open(base, "kiosk=1&lang=en&page=2", 1920, 1080);
  const pager = "#agents-pager";
  await p.waitForFunction((s) => !document.querySelector(s).hidden && Number(document.querySelector(s).dataset.pages) > 1, pager);
  const first = await p.getAttribute(pager, "data-page");
  // (The number of pages follows the agents signed in.)
  assert.match(await p.textContent(`${pager} .pagetext`), new RegExp(`^Page ${first} of \\d+$`));
  // Pages turn every 2 s: the indicator moves on, without a reload.
  await p.waitForFunction(([s, f]) => document.querySelector(s).dataset.page !== f, [pager, first], { timeout: 10000 });
  const next = await p.getAttribute(pager, "data-page");
  assert.notEqual(next, first);
  assert.match(await p.textContent(`${pager} .pagetext`), new RegExp(`^Page ${next} of \\d+$`));
  // Every card of the page is inside the agent section.
  const outside = await p.evaluate(() => {
    const r = document.getElementById("agents-section").getBoundingClientRect();
    return [...document.querySelectorAll(".agent")].filter((c) => c.getBoundingClientRect().bottom > r.bottom + 1).length;
  });
  assert.equal(outside, 0);
  await p.screenshot({ path: join(ARTIFACTS, "tv-agents-paging-1920x1080.png") });
  assert.deepEqual(errors, []);
  await ctx.close();
});
