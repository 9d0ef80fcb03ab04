// Clicks through a generated quiz in Debian's stock Firefox ESR, driven over WebDriver BiDi by
// puppeteer-core (which downloads no browser), and prints what it saw as one JSON object.
//
//   node quiz_firefox.mjs PLAN.json
//
// PLAN: {quiz, downloads, firefox, answers (one emotion per item, or null to press "1"),
//        proxy_port (every http(s) request Firefox makes goes to this local recorder),
//        probe_url (loaded once before the quiz, through that proxy, to show it records),
//        screenshot (optional: a full-page PNG of the results),
//        prefs (optional: more Firefox preferences), start_only (stop at the start screen)}.
// Python (tests/fixtures/firefox.py) makes the plan, runs this, and asserts on the output.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const TIMEOUT = 30_000;

const prefs = {
  // downloads land in plan.downloads, without a dialog
  "browser.download.dir": plan.downloads,
  "browser.download.folderList": 2,
  "browser.download.useDownloadDir": true,
  "browser.download.always_ask_before_handling_new_types": false,
  "browser.download.start_downloads_in_tmp_dir": false,
  "browser.download.alwaysOpenPanel": false,
  // Firefox's own background fetches (Remote Settings) would reach the recording proxy and
  // hide the page's: point them nowhere (honoured with MOZ_REMOTE_SETTINGS_DEVTOOLS, below)
  "services.settings.server": "data:,#remote-settings-dummy/v1",
};
Object.assign(prefs, plan.prefs || {});
if (plan.proxy_port) {
  Object.assign(prefs, {
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1", "network.proxy.http_port": plan.proxy_port,
    "network.proxy.ssl": "127.0.0.1", "network.proxy.ssl_port": plan.proxy_port,
    "network.proxy.share_proxy_settings": true,
    "network.proxy.no_proxies_on": "",
    "network.proxy.allow_hijacking_localhost": true,
  });
}

async function downloaded(name) {
  const file = path.join(plan.downloads, name);
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && !fs.existsSync(file + ".part") && fs.statSync(file).size > 0) {
      return fs.readFileSync(file, "utf8");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the download ${name} never arrived in ${plan.downloads}`);
}

const out = { dialogs: [], errors: [], steps: [] };
class StartOnly extends Error {}
const browser = await puppeteer.launch({
  browser: "firefox", executablePath: plan.firefox, headless: true, extraPrefsFirefox: prefs,
  env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: "1" },
});
try {
  out.browser = await browser.version();
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  await page.setViewport({ width: 900, height: 800 });
  page.on("dialog", (d) => { out.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => out.errors.push(String(e)));
  if (plan.probe_url) await page.goto(plan.probe_url);

  await page.goto(pathToFileURL(path.join(plan.quiz, "index.html")).href);
  out.url = page.url();
  out.subjects_text = await page.$eval("#subjects", (e) => e.textContent);
  out.subjects_markup = (await page.$("#subjects b")) !== null;
  out.h264_warning = await page.$eval("#no-h264", (e) => !e.hidden).catch(() => null);
  const data = JSON.parse(await page.$eval("#quiz-data", (e) => e.textContent));
  out.items = data.items;
  if (plan.start_only) throw new StartOnly();
  const keyOf = Object.fromEntries(data.choices.map((c) => [c.emotion, c.key]));

  await page.click("#start-btn");
  for (let i = 0; i < data.items.length; i++) {
    await page.waitForSelector("#choices button:not([disabled])");
    const step = { clip_played: null };
    if (data.stage === "video") {
      step.clip_played = await page.$eval("#clip", (v) => v.ended && v.videoWidth > 0);
    }
    const key = plan.answers ? keyOf[plan.answers[i]] : "1";
    step.key = key;
    await page.keyboard.press(key);  // answers go by the number keys
    if (data.feedback) {
      await page.waitForSelector("#feedback:not([hidden])");
      for (const id of ["truth", "verdict", "note", "source", "aus"]) {
        step[id] = await page.$eval("#" + id, (e) => e.textContent);
      }
      step.feedback_markup = (await page.$("#feedback script, #feedback img, #feedback b")) !== null;
      // the slow replay plays the real clip
      await page.waitForFunction(() => document.getElementById("replay").currentTime > 0);
      step.replay_rate = await page.$eval("#replay", (v) => v.playbackRate);
      step.replay_width = await page.$eval("#replay", (v) => v.videoWidth);
      await page.keyboard.press("Enter");
    }
    out.steps.push(step);
  }
  await page.waitForSelector("#results:not([hidden])");
  out.overall = await page.$eval("#overall", (e) => e.textContent);
  out.feedback_hidden = await page.$eval("#feedback", (e) => e.hidden);
  out.confusion_rows = await page.$$eval("#confusion tr", (rows) => rows.length);
  out.late_cells = await page.$$eval("#timing tbody tr td:last-child", (cells) => cells.map((c) => Number(c.textContent)));
  out.pwned = await page.evaluate(() => (window.__pwned === undefined ? null : window.__pwned));
  await page.click("#download-json");
  out.results = JSON.parse(await downloaded("quiz-results.json"));
  await page.click("#download-csv");
  out.csv = await downloaded("quiz-results.csv");
  if (plan.screenshot) await page.screenshot({ path: plan.screenshot, fullPage: true });
} catch (e) {
  if (!(e instanceof StartOnly)) out.failure = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(out.failure ? 1 : 0);
