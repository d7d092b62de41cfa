// A pupil's way through the demo SAML service provider, in a real browser: /demo/saml →
// "Se connecter avec ÉduConnect (SAML)" → login page → consent page → the auto-submitted POST
// back to the SP → the SP's page with the verified attributes. Run by tests/e2e/test_saml_browser.py.
//
// Input (stdin, JSON): { "base_url", "username", "password", "screenshots", "executable" }
// Output (stdout, JSON): pages seen, the final page's text, console messages, CSP violations,
// failed requests. Failures: stderr, exit status 1.

import { chromium } from 'playwright-core';

import { readStdin } from './http.mjs';

const input = JSON.parse(await readStdin());
const base = input.base_url;
const out = { pages: [], console: [], csp_violations: [], failed_requests: [], page_errors: [] };
const TIMEOUT = 15_000;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CSP_LISTENER = `
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error('[csp-violation] ' + JSON.stringify({ directive: e.violatedDirective, blocked: e.blockedURI }));
  });
`;

let page;

async function snapshot(name) {
  await page.waitForLoadState('load');
  const path = `${input.screenshots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  out.pages.push({ name, url: page.url(), title: await page.title(), screenshot: path });
}

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

  await page.goto(`${base}/demo/saml`);
  await snapshot('1-demo-sp');
  await page.getByRole('link', { name: 'Se connecter avec ÉduConnect (SAML)' }).click();

  await page.waitForURL((url) => url.pathname === '/login');
  await page.getByLabel('Identifiant', { exact: true }).fill(input.username);
  await page.getByLabel('Mot de passe', { exact: true }).fill(input.password);
  await snapshot('2-login');
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();

  const allow = page.getByRole('button', { name: 'Autoriser' });
  await allow.waitFor();
  await snapshot('3-consent');
  await allow.click();

  // The HTTP-POST binding page submits itself (saml-post.js) to the SP's ACS.
  await page.waitForURL((url) => url.pathname === '/demo/saml/acs');
  await page.getByRole('heading', { name: 'Connecté' }).waitFor();
  await snapshot('4-connected');
  out.final = { url: page.url(), text: await page.locator('main').innerText() };
  await context.close();
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
