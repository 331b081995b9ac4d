// What every browser test file shares: where things are, one headless
// Chromium per file, and `wallboard demo` processes killed when the file ends.
import { before, after } from "node:test";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.WALLBOARD_BIN || join(root, "target/debug/wallboard");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const DATA = process.env.WALLBOARD_GOLDEN_DIR || resolve(root, "tests/golden");
export const ARTIFACTS = join(root, "tests/artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

let browser;
const servers = [];

/** Launches Chromium before the file's tests (with `extraArgs`) and stops it, and every demo, after. */
export function useBrowser(extraArgs = []) {
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ...extraArgs,
      ],
    });
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) s.kill("SIGKILL");
  });
}

/** A new browser context of the file's Chromium. */
export const newContext = (options) => browser.newContext(options);

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/** Starts `wallboard demo` with `args`; resolves once it is ready. */
export async function demo(args = []) {
  const port = await freePort();
  const proc = spawn(BIN, ["demo", "--listen", `127.0.0.1:${port}`, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  servers.push(proc);
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  await until(`demo on ${base} (${stderr})`, async () => (await fetch(`${base}/readyz`)).ok);
  return { base, proc };
}

/** Waits until the board's re-layout (every second) has settled: two
 *  layouts in a row agree on the tiles per row (the first may predate the
 *  final layout). */
export async function layoutSettled(p) {
  await p.waitForFunction(() => {
    const f = [...document.querySelectorAll(".trow")].map((r) => r.children.length).join(",");
    const same = window.__lastRows === f;
    window.__lastRows = f;
    return same;
  }, null, { polling: 1100 });
}
