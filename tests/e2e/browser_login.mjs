// A person's way through the demo relying party, in a real browser: /demo → "Se connecter avec
// ÉduConnect" → login page → consent page → back on the demo, connected. Run by
// tests/e2e/test_browser.py with playwright-core and the system's Chromium (no browser download).
//
// Input (stdin, JSON): { "base_url", "username", "password", "screenshots" (a directory),
//                        "executable" (Chromium's path) }
// Output (stdout, JSON): pages seen (URL, title, screenshot), the final page's text, computed DSFR
// styles, console messages, CSP violations, failed requests. Failures: stderr, exit status 1.

import { chromium } from 'playwright-core';

import { readStdin } from './http.mjs';

const input = JSON.parse(await readStdin());
const base = input.base_url;
const out = { pages: [], console: [], csp_violations: [], failed_requests: [], page_errors: [] };
const TIMEOUT = 10_000;

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// Reported from inside each page: the event carries the directive, which console text may not.
const CSP_LISTENER = `
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error('[csp-violation] ' + JSON.stringify({
      directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
    }));
  });
`;

let page; // the page being driven, for a screenshot when a step fails

async function main(browser) {
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT);
  await context.addInitScript(CSP_LISTENER);
  page = await context.newPage();
  page.on('console', (message) => {
    const entry = { type: message.type(), text: message.text(), url: page.url() };
    out.console.push(entry);
    if (/content security policy|\[csp-violation\]/i.test(entry.text)) out.csp_violations.push(entry);
  });
  page.on('pageerror', (error) => out.page_errors.push(String(error)));
  page.on('requestfailed', (request) =>
    out.failed_requests.push({ url: request.url(), error: request.failure()?.errorText }),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) out.failed_requests.push({ url: response.url(), status: response.status() });
  });

  await page.goto(`${base}/demo`);
  await snapshot(page, '1-demo');
  await page.getByRole('link', { name: 'Se connecter avec ÉduConnect' }).click();

  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Identifiant', { exact: true }).fill(input.username);
  await page.getByLabel('Mot de passe', { exact: true }).fill(input.password);
  await snapshot(page, '2-login');
  out.styles = await dsfrStyles(page);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();

  const allow = page.getByRole('button', { name: 'Autoriser' });
  await allow.waitFor();
  await snapshot(page, '3-consent');
  await allow.click();

  await page.waitForURL((url) => url.pathname.startsWith('/demo'));
  await page.getByRole('heading', { name: 'Connecté' }).waitFor();
  await snapshot(page, '4-connected');
  out.final = { url: page.url(), text: await page.locator('main').innerText() };
  await context.close();
}

async function snapshot(page, name) {
  await page.waitForLoadState('load');
  const path = `${input.screenshots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  out.pages.push({ name, url: page.url(), title: await page.title(), screenshot: path });
}

/** Computed styles that only the DSFR stylesheet and fonts produce. */
async function dsfrStyles(page) {
  return page.evaluate(async () => {
    await document.fonts.ready;
    const style = (selector) => {
      const element = document.querySelector(selector);
      return element ? getComputedStyle(element) : null;
    };
    const button = style('.fr-btn');
    return {
      body_font: style('body')?.fontFamily,
      marianne_loaded: [...document.fonts].some((f) => f.family.includes('Marianne') && f.status === 'loaded'),
      button_background: button?.backgroundColor,
      stylesheets: [...document.styleSheets].map((s) => s.href),
    };
  });
}

const browser = await chromium.launch({ executablePath: input.executable, args: CHROMIUM_ARGS });
try {
  await main(browser);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} catch (error) {
  process.stderr.write(`browser flow failed: ${error?.stack || error}\n`);
  if (page) {
    const path = `${input.screenshots}/failure.png`;
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    process.stderr.write(`page at failure: ${page.url()} (screenshot: ${path})\n`);
  }
  process.stderr.write(`observed so far: ${JSON.stringify(out, null, 2)}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
