// The page of `diplomacy serve` in a real browser: Debian's Chromium driven
// by playwright-core (no browser download), against the real binary on an
// ephemeral port. What a person sees is asserted, and a screenshot is kept
// under target/.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { root, startServer } = require('./server');

const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshot = path.join(root, 'target', 'page-screenshot.png');

let server;
let base;
let browser;

before(async () => {
  assert.ok(fs.existsSync(browserPath),
    `${browserPath} not found: apt-get install chromium chromium-driver (tests/run.sh does, as root), or set CHROMIUM`);
  server = await startServer('diplomacy-page-');
  base = `http://${server.address}`;
  browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  await server.stop();
});

async function ask(page, a, b, date) {
  await page.fill('#a', a);
  await page.fill('#b', b);
  await page.fill('#date', date);
  await page.press('#date', 'Enter');
}

test('Türkiye and Armenia on 2012-01-01: the card, the timeline, a screenshot', async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`${base}/`);
  await ask(page, 'Türkiye', 'Armenia', '2012-01-01');
  await page.waitForSelector('#chart svg');
  const card = await page.textContent('#relation');
  assert.match(card, /Diplomatic status\s*NONE/, 'recognition without relations');
  assert.match(card, /Zurich Protocols \(treaties\/t02\): SIGNED since 2009-10-10/, 'pending, as the relation says');
  assert.match(card, /Border\s*CLOSED since 1993-04/);
  assert.match(card, /TR recognises AM\s*RECOGNIZED since 1991-12/);
  const marks = await page.$$eval('#chart [data-record]', (els) => els.map((e) => e.getAttribute('data-record')));
  for (const record of ['treaties/t02', 'events/f03', 'events/f04']) {
    assert.ok(marks.includes(record), `${record} on the timeline: ${marks}`);
  }
  await page.focus('#chart [data-record="treaties/t02"]');
  const detail = await page.textContent('#detail');
  assert.match(detail, /treaty signed 2009-10-10 \(to the day\)/, 'focus shows the dates and their precision');
  assert.match(detail, /Sources: /);
  assert.equal(new URL(page.url()).searchParams.get('date'), '2012-01-01', 'the question is in the address');
  await page.screenshot({ path: screenshot, fullPage: true });
  const blank = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await blank.setContent('<html><body></body></html>');
  const empty = (await blank.screenshot({ fullPage: true })).length;
  const size = fs.statSync(screenshot).size;
  assert.ok(size > 4 * empty, `the screenshot (${size} bytes) is not blank (an empty page: ${empty})`);
  assert.deepEqual(problems, [], 'no script error');
  await blank.close();
  await page.close();
});

test('a bad country or date is a readable message, and the keyboard and a phone both work', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
  await page.goto(`${base}/`);
  await ask(page, 'Türkiye', 'Atlantis', '2012-01-01');
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /No country is called “Atlantis”/);
  // Keyboard only: the fields in order, then the button.
  await page.goto(`${base}/`);
  await page.keyboard.press('Tab');
  await page.keyboard.type('Armenia');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Azerbaijan');
  await page.keyboard.press('Tab');
  await page.keyboard.type('01011995');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#chart svg');
  assert.match(await page.textContent('#relation'), /Diplomatic status\s*NONE/);
  const overflow = await page.evaluate(() => document.body.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `nothing wider than a phone (${overflow} px over)`);
  await page.close();
});

test('a country view: its relations on the date, sortable', async () => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${base}/?a=TR&date=2022-01-01`);
  await page.waitForSelector('#country-table tbody tr');
  const first = async () => page.textContent('#country-table tbody tr:first-child td:first-child');
  await page.click('th button[data-key="other"]');
  assert.equal(await first(), 'countries/AM');
  await page.click('th button[data-key="treaties"]');
  assert.equal(await first(), 'countries/AZ', 'the Shusha Declaration first');
  await page.close();
});

test('an impossible date in the address is a message naming it, not a blank page', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/?a=TR&b=AM&date=2024-02-30`);
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message'), /“2024-02-30” is not a date/);
  assert.equal(await page.isHidden('#relation'), true);
  await page.close();
});
