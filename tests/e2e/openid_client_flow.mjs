// Drives the IdP with openid-client (https://github.com/panva/openid-client, v6), an independent
// OpenID Certified relying-party library, over real HTTP. Run by tests/e2e/test_openid_client.py.
//
// Input (stdin, JSON):
//   { "issuer": "http://127.0.0.1:PORT",
//     "username": "...", "password": "...",
//     "confidential": { "client_id", "client_secret", "redirect_uri", "post_logout_redirect_uri" },
//     "public":       { "client_id", "redirect_uri" },
//     "service":      { "client_id", "client_secret" } }
// Output (stdout, JSON): what each step observed (see test_openid_client.py).
// On any failure: a message naming the step on stderr, and exit status 1.
//
// openid-client validates what a certified RP validates: discovery issuer, RFC 9207 `iss`, state,
// PKCE, the ID token (ES256 signature against the JWKS, iss, aud, exp, iat, nonce), the userinfo
// `sub`. The hosted login pages are driven with plain fetch, cookies kept by hand.

import * as client from 'openid-client';

import { CookieJar, hiddenFields, readStdin, request } from './http.mjs';

const input = JSON.parse(await readStdin());
const issuer = new URL(input.issuer);
const out = {};
let step = 'start';

async function main() {
  const { confidential, service } = input;

  step = 'discovery';
  const rp = await discover(confidential.client_id, client.ClientSecretBasic(confidential.client_secret), {
    id_token_signed_response_alg: 'ES256',
  });
  const meta = rp.serverMetadata();
  out.discovery = {
    issuer: meta.issuer,
    end_session_endpoint: meta.end_session_endpoint,
    authorization_response_iss_parameter_supported: meta.authorization_response_iss_parameter_supported,
    code_challenge_methods_supported: meta.code_challenge_methods_supported,
  };

  // -- Confidential client: login, tokens, userinfo, refresh rotation and reuse detection -------
  const browser = new CookieJar();
  step = 'confidential: code flow with login';
  const first = await codeFlow(rp, confidential.redirect_uri, browser);
  out.confidential = { pages: first.pages, id_token_claims: first.claims };

  step = 'confidential: userinfo';
  const userinfo = await client.fetchUserInfo(rp, first.tokens.access_token, first.claims.sub);
  out.confidential.userinfo = userinfo;

  step = 'confidential: introspection of the first access token';
  out.confidential.introspection = await client.tokenIntrospection(rp, first.tokens.access_token);
  check(out.confidential.introspection.active === true, 'a fresh access token introspects as active');

  step = 'confidential: refresh';
  const oldRefresh = first.tokens.refresh_token;
  check(typeof oldRefresh === 'string' && oldRefresh.length > 0, 'the code grant returns a refresh token');
  const refreshed = await client.refreshTokenGrant(rp, oldRefresh);
  check(refreshed.refresh_token && refreshed.refresh_token !== oldRefresh, 'the refresh token is rotated');
  out.confidential.refresh = {
    rotated: refreshed.refresh_token !== oldRefresh,
    scope: refreshed.scope,
    token_type: refreshed.token_type,
    expires_in: refreshed.expires_in,
  };

  step = 'confidential: reuse of the rotated-out refresh token';
  out.confidential.refresh.reuse_error = await oauthError(() => client.refreshTokenGrant(rp, oldRefresh));
  step = 'confidential: the new refresh token after the reuse (family revoked)';
  out.confidential.refresh.after_reuse_error = await oauthError(() =>
    client.refreshTokenGrant(rp, refreshed.refresh_token),
  );
  step = 'confidential: introspection of the refreshed access token after the reuse';
  out.confidential.refresh.access_after_reuse = await client.tokenIntrospection(rp, refreshed.access_token);

  // -- Same browser again: the SSO session answers at once; then introspection and revocation --
  step = 'confidential: code flow with the SSO session';
  const second = await codeFlow(rp, confidential.redirect_uri, browser);
  out.sso = { pages: second.pages, same_sid: second.claims.sid === first.claims.sid };
  check(second.claims.sid === first.claims.sid, 'the second ID token carries the same sid');

  step = 'service: client_credentials';
  const svc = await discover(service.client_id, client.ClientSecretBasic(service.client_secret));
  const cc = await client.clientCredentialsGrant(svc);
  out.service = {
    token_type: cc.token_type,
    scope: cc.scope,
    expires_in: cc.expires_in,
    has_refresh_token: 'refresh_token' in cc,
  };
  step = 'service: introspection of its own token';
  out.service.introspection = await client.tokenIntrospection(svc, cc.access_token);
  step = 'service: introspection of a user token (resource server with the introspection scope)';
  out.service.user_token = await client.tokenIntrospection(svc, second.tokens.access_token);

  step = 'confidential: revocation';
  const revocation = {};
  revocation.access_before = (await client.tokenIntrospection(rp, second.tokens.access_token)).active;
  await client.tokenRevocation(rp, second.tokens.access_token, { token_type_hint: 'access_token' });
  revocation.access_after = (await client.tokenIntrospection(rp, second.tokens.access_token)).active;
  revocation.refresh_before = (
    await client.tokenIntrospection(rp, second.tokens.refresh_token, { token_type_hint: 'refresh_token' })
  ).active;
  await client.tokenRevocation(rp, second.tokens.refresh_token, { token_type_hint: 'refresh_token' });
  revocation.refresh_after = (
    await client.tokenIntrospection(rp, second.tokens.refresh_token, { token_type_hint: 'refresh_token' })
  ).active;
  revocation.refresh_grant_error = await oauthError(() => client.refreshTokenGrant(rp, second.tokens.refresh_token));
  out.confidential.revocation = revocation;

  // -- Public client (token_endpoint_auth_method none, PKCE), its own browser and consent ------
  step = 'public client';
  out.public = await publicClient();

  // -- RP-initiated logout of the first browser -------------------------------------------------
  step = 'logout';
  out.logout = await logout(rp, second.tokens.id_token, confidential.post_logout_redirect_uri, browser);
}

