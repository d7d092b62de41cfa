// Drives two IdP instances behind HAProxy with openid-client (v6). Run by
// tests/e2e/test_multi_instance.py, which starts the balancer, the instances and the worker.
//
// Input (stdin, JSON): { "issuer", "username", "password",
//                        "rp": { "client_id", "client_secret", "redirect_uri", "post_logout_redirect_uri" } }
// Output (stdout, JSON): what each step observed, with the instance that answered each request
// (HAProxy's X-Served-By), so the test can tell that a flow really crossed instances.

import * as client from 'openid-client';

import { CookieJar, hiddenFields, readStdin } from './http.mjs';

const input = JSON.parse(await readStdin());
const issuer = new URL(input.issuer);
const out = {};
let step = 'start';
let served = [];

async function recordingFetch(url, options) {
  const response = await fetch(url, options);
  served.push(response.headers.get('x-served-by'));
  return response;
}

/** A page request (no redirect following), cookies kept, the answering instance recorded. */
async function page(url, { jar, form } = {}) {
  const headers = { accept: 'text/html' };
  if (jar.cookies.size) headers.cookie = jar.header();
  const init = { method: 'GET', headers, redirect: 'manual' };
  if (form) {
    init.method = 'POST';
    headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const response = await recordingFetch(url, init);
  jar.update(response);
  return response;
}

function take() {
  const seen = served;
  served = [];
  return seen;
}

async function main() {
  const { rp: conf } = input;
  step = 'discovery';
  const rp = await client.discovery(
    issuer,
    conf.client_id,
    { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(conf.client_secret),
    { execute: [client.allowInsecureRequests], [client.customFetch]: recordingFetch },
  );
  take();

  step = 'login';
  const browser = new CookieJar();
  const first = await codeFlow(rp, conf.redirect_uri, browser);
  out.login = { pages: first.pages, served: take(), sid: first.claims.sid };

  step = 'sso on whichever instance answers';
  const second = await codeFlow(rp, conf.redirect_uri, browser);
  out.sso = { pages: second.pages, served: take(), same_sid: second.claims.sid === first.claims.sid };

  step = 'code reuse';
  const reuse = await codeFlow(rp, conf.redirect_uri, browser, { keepCallback: true });
  take();
  out.code_reuse = { error: await oauthError(() => exchange(rp, reuse)), served: take() };
  out.code_reuse.first_served = reuse.exchangeServed;
  out.code_reuse.tokens_after = (await client.tokenIntrospection(rp, reuse.tokens.access_token)).active;
  take();

  step = 'refresh reuse';
  const rotated = await client.refreshTokenGrant(rp, second.tokens.refresh_token);
  const rotatedBy = take();
  out.refresh_reuse = {
    error: await oauthError(() => client.refreshTokenGrant(rp, second.tokens.refresh_token)),
    after_reuse: await oauthError(() => client.refreshTokenGrant(rp, rotated.refresh_token)),
    served: [...rotatedBy, ...take()],
  };

  step = 'logout';
  const url = client.buildEndSessionUrl(rp, {
    id_token_hint: first.tokens.id_token,
    post_logout_redirect_uri: conf.post_logout_redirect_uri,
    state: client.randomState(),
  });
  const response = await page(url, { jar: browser });
  out.logout = { status: response.status, location: response.headers.get('location'), sid: first.claims.sid };
}

async function codeFlow(rp, redirectUri, browser, { keepCallback = false } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { callback, pages } = await interact(url, redirectUri, browser);
  const flow = { callback, verifier, state, nonce, pages };
  const before = served.length;
  flow.tokens = await exchange(rp, flow);
  flow.exchangeServed = served.slice(before);
  flow.claims = flow.tokens.claims();
  return flow;
}

function exchange(rp, flow) {
  return client.authorizationCodeGrant(rp, flow.callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
  });
}

async function interact(startUrl, redirectUri, browser) {
  const pages = [];
  let response = await page(startUrl, { jar: browser });
  for (let hops = 0; hops < 8; hops++) {
    if ([301, 302, 303, 307].includes(response.status)) {
      const location = new URL(response.headers.get('location'), issuer);
      if (location.href.startsWith(redirectUri)) return { callback: location, pages };
      response = await page(location, { jar: browser });
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`unexpected ${response.status}: ${html.slice(0, 400)}`);
    const fields = hiddenFields(html);
    if (html.includes('id="login-form"')) {
      pages.push('login');
      response = await page(new URL('/login', issuer), {
        jar: browser,
        form: { ...fields, username: input.username, password: input.password },
      });
    } else if (html.includes('name="decision"')) {
      pages.push('consent');
      response = await page(new URL('/consent', issuer), { jar: browser, form: { ...fields, decision: 'allow' } });
    } else {
      throw new Error(`unexpected page: ${html.slice(0, 400)}`);
    }
  }
  throw new Error('too many hops before the redirect URI');
}

async function oauthError(call) {
  try {
    await call();
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return error.error;
    throw error;
  }
  throw new Error('the call succeeded but should have failed');
}

try {
  await main();
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} catch (error) {
  process.stderr.write(`multi-instance flow failed at step "${step}": ${error?.message}\n`);
  if (error?.cause) process.stderr.write(JSON.stringify(error.cause) + '\n');
  if (error?.stack) process.stderr.write(error.stack + '\n');
  process.exit(1);
}
