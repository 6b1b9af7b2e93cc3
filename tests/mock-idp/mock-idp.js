#!/usr/bin/env node
// mock-idp.js -- a scriptable mock OAuth 2.0 / OpenID Connect provider for the
// pam_oauth2 test suite.  Plain Node.js 20, no npm dependencies, loopback only.
//
//   node mock-idp.js --port N --cert server.pem --key server.key
//        [--users users.json] [--client-id ID] [--client-secret S]
//        [--issuer URL] [--client-jwks FILE] [--verbose]
//
// Prints exactly one line "READY <port>" on stdout once listening on
// 127.0.0.1; nothing else is ever written to stdout.  See README.md for the
// endpoints, the /_control API and every scenario knob.
'use strict';

const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { URL, URLSearchParams } = require('node:url');

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

function die(msg) {
  process.stderr.write(`mock-idp: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, clientId: 'pam-oauth2', verbose: false };
  const valued = { '--port': 'port', '--cert': 'cert', '--key': 'key', '--users': 'users',
    '--client-id': 'clientId', '--client-secret': 'clientSecret', '--issuer': 'issuer',
    '--client-jwks': 'clientJwks' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') { opts.verbose = true; continue; }
    if (!(a in valued)) die(`unknown argument: ${a}`);
    if (i + 1 >= argv.length) die(`${a} needs a value`);
    opts[valued[a]] = argv[++i];
  }
  opts.port = Number(opts.port);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) die('bad --port');
  if (!opts.cert || !opts.key) die('--cert and --key are required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const log = (...a) => { if (opts.verbose) process.stderr.write(`mock-idp: ${a.join(' ')}\n`); };

// ---------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------

const DEFAULT_USERS = {
  alice: { password: 'alice-password', sub: '6f1c2a3e-0000-4000-8000-00000000a11c',
    scope: 'openid profile email',
    claims: { email: 'alice@example.test', name: 'Alice Example', groups: ['users', 'admins'] } },
  bob: { password: 'bob-password', sub: '6f1c2a3e-0000-4000-8000-000000000b0b',
    scope: 'openid profile',
    claims: { email: 'bob@example.test', name: 'Bob Example', groups: ['users'] } },
};

// Validate and normalise a users object ({name: {password, sub?, scope?, claims?}}).
function normaliseUsers(obj) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('users must be an object');
  const out = {};
  for (const [name, u] of Object.entries(obj)) {
    if (!u || typeof u !== 'object' || typeof u.password !== 'string') {
      throw new Error(`user ${JSON.stringify(name)} needs a string "password"`);
    }
    out[name] = { password: u.password, sub: u.sub !== undefined ? String(u.sub) : name,
      scope: typeof u.scope === 'string' ? u.scope : 'openid profile',
      claims: u.claims && typeof u.claims === 'object' ? u.claims : {} };
  }
  return out;
}

// --client-jwks: the client's public keys (a JWK Set); the client then
// authenticates with a private_key_jwt assertion (RFC 7523 §2.2).
let clientKeys = null;
if (opts.clientJwks) {
  try {
    const set = JSON.parse(fs.readFileSync(opts.clientJwks, 'utf8'));
    clientKeys = set.keys.map((k) => ({ kid: k.kid, alg: k.alg,
      key: crypto.createPublicKey({ key: k, format: 'jwk' }) }));
  } catch (e) {
    die(`cannot load --client-jwks: ${e.message}`);
  }
}

let users;
try {
  users = normaliseUsers(opts.users ? JSON.parse(fs.readFileSync(opts.users, 'utf8')) : DEFAULT_USERS);
} catch (e) {
  die(`cannot load users: ${e.message}`);
}

// ---------------------------------------------------------------------------
// Signing keys, JWKS and JWT creation
// ---------------------------------------------------------------------------

// Filled in at start-up (generated in parallel on the libuv thread pool).
// RS256 and PS256 deliberately use different RSA keys.
const KEY_SPECS = {
  RS256: ['rsa', { modulusLength: 2048 }],
  PS256: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
  EdDSA: ['ed25519', {}],
};
const KEYS = {};

function generateKeys(done) {
  let left = Object.keys(KEY_SPECS).length;
  for (const [alg, [type, params]] of Object.entries(KEY_SPECS)) {
    crypto.generateKeyPair(type, params, (err, publicKey, privateKey) => {
      if (err) die(`key generation failed: ${err.message}`);
      KEYS[alg] = { publicKey, privateKey };
      if (--left === 0) done();
    });
  }
}

function jwksDocument(onlyKids) {
  const keys = [];
  for (const alg of Object.keys(KEY_SPECS)) {  // fixed order
    const kp = KEYS[alg];
    if (Array.isArray(onlyKids) && !onlyKids.includes(alg)) continue;
    keys.push({ ...kp.publicKey.export({ format: 'jwk' }), kid: alg, use: 'sig', alg });
  }
  return { keys };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// Sign header.payload with the key for `alg`.  alg "none" gives an empty
// signature; "HS256" is an algorithm-confusion token: HMAC keyed with the
// RS256 *public* key in PEM form (must always be rejected by the module).
function signJwt(header, claims, alg) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const data = Buffer.from(input);
  let sig;
  switch (alg) {
    case 'none': sig = Buffer.alloc(0); break;
    case 'HS256': sig = crypto.createHmac('sha256',
      KEYS.RS256.publicKey.export({ type: 'spki', format: 'pem' })).update(data).digest(); break;
    case 'RS256': sig = crypto.sign('sha256', data, KEYS.RS256.privateKey); break;
    case 'PS256': sig = crypto.sign('sha256', data, { key: KEYS.PS256.privateKey,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }); break;
    case 'ES256': sig = crypto.sign('sha256', data, { key: KEYS.ES256.privateKey,
      dsaEncoding: 'ieee-p1363' }); break;
    case 'EdDSA': sig = crypto.sign(null, data, KEYS.EdDSA.privateKey); break;
    default: throw new Error(`unsupported alg ${alg}`);
  }
  return `${input}.${b64url(sig)}`;
}

// Shallow merge where a null value in `over` deletes the key.
function mergeDeleting(base, over) {
  const out = { ...base };
  if (over && typeof over === 'object') {
    for (const [k, v] of Object.entries(over)) {
      if (v === null) delete out[k]; else out[k] = v;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Mutable state (reset by /_control/reset, except keys and users)
// ---------------------------------------------------------------------------

let scenario = {};
let requestLog = [];
let accessTokens = new Map();   // access_token -> {username, clientId, scope, exp}
let deviceGrants = new Map();   // device_code -> grant (see deviceAuthorization)

const now = () => Math.floor(Date.now() / 1000);
const randomToken = (n = 32) => b64url(crypto.randomBytes(n));

let baseUrl = '';               // https://127.0.0.1:<port>, set once listening
let issuerFromArgs = '';        // --issuer with {port} substituted
const issuer = () => scenario.issuer || issuerFromArgs || baseUrl;

// ---------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------

// Look up a per-path knob: scenario[name][path], or undefined.
function forPath(name, path) {
  const m = scenario[name];
  return m && typeof m === 'object' && Object.prototype.hasOwnProperty.call(m, path) ? m[path] : undefined;
}

// Send a complete response, honouring extra_headers_for_path and slow_body_for_path.
function sendRaw(ctx, status, body, headers = {}) {
  const { res, path } = ctx;
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  let h = { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers,
    'content-length': String(buf.length) };
  h = mergeDeleting(h, forPath('extra_headers_for_path', path));
  res.writeHead(status, h);
  const slowMs = forPath('slow_body_for_path', path);
  if (!slowMs || buf.length === 0) { res.end(buf); return; }
  let i = 0;
  const timer = setInterval(() => {
    if (res.destroyed) { clearInterval(timer); return; }
    res.write(buf.subarray(i, i + 1));
    if (++i >= buf.length) { clearInterval(timer); res.end(); }
  }, Number(slowMs));
}

const sendJson = (ctx, status, obj, headers) => sendRaw(ctx, status, JSON.stringify(obj), headers);

// OAuth error response (RFC 6749 §5.2).
function sendError(ctx, status, error, description, headers) {
  const body = { error };
  if (description) body.error_description = description;
  sendJson(ctx, status, body, headers);
}

// A knob-forced response: status plus optional raw body.
function sendForced(ctx, status, raw) {
  sendRaw(ctx, status ?? 200, raw ?? JSON.stringify({ error: 'mock_forced_status', status }));
}

// huge_body_for_path: N bytes (or {bytes, chunked}) of JSON-looking padding, streamed.
function sendHuge(ctx, spec) {
  const { res } = ctx;
  const total = Number(typeof spec === 'object' ? spec.bytes : spec);
  const chunked = typeof spec === 'object' && spec.chunked;
  const headers = { 'content-type': 'application/json' };
  if (!chunked) headers['content-length'] = String(total);
  res.writeHead(200, headers);
  const head = Buffer.from('{"pad":"'), tail = Buffer.from('"}');
  const useJson = total >= head.length + tail.length;
  let sent = 0;
  const chunk = Buffer.alloc(65536, 'a');
  const pump = () => {
    while (sent < total && !res.destroyed) {
      let piece;
      if (useJson && sent === 0) piece = head;
      else if (useJson && total - sent === tail.length) piece = tail;
      else piece = chunk.subarray(0, Math.min(chunk.length, total - sent - (useJson ? tail.length : 0)));
      sent += piece.length;
      if (!res.write(piece)) { res.once('drain', pump); return; }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

// ---------------------------------------------------------------------------
// Client authentication (RFC 6749 §2.3.1) for /token, /device_authorization, /introspect
// ---------------------------------------------------------------------------

function formDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, ' ')); // throws URIError on bad escapes
}

// Returns the authenticated client_id, or null after sending an error response.
function authenticateClient(ctx, form) {
  const authz = ctx.req.headers.authorization;
  const challenge = { 'www-authenticate': 'Basic realm="mock-idp"' };
  const fail = (d) => { sendError(ctx, 401, 'invalid_client', d, challenge); return null; };
  let basicId, basicSecret;
  if (authz !== undefined) {
    const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(authz);
    if (!m) return fail('malformed Authorization header');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail('Basic credentials without a colon');
    try {
      basicId = formDecode(decoded.slice(0, colon));
      basicSecret = formDecode(decoded.slice(colon + 1));
    } catch (e) {
      return fail('Basic credentials are not form-url-encoded');
    }
  }
  const assertion = form.get('client_assertion');
  if (clientKeys !== null || assertion !== null || form.get('client_assertion_type') !== null) {
    if (authz !== undefined || form.get('client_secret') !== null) {
      sendError(ctx, 400, 'invalid_request', 'more than one client authentication method');
      return null;
    }
    return checkAssertion(ctx, form, fail);
  }
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  if (basicId !== undefined && bodySecret !== null) {
    sendError(ctx, 400, 'invalid_request', 'more than one client authentication method');
    return null;
  }
  if (basicId !== undefined && bodyId !== null && bodyId !== basicId) {
    return fail('client_id in body differs from Basic credentials');
  }
  const id = basicId !== undefined ? basicId : bodyId;
  if (id === null || id === undefined) return fail('no client authentication');
  if (id !== opts.clientId) return fail('unknown client_id');
  if (opts.clientSecret !== undefined) {
    const secret = basicId !== undefined ? basicSecret : bodySecret;
    if (secret !== opts.clientSecret) return fail('bad client secret');
  }
  return id;
}

// private_key_jwt (OpenID Connect Core §9, RFC 7523 §3): the checks a
// provider makes, each refusal an invalid_client naming the reason.
// Knob assertion_replayed: every jti counts as already used.
const seenJtis = new Map();     // jti -> exp
function checkAssertion(ctx, form, fail) {
  if (clientKeys === null) return fail('this client has no registered keys');
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return fail('bad client_assertion_type');
  }
  const parts = String(form.get('client_assertion') || '').split('.');
  if (parts.length !== 3) return fail('client_assertion is not a JWS');
  let header, claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch (e) {
    return fail('client_assertion is not JSON');
  }
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const verifies = (k) => {
    try {
      switch (header.alg) {
        case 'RS256': return crypto.verify('sha256', data, k.key, sig);
        case 'PS256': return crypto.verify('sha256', data, { key: k.key,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
        case 'ES256': return crypto.verify('sha256', data, { key: k.key, dsaEncoding: 'ieee-p1363' }, sig);
        case 'EdDSA': return crypto.verify(null, data, k.key, sig);
        default: return false;
      }
    } catch (e) {
      return false;
    }
  };
  const candidates = clientKeys.filter((k) => (header.kid === undefined || k.kid === header.kid)
    && (k.alg === undefined || k.alg === header.alg));
  if (!candidates.some(verifies)) return fail('client_assertion signature invalid');
  if (claims.iss !== opts.clientId || claims.sub !== opts.clientId) return fail('iss and sub must be the client_id');
  const body = form.get('client_id');
  if (body !== null && body !== opts.clientId) return fail('client_id differs from the assertion');
  const auds = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!auds.includes(`${baseUrl}/token`) && !auds.includes(issuer())) return fail('bad aud');
  const t = now();
  if (typeof claims.exp !== 'number' || claims.exp <= t) return fail('client_assertion expired');
  if (typeof claims.jti !== 'string' || claims.jti === '') return fail('no jti');
  for (const [j, e] of seenJtis) if (e < t) seenJtis.delete(j);
  if (scenario.assertion_replayed || seenJtis.has(claims.jti)) {
    return fail('client assertion tokens must only be used once');
  }
  seenJtis.set(claims.jti, claims.exp);
  return opts.clientId;
}

// ---------------------------------------------------------------------------
// Token issuance
// ---------------------------------------------------------------------------

function makeIdToken(username, clientId) {
  const u = users[username];
  const t = now();
  const alg = scenario.alg || 'RS256';
  let claims = { iss: issuer(), sub: u.sub, aud: clientId, azp: clientId, exp: t + 300, iat: t,
    auth_time: t, preferred_username: username, ...u.claims };
  claims = mergeDeleting(claims, scenario.id_token_claims);
  let header = { alg, kid: alg === 'HS256' ? 'RS256' : alg, typ: 'JWT' };
  if (alg === 'none') delete header.kid;
  header = mergeDeleting(header, scenario.id_token_header);
  let jwt = signJwt(header, claims, alg);
  if (scenario.id_token_bad_signature) {
    // Flip bits in the first signature byte: structurally valid, cryptographically wrong.
    const [h, p, s] = jwt.split('.');
    const sig = Buffer.from(s, 'base64url');
    if (sig.length) sig[0] ^= 0x55;
    jwt = `${h}.${p}.${b64url(sig)}`;
  }
  return jwt;
}

// Successful token response for `username` (password grant or approved device grant).
function tokenResponse(username, clientId) {
  const u = users[username];
  const access = typeof scenario.access_token === 'string' ? scenario.access_token : randomToken();
  accessTokens.set(access, { username, clientId, scope: u.scope, exp: now() + 300 });
  let body = { access_token: access, token_type: 'Bearer', expires_in: 300, scope: u.scope };
  if (typeof scenario.id_token_raw === 'string') body.id_token = scenario.id_token_raw;
  else if (!scenario.omit_id_token) body.id_token = makeIdToken(username, clientId);
  body = mergeDeleting(body, scenario.token_response_overrides);
  return body;
}

// ---------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------

function discoveryDocument() {
  const doc = {
    issuer: issuer(),
    authorization_endpoint: `${baseUrl}/authorize`,
    token_endpoint: `${baseUrl}/token`,
    jwks_uri: `${baseUrl}/jwks`,
    userinfo_endpoint: `${baseUrl}/userinfo`,
    device_authorization_endpoint: `${baseUrl}/device_authorization`,
    introspection_endpoint: `${baseUrl}/introspect`,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: Object.keys(KEY_SPECS),
    grant_types_supported: ['password', 'urn:ietf:params:oauth:grant-type:device_code'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    scopes_supported: ['openid', 'profile', 'email'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'preferred_username', 'email', 'name', 'groups'],
  };
  return mergeDeleting(doc, scenario.discovery_overrides);
}

function handleDiscovery(ctx) {
  if (scenario.discovery_status !== undefined || scenario.discovery_raw !== undefined) {
    return sendForced(ctx, scenario.discovery_status, scenario.discovery_raw);
  }
  sendJson(ctx, 200, discoveryDocument());
}

function handleJwks(ctx) {
  if (scenario.jwks_status !== undefined || scenario.jwks_raw !== undefined) {
    return sendForced(ctx, scenario.jwks_status, scenario.jwks_raw);
  }
  sendJson(ctx, 200, jwksDocument(scenario.jwks_kids));
}

// Parse an application/x-www-form-urlencoded body strictly; null after an error response.
function parseForm(ctx) {
  const ct = (ctx.req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (ct !== 'application/x-www-form-urlencoded') {
    sendError(ctx, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    return null;
  }
  const form = new URLSearchParams(ctx.body.toString('utf8'));
  const seen = new Set();
  for (const k of form.keys()) {
    if (seen.has(k)) {  // RFC 6749 §3.2: parameters MUST NOT be repeated
      sendError(ctx, 400, 'invalid_request', `parameter ${k} repeated`);
      return null;
    }
    seen.add(k);
  }
  return form;
}

function handleToken(ctx) {
  if (scenario.token_status !== undefined || scenario.token_body_raw !== undefined) {
    return sendForced(ctx, scenario.token_status, scenario.token_body_raw);
  }
  const form = parseForm(ctx);
  if (!form) return;
  const clientId = authenticateClient(ctx, form);
  if (clientId === null) return;
  const grantType = form.get('grant_type');
  if (grantType === 'password') return passwordGrant(ctx, form, clientId);
  if (grantType === 'urn:ietf:params:oauth:grant-type:device_code') return deviceGrant(ctx, form, clientId);
  if (grantType === null) return sendError(ctx, 400, 'invalid_request', 'missing grant_type');
  sendError(ctx, 400, 'unsupported_grant_type', `grant_type ${grantType} not supported`);
}

function passwordGrant(ctx, form, clientId) {
  const username = form.get('username');
  const password = form.get('password');
  if (username === null || password === null) {
    return sendError(ctx, 400, 'invalid_request', 'username and password are required');
  }
  const u = Object.prototype.hasOwnProperty.call(users, username) ? users[username] : null;
  if (!u || u.password !== password) {
    // wrong_password_status: Auth0 answers a wrong password with 403.
    return sendError(ctx, Number(scenario.wrong_password_status ?? 400), 'invalid_grant',
      'invalid user credentials');
  }
  // A provider that wants MFA / interaction refuses the password grant
  // (Auth0: 403 mfa_required; password_grant_status sets the status).
  if (scenario.password_grant_error) {
    return sendError(ctx, Number(scenario.password_grant_status ?? 400), String(scenario.password_grant_error));
  }
  sendJson(ctx, 200, tokenResponse(username, clientId), { pragma: 'no-cache' });
}

function handleUserinfo(ctx) {
  if (scenario.userinfo_status !== undefined || scenario.userinfo_raw !== undefined) {
    return sendForced(ctx, scenario.userinfo_status, scenario.userinfo_raw);
  }
  const m = /^Bearer ([\x21-\x7e]+)$/.exec(ctx.req.headers.authorization || '');
  const tok = m && accessTokens.get(m[1]);
  if (!tok || tok.exp < now()) {
    return sendError(ctx, 401, 'invalid_token', 'unknown or expired access token',
      { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  const u = users[tok.username];
  const claims = { sub: u.sub, preferred_username: tok.username, ...u.claims };
  sendJson(ctx, 200, mergeDeleting(claims, scenario.userinfo_claims));
}

// RFC 7662 token introspection (client-authenticated).
function handleIntrospect(ctx) {
  const form = parseForm(ctx);
  if (!form) return;
  if (authenticateClient(ctx, form) === null) return;
  const tok = accessTokens.get(form.get('token') || '');
  if (!tok || tok.exp < now()) return sendJson(ctx, 200, { active: false });
  const u = users[tok.username];
  const body = { active: true, scope: tok.scope, client_id: tok.clientId, username: tok.username,
    sub: u.sub, token_type: 'Bearer', exp: tok.exp, iat: tok.exp - 300, iss: issuer(), aud: tok.clientId };
  sendJson(ctx, 200, mergeDeleting(body, scenario.introspection_claims));
}

// ---------------------------------------------------------------------------
// Device authorization grant (RFC 8628)
// ---------------------------------------------------------------------------

const USER_CODE_CHARS = 'BCDFGHJKLMNPQRSTVWXZ';   // RFC 8628 §6.1 suggestion
const normaliseUserCode = (c) => String(c || '').toUpperCase().replace(/[^A-Z]/g, '');

function newUserCode() {
  let s = '';
  for (let i = 0; i < 8; i++) s += USER_CODE_CHARS[crypto.randomInt(USER_CODE_CHARS.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

function handleDeviceAuthorization(ctx) {
  const form = parseForm(ctx);
  if (!form) return;
  const clientId = authenticateClient(ctx, form);
  if (clientId === null) return;
  const interval = scenario.device_interval ?? 5;
  const expiresIn = scenario.device_expires_in ?? 600;
  const grant = { deviceCode: scenario.device_code ?? randomToken(), userCode: newUserCode(), clientId,
    scope: form.get('scope'), status: 'pending', as: null, interval,
    expiresAt: Date.now() + expiresIn * 1000, lastPoll: 0, pollIndex: 0 };
  deviceGrants.set(grant.deviceCode, grant);
  const body = {
    device_code: grant.deviceCode, user_code: grant.userCode,
    verification_uri: `${baseUrl}/device`,
    verification_uri_complete: `${baseUrl}/device?user_code=${grant.userCode}`,
    expires_in: expiresIn, interval,
  };
  sendJson(ctx, 200, mergeDeleting(body, scenario.device_response_overrides));
}

function findGrantByUserCode(code) {
  const want = normaliseUserCode(code);
  for (const g of deviceGrants.values()) if (normaliseUserCode(g.userCode) === want) return g;
  return null;
}

const defaultApprover = () => (users.alice ? 'alice' : Object.keys(users)[0]);

function deviceGrant(ctx, form, clientId) {
  const g = deviceGrants.get(form.get('device_code') || '');
  if (!g || g.status === 'consumed') return sendError(ctx, 400, 'invalid_grant', 'unknown device_code');
  if (g.clientId !== clientId) return sendError(ctx, 400, 'invalid_grant', 'device_code issued to another client');
  const t = Date.now();
  const tooFast = scenario.device_enforce_interval && g.lastPoll && t - g.lastPoll < g.interval * 1000;
  g.lastPoll = t;

  // Scripted answer for this poll, if any; otherwise the real state machine.
  const script = Array.isArray(scenario.device_poll_script) ? scenario.device_poll_script : [];
  let answer = g.pollIndex < script.length ? String(script[g.pollIndex]) : null;
  g.pollIndex++;
  if (answer === null) {
    if (t > g.expiresAt) answer = 'expired_token';
    else if (tooFast) answer = 'slow_down';
    else if (g.status === 'approved') answer = `approve:${g.as}`;
    else if (g.status === 'denied') answer = 'access_denied';
    else answer = 'authorization_pending';
  }
  if (answer === 'approve' || answer.startsWith('approve:')) {
    const who = answer === 'approve' ? (g.as || defaultApprover()) : answer.slice(8);
    if (!users[who]) return sendError(ctx, 400, 'invalid_grant', `approver ${who} unknown`);
    g.status = 'consumed';
    return sendJson(ctx, 200, tokenResponse(who, clientId), { pragma: 'no-cache' });
  }
  if (answer === 'deny') answer = 'access_denied';
  // Network-level faults for one poll: an HTTP 503, or a dropped connection.
  if (answer === 'http_503') return sendJson(ctx, 503, { error: 'temporarily_unavailable' });
  if (answer === 'close') { ctx.req.socket.destroy(); return undefined; }
  // "STATUS:CODE": that status with {"error": CODE}, e.g. "403:access_denied",
  // "429:slow_down"; "STATUS:" sends that status with a body that is no
  // OAuth error ({}).
  const sc = /^([1-5][0-9][0-9]):(.*)$/.exec(answer);
  if (sc) {
    if (sc[2] === '') return sendJson(ctx, Number(sc[1]), {});
    return sendError(ctx, Number(sc[1]), sc[2]);
  }
  if (answer === 'slow_down') g.interval += 5;   // RFC 8628 §3.5
  sendError(ctx, 400, answer);
}

// ---------------------------------------------------------------------------
// GitHub mode: a plain OAuth 2 provider as GitHub documents it (no
// discovery, no ID token).  Device code and token endpoints answer
// form-encoded unless the request has "Accept: application/json"; the
// device flow's errors come with HTTP 200; slow_down carries the new
// interval; the REST API (/api/v3/user, as on GitHub Enterprise Server)
// refuses requests without a User-Agent.  A user's identity is its claims
// "login" (default: the user name) and "id" (a number, required).
// ---------------------------------------------------------------------------

function wantsJson(ctx) {
  return /(^|[ ,])application\/json($|[ ;,])/i.test(ctx.req.headers.accept || '');
}

// GitHub's answer: JSON when asked for, else application/x-www-form-urlencoded.
function ghSend(ctx, obj) {
  if (wantsJson(ctx)) return sendJson(ctx, 200, obj);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) form.set(k, String(v));
  return sendRaw(ctx, 200, form.toString(), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
}

function ghForm(ctx) {
  const form = parseForm(ctx);
  if (!form) return null;
  if (form.get('client_id') !== opts.clientId) {
    ghSend(ctx, { error: 'incorrect_client_credentials', error_description: 'The client_id is not valid.' });
    return null;
  }
  return form;
}

function handleGhDeviceCode(ctx) {
  const form = ghForm(ctx);
  if (!form) return;
  const interval = scenario.device_interval ?? 5;
  const expiresIn = scenario.device_expires_in ?? 900;
  const grant = { deviceCode: scenario.device_code ?? randomToken(), userCode: newUserCode(), clientId: opts.clientId,
    scope: form.get('scope'), status: 'pending', as: null, interval,
    expiresAt: Date.now() + expiresIn * 1000, lastPoll: 0, pollIndex: 0 };
  deviceGrants.set(grant.deviceCode, grant);
  ghSend(ctx, { device_code: grant.deviceCode, user_code: grant.userCode,
    verification_uri: `${baseUrl}/login/device`, expires_in: expiresIn, interval });
}

function ghToken(who, g) {
  const access = typeof scenario.access_token === 'string' ? scenario.access_token : `gho_${randomToken()}`;
  const u = users[who];
  accessTokens.set(access, { username: who, clientId: opts.clientId, scope: u.scope, exp: Infinity });
  // GitHub: no expires_in (OAuth app tokens do not expire), scopes with commas.
  return { access_token: access, token_type: 'bearer', scope: u.scope.split(' ').join(',') };
}

function handleGhToken(ctx) {
  const form = ghForm(ctx);
  if (!form) return;
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:device_code') {
    return ghSend(ctx, { error: 'unsupported_grant_type' });
  }
  const g = deviceGrants.get(form.get('device_code') || '');
  if (!g || g.status === 'consumed') return ghSend(ctx, { error: 'bad_verification_code' });
  const t = Date.now();
  const tooFast = scenario.device_enforce_interval && g.lastPoll && t - g.lastPoll < g.interval * 1000;
  g.lastPoll = t;
  const script = Array.isArray(scenario.device_poll_script) ? scenario.device_poll_script : [];
  let answer = g.pollIndex < script.length ? String(script[g.pollIndex]) : null;
  g.pollIndex++;
  if (answer === null) {
    if (t > g.expiresAt) answer = 'expired_token';
    else if (tooFast) answer = 'slow_down';
    else if (g.status === 'approved') answer = `approve:${g.as}`;
    else if (g.status === 'denied') answer = 'access_denied';
    else answer = 'authorization_pending';
  }
  if (answer.startsWith('approve:')) {
    const who = answer.slice(8);
    if (!users[who]) return ghSend(ctx, { error: 'bad_verification_code' });
    g.status = 'consumed';
    return ghSend(ctx, ghToken(who, g));
  }
  if (answer === 'slow_down') {
    g.interval = Number(scenario.slow_down_interval ?? g.interval + 5);
    return ghSend(ctx, { error: 'slow_down', error_description: 'Too many requests.', interval: g.interval });
  }
  ghSend(ctx, { error: answer });
}

function ghUser(ctx) {
  if (!ctx.req.headers['user-agent']) {
    return sendJson(ctx, 403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.' });
  }
  const m = /^(?:Bearer|token) ([\x21-\x7e]+)$/i.exec(ctx.req.headers.authorization || '');
  const tok = m && accessTokens.get(m[1]);
  if (!tok) return sendJson(ctx, 401, { message: 'Bad credentials' });
  return tok.username;
}

function handleGhUser(ctx) {
  const who = ghUser(ctx);
  if (typeof who !== 'string') return;
  const c = users[who].claims;
  sendJson(ctx, 200, { login: c.login ?? who, id: c.id, type: 'User', name: c.name ?? null });
}

// GET /user/orgs and /user/teams: the user's claims "orgs" (["acme"]) and
// "teams" ([{"org": "acme", "slug": "ops"}]), paginated as GitHub does:
// per_page (default 30; scenario.gh_per_page overrides), page, and a Link
// header with rel="next" and rel="last".
function handleGhList(ctx, kind) {
  const who = ghUser(ctx);
  if (typeof who !== 'string') return;
  const c = users[who].claims;
  const all = kind === 'orgs' ?
    (c.orgs || []).map((o) => ({ login: o, id: 1, url: `${baseUrl}/api/v3/orgs/${o}` })) :
    (c.teams || []).map((t) => ({ slug: t.slug, name: t.slug, id: 1, organization: { login: t.org, id: 1 } }));
  const q = new URL(ctx.req.url, baseUrl).searchParams;
  const per = Math.max(1, Number(scenario.gh_per_page ?? q.get('per_page') ?? 30));
  const page = Math.max(1, Number(q.get('page') ?? 1));
  const last = Math.max(1, Math.ceil(all.length / per));
  const headers = {};
  if (page < last) {
    const link = (p) => `<${baseUrl}${ctx.path}?per_page=${per}&page=${p}>`;
    headers.link = `${link(page + 1)}; rel="next", ${link(last)}; rel="last"`;
  }
  sendJson(ctx, 200, all.slice((page - 1) * per, page * per), headers);
}

// The approval page a user opens: a form for the code; POST approves (or
// denies with deny=1) as the user named in "as" (the mock has no sign-in).
function handleGhDevicePage(ctx) {
  if (ctx.req.method === 'GET') {
    return sendRaw(ctx, 200, '<!doctype html><title>Device activation</title>' +
      '<form method="post"><input name="user_code"><input name="as"><button>Continue</button></form>\n',
      { 'content-type': 'text/html; charset=utf-8' });
  }
  const form = parseForm(ctx);
  if (!form) return;
  const g = findGrantByUserCode(form.get('user_code'));
  if (!g || g.status !== 'pending') return sendRaw(ctx, 404, 'no such code\n', { 'content-type': 'text/plain' });
  if (form.get('deny')) { g.status = 'denied'; return sendRaw(ctx, 200, 'denied\n', { 'content-type': 'text/plain' }); }
  const who = form.get('as') || defaultApprover();
  if (!users[who]) return sendRaw(ctx, 400, 'unknown user\n', { 'content-type': 'text/plain' });
  g.status = 'approved'; g.as = who;
  sendRaw(ctx, 200, 'Congratulations, you are all set!\n', { 'content-type': 'text/plain' });
}

// ---------------------------------------------------------------------------
// Control API (/_control/...), never logged, never subject to fault knobs
// ---------------------------------------------------------------------------

function handleControl(ctx) {
  const { req, path } = ctx;
  let input = {};
  if (req.method === 'POST' && ctx.body.length) {
    try { input = JSON.parse(ctx.body.toString('utf8')); } catch (e) {
      return sendJson(ctx, 400, { error: 'control body must be JSON' });
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      return sendJson(ctx, 400, { error: 'control body must be a JSON object' });
    }
  }
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'POST /_control/scenario':
      scenario = { ...scenario, ...input };
      return sendJson(ctx, 200, scenario);
    case 'GET /_control/scenario':
      return sendJson(ctx, 200, scenario);
    case 'POST /_control/reset':
      scenario = {}; requestLog = []; accessTokens = new Map(); deviceGrants = new Map();
      return sendJson(ctx, 200, { ok: true });
    case 'GET /_control/requests':
      return sendJson(ctx, 200, requestLog);
    case 'POST /_control/users':
      try { users = { ...users, ...normaliseUsers(input) }; } catch (e) {
        return sendJson(ctx, 400, { error: e.message });
      }
      return sendJson(ctx, 200, { users: Object.keys(users) });
    case 'GET /_control/device/pending':
      return sendJson(ctx, 200, [...deviceGrants.values()]
        .filter((g) => g.status === 'pending' && Date.now() <= g.expiresAt)
        .map((g) => ({ user_code: g.userCode, client_id: g.clientId, scope: g.scope,
          expires_in: Math.max(0, Math.round((g.expiresAt - Date.now()) / 1000)) })));
    case 'POST /_control/device/approve':
    case 'POST /_control/device/deny': {
      const g = findGrantByUserCode(input.user_code);
      if (!g || g.status !== 'pending') return sendJson(ctx, 404, { error: 'no pending grant with that user_code' });
      if (path.endsWith('/deny')) { g.status = 'denied'; return sendJson(ctx, 200, { ok: true }); }
      const who = input.as ?? defaultApprover();
      if (!users[who]) return sendJson(ctx, 400, { error: `unknown user ${who}` });
      g.status = 'approved'; g.as = who;
      return sendJson(ctx, 200, { ok: true });
    }
    default:
      return sendJson(ctx, 404, { error: `no control route ${route}` });
  }
}

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

const MAX_REQUEST_BODY = 1 << 20;

function route(ctx) {
  const { req, path } = ctx;
  let issuerPath = '';
  try { issuerPath = new URL(issuer()).pathname.replace(/\/$/, ''); } catch (e) { /* bad issuer knob */ }
  const routes = {
    '/.well-known/openid-configuration': ['GET', handleDiscovery],
    [`${issuerPath}/.well-known/openid-configuration`]: ['GET', handleDiscovery],
    '/jwks': ['GET', handleJwks],
    '/token': ['POST', handleToken],
    '/userinfo': ['GET POST', handleUserinfo],
    '/device_authorization': ['POST', handleDeviceAuthorization],
    '/introspect': ['POST', handleIntrospect],
    '/device': ['GET', (c) => sendRaw(c, 200, 'mock-idp verification page\n', { 'content-type': 'text/plain' })],
    '/login/device/code': ['POST', handleGhDeviceCode],
    '/login/oauth/access_token': ['POST', handleGhToken],
    '/login/device': ['GET POST', handleGhDevicePage],
    '/api/v3/user': ['GET', handleGhUser],
    '/api/v3/user/orgs': ['GET', (c) => handleGhList(c, 'orgs')],
    '/api/v3/user/teams': ['GET', (c) => handleGhList(c, 'teams')],
  };
  const r = routes[path];
  if (!r) return sendError(ctx, 404, 'not_found', `no route for ${path}`);
  if (!r[0].split(' ').includes(req.method)) {
    return sendError(ctx, 405, 'invalid_request', `method ${req.method} not allowed`, { allow: r[0].replace(' ', ', ') });
  }
  r[1](ctx);
}

// Apply the generic per-path fault knobs, then route.  Order: close, delay,
// redirect, status, OAuth error, huge body; slow body and extra headers apply in sendRaw.
function handleWithFaults(ctx) {
  const { req, res, path } = ctx;
  const close = forPath('close_for_path', path);
  if (close && close !== 'mid_body') { req.socket.destroy(); return; }
  if (close === 'mid_body') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"access_token":"trunc');
    setTimeout(() => req.socket.destroy(), 50);
    return;
  }
  // token_delay_ms is shorthand for delay_ms_for_path {"/token": N}.
  const tokenDelay = path === '/token' ? scenario.token_delay_ms : undefined;
  const delay = Number(forPath('delay_ms_for_path', path) ?? tokenDelay ?? 0);
  const proceed = () => {
    if (res.destroyed) return;
    const loc = forPath('redirect_for_path', path);
    if (loc !== undefined) return sendRaw(ctx, 302, '', { location: String(loc) });
    const st = forPath('status_for_path', path);
    if (st !== undefined) return sendForced(ctx, Number(st));
    const fe = forPath('error_for_path', path);
    if (fe !== undefined && fe !== null && typeof fe === 'object') {
      return sendError(ctx, Number(fe.status ?? 400), String(fe.error), fe.error_description);
    }
    const huge = forPath('huge_body_for_path', path);
    if (huge !== undefined) return sendHuge(ctx, huge);
    route(ctx);
  };
  if (delay > 0) setTimeout(() => { try { proceed(); } catch (e) { internalError(ctx, e); } }, delay);
  else proceed();
}

function internalError(ctx, e) {
  process.stderr.write(`mock-idp: internal error on ${ctx.path}: ${e && e.stack}\n`);
  if (!ctx.res.headersSent) sendError(ctx, 500, 'server_error', 'mock internal error');
  else ctx.res.destroy();
}

function onRequest(req, res) {
  res.on('error', () => {});
  req.on('error', () => {});
  const chunks = [];
  let size = 0, tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_REQUEST_BODY) tooBig = true; else chunks.push(c);
  });
  req.on('end', () => {
    // Split the request target by hand so the logged path is exactly what was sent.
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
    const ctx = { req, res, path, body: Buffer.concat(chunks) };
    log(req.method, req.url);
    try {
      if (tooBig) return sendError(ctx, 413, 'invalid_request', 'request body too large');
      if (ctx.path.startsWith('/_control/')) return handleControl(ctx);
      requestLog.push({ t: Date.now(), method: req.method, url: req.url, path: ctx.path,
        remote_port: req.socket.remotePort,
        query: Object.fromEntries(query), headers: { ...req.headers },
        body_b64: ctx.body.toString('base64') });
      handleWithFaults(ctx);
    } catch (e) {
      internalError(ctx, e);
    }
  });
}

// ---------------------------------------------------------------------------
// Server start-up and shutdown
// ---------------------------------------------------------------------------

let tlsOptions;
try {
  tlsOptions = { cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) };
} catch (e) {
  die(`cannot read certificate/key: ${e.message}`);
}

const server = https.createServer(tlsOptions, onRequest);
server.on('tlsClientError', (e) => log('TLS error:', e.message));
server.on('clientError', (e, sock) => {
  log('client error:', e.message);
  if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  else sock.destroy();
});
server.on('error', (e) => die(`server error: ${e.message}`));

generateKeys(() => server.listen(opts.port, '127.0.0.1', () => {
  const port = server.address().port;
  baseUrl = `https://127.0.0.1:${port}`;
  if (opts.issuer) issuerFromArgs = opts.issuer.replace('{port}', String(port));
  try { new URL(issuer()); } catch (e) { die(`bad --issuer ${opts.issuer}`); }
  fs.writeSync(1, `READY ${port}\n`);
}));

// Nothing needs flushing (stdout is written synchronously), so stop at once;
// in-flight slow/huge/delayed responses are simply cut off.
function shutdown() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('uncaughtException', (e) => process.stderr.write(`mock-idp: uncaught: ${e && e.stack}\n`));