async function publicClient() {
  const { public: pub } = input;
  const rp = await discover(pub.client_id, client.None(), { id_token_signed_response_alg: 'ES256' });
  const browser = new CookieJar();
  const flow = await codeFlow(rp, pub.redirect_uri, browser);
  const result = { pages: flow.pages, id_token_claims: flow.claims };
  result.userinfo_sub = (await client.fetchUserInfo(rp, flow.tokens.access_token, flow.claims.sub)).sub;
  const refreshed = await client.refreshTokenGrant(rp, flow.tokens.refresh_token);
  result.refresh_rotated = refreshed.refresh_token !== flow.tokens.refresh_token;
  check(result.refresh_rotated, 'the public client refresh token is rotated');
  await client.tokenRevocation(rp, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
  result.refresh_after_revocation_error = await oauthError(() => client.refreshTokenGrant(rp, refreshed.refresh_token));
  // Without PKCE a public client is refused at the authorization endpoint.
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: pub.redirect_uri,
    scope: 'openid',
    state: client.randomState(),
  });
  const response = await request(url, { jar: browser });
  const location = response.headers.get('location') || '';
  result.without_pkce = {
    status: response.status,
    error: location.startsWith(pub.redirect_uri) ? new URL(location).searchParams.get('error') : null,
  };
  return result;
}

// -- Building blocks ---------------------------------------------------------------------------

async function discover(clientId, auth, metadata = {}) {
  return client.discovery(issuer, clientId, metadata, auth, { execute: [client.allowInsecureRequests] });
}

/** authorize (PKCE S256, state, nonce) → hosted pages → callback → token endpoint, validated. */
async function codeFlow(rp, redirectUri, browser) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { callback, pages } = await interact(url, redirectUri, browser);
  check(callback.searchParams.get('iss') === rp.serverMetadata().issuer, 'the callback carries iss (RFC 9207)');
  const tokens = await client.authorizationCodeGrant(rp, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, claims: tokens.claims(), pages };
}

/** Follow the IdP's pages like a person: log in and consent when asked, until the redirect URI. */
async function interact(startUrl, redirectUri, browser) {
  const pages = [];
  let response = await request(startUrl, { jar: browser });
  for (let hops = 0; hops < 8; hops++) {
    if ([301, 302, 303, 307].includes(response.status)) {
      const location = new URL(response.headers.get('location'), issuer);
      if (location.href.startsWith(redirectUri)) return { callback: location, pages };
      response = await request(location, { jar: browser });
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`unexpected ${response.status} from ${response.url || startUrl}: ${html.slice(0, 400)}`);
    }
    const fields = hiddenFields(html);
    if (!fields.csrf_token) throw new Error(`page without a CSRF field: ${html.slice(0, 400)}`);
    if (html.includes('id="login-form"')) {
      pages.push('login');
      response = await request(new URL('/login', issuer), {
        jar: browser,
        form: { ...fields, username: input.username, password: input.password },
      });
    } else if (html.includes('name="decision"')) {
      pages.push('consent');
      response = await request(new URL('/consent', issuer), { jar: browser, form: { ...fields, decision: 'allow' } });
    } else {
      throw new Error(`unexpected page: ${html.slice(0, 400)}`);
    }
  }
  throw new Error('too many hops before the redirect URI');
}

async function logout(rp, idToken, postLogoutRedirectUri, browser) {
  const state = client.randomState();
  const url = client.buildEndSessionUrl(rp, {
    id_token_hint: idToken,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state,
  });
  const hadSession = browser.has('ec_session');
  const response = await request(url, { jar: browser });
  const location = response.headers.get('location');
  const result = {
    had_session_cookie: hadSession,
    status: response.status,
    location,
    state_returned: location ? new URL(location, issuer).searchParams.get('state') === state : false,
    session_cookie_cleared: !browser.has('ec_session'),
  };
  // The session is gone server-side too: a new authorization asks for a login again.
  const again = client.buildAuthorizationUrl(rp, {
    redirect_uri: input.confidential.redirect_uri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  });
  const next = await request(again, { jar: browser });
  result.next_authorize = { status: next.status, location: next.headers.get('location') };
  return result;
}

/** Run an openid-client call that must fail; return its OAuth error code. */
async function oauthError(call) {
  try {
    await call();
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return error.error;
    throw error;
  }
  throw new Error('the call succeeded but should have failed');
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

// Run, and report either what was observed (stdout) or the failing step (stderr).
try {
  await main();
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
} catch (error) {
  const details = {
    step,
    name: error?.name,
    message: error?.message,
    code: error?.code,
    error: error?.error,
    error_description: error?.error_description,
    status: error?.status,
    cause: error?.cause instanceof URLSearchParams ? Object.fromEntries(error.cause) : error?.cause,
  };
  process.stderr.write(`openid-client flow failed at step "${step}":\n${JSON.stringify(details, null, 2)}\n`);
  if (error?.stack) process.stderr.write(error.stack + '\n');
  process.exit(1);
}
