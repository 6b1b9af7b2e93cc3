#!/usr/bin/env node
// Loopback OpenID Provider for the pam_oauth2 test suite.
//
// A thin wrapper around the certified `oidc-provider` library (exact version
// pinned in package.json).  It adds:
//   * a static users table (users.json) used by findAccount, by the
//     Resource Owner Password Credentials grant (RFC 6749 section 4.3,
//     registered with provider.registerGrantType) and by the login form of
//     the device flow interaction;
//   * the `interval` member of the device authorization response
//     (RFC 8628 section 3.2), optionally enforced with `slow_down`;
//   * plain self-contained HTML pages (no web fonts, no off-loopback URLs).
//
// See README.md for the command line, the form field names and the device
// approval step sequence.
//
// stdout carries exactly one line, `READY <port>`; everything else goes to
// stderr.  oidc-provider prints its notices with console.info (stdout), so
// console.info/console.log are redirected BEFORE the library is loaded, which
// is why it is imported dynamically below.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { parseArgs } from 'node:util';

console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.debug = (...args) => console.error(...args);

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------------------
// command line

function usage(msg) {
  if (msg) console.error(`server.js: ${msg}`);
  console.error(`usage: node server.js --cert server.pem --key server.key --ca ca.pem
         --users users.json --clients clients.json
         [--port N (0 = pick a free port, default 0)]
         [--device-interval SECONDS (default 1)] [--slow-down]
         [--access-token-ttl SECONDS (default 300)]
         [--device-code-ttl SECONDS (default 120)]
         [--id-token-ttl SECONDS (default 300)]
         [--jwks private-jwks.json (default: fresh RS256 + ES256 keys)]
         [--resource URI] [--opaque-resource URI]
         [--mtls] [--verbose]`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      users: { type: 'string' },
      clients: { type: 'string' },
      'device-interval': { type: 'string', default: '1' },
      'slow-down': { type: 'boolean', default: false },
      'access-token-ttl': { type: 'string', default: '300' },
      'device-code-ttl': { type: 'string', default: '120' },
      'id-token-ttl': { type: 'string', default: '300' },
      jwks: { type: 'string' },
      resource: { type: 'string' },
      'opaque-resource': { type: 'string' },
      mtls: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  usage(err.message);
}
if (opts.help) usage();
for (const required of ['cert', 'key', 'users', 'clients']) {
  if (!opts[required]) usage(`--${required} is required`);
}

function intOpt(name, min) {
  const raw = opts[name];
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min) usage(`--${name} must be an integer >= ${min}`);
  return Number(raw);
}

const PORT = intOpt('port', 0);
if (PORT > 65535) usage('--port out of range');
const DEVICE_INTERVAL = intOpt('device-interval', 1);
const ACCESS_TOKEN_TTL = intOpt('access-token-ttl', 1);
const DEVICE_CODE_TTL = intOpt('device-code-ttl', 1);
const ID_TOKEN_TTL = intOpt('id-token-ttl', 1);
const HOST = '127.0.0.1';
// resource indicator -> access token format
const RESOURCES = new Map();
if (opts.resource) RESOURCES.set(opts.resource, 'jwt');
if (opts['opaque-resource']) RESOURCES.set(opts['opaque-resource'], 'opaque');

function log(...args) {
  if (opts.verbose) console.error('[op]', ...args);
}

function readJson(path, what) {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`server.js: cannot read ${what} ${path}: ${err.message}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------
// TLS material

const certPem = fs.readFileSync(opts.cert);
const keyPem = fs.readFileSync(opts.key);
let caPem;
if (opts.ca) {
  caPem = fs.readFileSync(opts.ca);
  // Fail early if the server certificate was not issued by the given CA:
  // the tests' client trusts only ca.pem.
  const leaf = new crypto.X509Certificate(certPem);
  const ca = new crypto.X509Certificate(caPem);
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    console.error(`server.js: ${opts.cert} is not signed by ${opts.ca}`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------
// users

const STANDARD_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'];
const CUSTOM_SCOPES = ['pam:login', 'admin'];
const ALL_SCOPES = [...STANDARD_SCOPES, ...CUSTOM_SCOPES];

const usersRaw = readJson(opts.users, 'users file');
if (!usersRaw || typeof usersRaw !== 'object' || Array.isArray(usersRaw)) {
  console.error('server.js: users file must be a JSON object keyed by username');
  process.exit(2);
}
const usersByName = new Map();
const usersBySub = new Map();
for (const [username, u] of Object.entries(usersRaw)) {
  if (!u || typeof u.password !== 'string') {
    console.error(`server.js: user ${username}: "password" (string) is required`);
    process.exit(2);
  }
  const user = {
    username,
    password: u.password,
    sub: typeof u.sub === 'string' && u.sub ? u.sub : username,
    scopes: new Set(Array.isArray(u.scopes) ? u.scopes : ['openid']),
    claims: u.claims && typeof u.claims === 'object' ? u.claims : {},
  };
  for (const s of user.scopes) {
    if (!ALL_SCOPES.includes(s)) {
      console.error(`server.js: user ${username}: unknown scope ${s} (known: ${ALL_SCOPES.join(' ')})`);
      process.exit(2);
    }
  }
  if (usersBySub.has(user.sub)) {
    console.error(`server.js: duplicate sub ${user.sub}`);
    process.exit(2);
  }
  usersByName.set(username, user);
  usersBySub.set(user.sub, user);
}

function safeEqual(a, b) {
  const ha = crypto.createHash('sha256').update(String(a), 'utf8').digest();
  const hb = crypto.createHash('sha256').update(String(b), 'utf8').digest();
  return crypto.timingSafeEqual(ha, hb);
}

// Returns the user on good credentials, undefined otherwise.
function checkCredentials(username, password) {
  const user = typeof username === 'string' ? usersByName.get(username) : undefined;
  // Compare even for unknown users so timing does not reveal existence.
  const ok = safeEqual(password ?? '', user ? user.password : '\0no-such-user\0');
  return user && ok ? user : undefined;
}

function accountFor(user) {
  return {
    accountId: user.sub,
    // use: 'id_token' | 'userinfo'; the library masks the result by scope.
    async claims(use, scope) {
      return {
        preferred_username: user.username,
        name: user.username,
        ...user.claims,
        sub: user.sub,
      };
    },
  };
}

async function findAccount(ctx, sub) {
  const user = usersBySub.get(sub);
  return user ? accountFor(user) : undefined;
}

// ---------------------------------------------------------------------------
// clients

const clients = readJson(opts.clients, 'clients file');
if (!Array.isArray(clients)) {
  console.error('server.js: clients file must be a JSON array of client metadata');
  process.exit(2);
}

// ---------------------------------------------------------------------------
// signing keys (RS256 and ES256) and cookie keys

function generateJwks() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const stamp = Date.now().toString(36);
  return {
    keys: [
      { ...rsa, kid: `rs256-${stamp}`, alg: 'RS256', use: 'sig' },
      { ...ec, kid: `es256-${stamp}`, alg: 'ES256', use: 'sig' },
    ],
  };
}
const jwks = opts.jwks ? readJson(opts.jwks, 'jwks file') : generateJwks();
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// ---------------------------------------------------------------------------
// HTML (self-contained: no external fonts, scripts, images or styles)

function esc(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = 'body{font-family:sans-serif;margin:2em}form{margin:1em 0}'
  + 'label{display:block;margin:.5em 0}.error{color:#b00}code{font-size:1.5em}';

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;
}

// deviceFlow.userCodeInputSource: `form` is the library's form
// (id="op.deviceInputForm", fields xsrf + user_code).
async function userCodeInputSource(ctx, form, out, err) {
  let msg;
  if (err && (err.userCode || err.name === 'NoCodeError')) {
    msg = '<p class="error" id="error">The code you entered is incorrect. Try again.</p>';
  } else if (err && err.name === 'AbortedError') {
    msg = '<p class="error" id="error">The sign-in request was interrupted.</p>';
  } else if (err) {
    msg = '<p class="error" id="error">There was an error processing your request.</p>';
  } else {
    msg = '<p>Enter the code displayed on your device.</p>';
  }
  ctx.type = 'html';
  ctx.body = page('Device sign-in', `${msg}
${form}
<button type="submit" id="continue" form="op.deviceInputForm">Continue</button>`);
}

// deviceFlow.userCodeConfirmSource: `form` is the library's form
// (id="op.deviceConfirmForm", hidden fields xsrf, user_code, confirm=yes).
async function userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
  const display = client.clientName || client.clientId;
  ctx.type = 'html';
  ctx.body = page('Confirm device', `<p>Client <strong id="client">${esc(display)}</strong> is requesting access.</p>
<p>The following code should be displayed on your device: <code id="user_code">${esc(userCode)}</code></p>
${form}
<button type="submit" id="continue" form="op.deviceConfirmForm">Continue</button>
<button type="submit" id="abort" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
}

async function successSource(ctx) {
  const display = ctx.oidc.client.clientName || ctx.oidc.client.clientId;
  ctx.type = 'html';
  ctx.body = page('Sign-in success', `<p id="success">Your sign-in with ${esc(display)} was successful, you can now close this page.</p>`);
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', Object.entries(out)
    .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span class="${esc(k)}">${esc(v)}</span></p>`)
    .join('\n'));
}

async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = page('Sign out', `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p>Your sign-out was successful.</p>');
}

// ---------------------------------------------------------------------------
// provider

function introspectionOrRevocationAllowed(ctx, client, token) {
  // Same policy as the library default: a public client may only act on its
  // own tokens, a confidential client on any token.
  if (client.clientAuthMethod === 'none' && token.clientId !== client.clientId) return false;
  return true;
}

function createProvider(issuer) {
  const provider = new Provider(issuer, {
    clients,
    clientDefaults: {
      grant_types: ['password'],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks,
    ...(opts.mtls ? {
      clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post',
        'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none'],
    } : {}),
    cookies: {
      keys: cookieKeys,
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    findAccount,
    scopes: ALL_SCOPES,
    claims: {
      openid: ['sub'],
      // uid_number: a user's numeric UID for uid_claim (tests/e2e/provision.sh)
      profile: ['preferred_username', 'name', 'given_name', 'family_name', 'uid_number'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // A client credentials token names its client as preferred_username
    // (the local account a CI job logs in as: tests/e2e/token_ssh.sh).
    extraTokenClaims: (ctx, token) => (token.kind === 'ClientCredentials'
      ? { preferred_username: token.clientId } : undefined),
    // Put the claims of the granted scopes into the ID token too (not only
    // into the userinfo response).
    conformIdTokenClaims: false,
    clientBasedCORS: () => false,
    renderError,
    features: {
      devInteractions: { enabled: false },
      // --resource / --opaque-resource: RFC 8707 resource indicators for
      // the client credentials grant (tests/e2e/token_ssh.sh): a JWT
      // access token (RFC 9068, typ at+jwt) with aud = the resource, or
      // an opaque one for introspection.
      clientCredentials: { enabled: RESOURCES.size > 0 },
      resourceIndicators: RESOURCES.size === 0 ? { enabled: false } : {
        enabled: true,
        defaultResource: (ctx, client, oneOf) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resource) => {
          const format = RESOURCES.get(resource);
          if (!format) throw new errors.InvalidTarget();
          return {
            scope: CUSTOM_SCOPES.join(' '),
            audience: resource,
            accessTokenTTL: ACCESS_TOKEN_TTL,
            accessTokenFormat: format,
            ...(format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
      introspection: { enabled: true, allowedPolicy: introspectionOrRevocationAllowed },
      revocation: { enabled: true, allowedPolicy: introspectionOrRevocationAllowed },
      userinfo: { enabled: true },
      // --mtls: RFC 8705 client authentication (tls_client_auth against
      // --ca, self_signed_tls_client_auth against the client's x5c) with the
      // certificate node's TLS layer received (requestCert below).
      mTLS: opts.mtls ? {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate(ctx) {
          const peer = ctx.socket.getPeerCertificate?.();
          return peer && peer.raw ? new crypto.X509Certificate(peer.raw) : undefined;
        },
        certificateAuthorized(ctx) {
          return ctx.socket.authorized === true;
        },
        certificateSubjectMatches(ctx, property, expected) {
          const cert = new crypto.X509Certificate(ctx.socket.getPeerCertificate().raw);
          // "CN=a\nO=b" as node gives it, compared as "CN=a,O=b"
          if (property === 'tls_client_auth_subject_dn') return cert.subject.split('\n').join(',') === expected;
          if (property === 'tls_client_auth_san_dns') return (cert.subjectAltName || '').split(', ').includes(`DNS:${expected}`);
          return false;
        },
      } : { enabled: false },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource,
        userCodeConfirmSource,
        successSource,
      },
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      ClientCredentials: ACCESS_TOKEN_TTL,
      DeviceCode: DEVICE_CODE_TTL,
      BackchannelAuthenticationRequest: 120,
      IdToken: ID_TOKEN_TTL,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  });

  registerPasswordGrant(provider);
  installDeviceIntervalMiddleware(provider);
  if (opts.mtls) installMtlsAliases(provider, issuer);

  provider.on('server_error', (ctx, err) => console.error('[op] server_error', err));
  if (opts.verbose) {
    for (const ev of ['grant.error', 'introspection.error', 'revocation.error', 'userinfo.error',
      'device_authorization.error', 'code_verification.error', 'end_session.error']) {
      provider.on(ev, (ctx, err) => log(ev, err.name, err.message, err.error_detail || ''));
    }
    provider.on('grant.success', (ctx) => log('grant.success', ctx.oidc.params.grant_type));
  }
  return provider;
}

// ---------------------------------------------------------------------------
// Resource Owner Password Credentials grant (RFC 6749 section 4.3)
//
// Registered with provider.registerGrantType('password', handler, params).
// The token endpoint middleware of the library has already authenticated the
// client (client_secret_basic / client_secret_post / none), checked that the
// client is allowed the "password" grant type, rejected duplicate parameters
// and checked the scope syntax before the handler runs.

const PASSWORD_GRANT = 'password';
const PASSWORD_PARAMS = new Set(['username', 'password', 'scope']);

function registerPasswordGrant(provider) {
  async function passwordGrantHandler(ctx) {
    const { client, params } = ctx.oidc;

    if (typeof params.username !== 'string' || params.username === '') {
      throw new errors.InvalidRequest("missing required parameter 'username'");
    }
    if (typeof params.password !== 'string') {
      throw new errors.InvalidRequest("missing required parameter 'password'");
    }

    const user = checkCredentials(params.username, params.password);
    if (!user) {
      throw new errors.InvalidGrant('invalid resource owner credentials');
    }

    // Requested scope (default "openid"): unknown scopes and scopes outside
    // the client's registered "scope" are an error; scopes the user may not
    // be granted are silently dropped (RFC 6749 section 3.3 allows issuing a
    // narrower scope, which is then returned in the "scope" member).
    const requested = [...new Set((params.scope ?? 'openid').split(' ').filter(Boolean))];
    const clientScopes = client.scope ? new Set(client.scope.split(' ')) : undefined;
    for (const s of requested) {
      if (!ALL_SCOPES.includes(s)) throw new errors.InvalidScope('requested scope is not supported', s);
      if (clientScopes && !clientScopes.has(s)) throw new errors.InvalidScope('requested scope is not allowed', s);
    }
    const granted = requested.filter((s) => user.scopes.has(s));
    const scope = granted.join(' ');

    const account = await findAccount(ctx, user.sub);
    ctx.oidc.entity('Account', account);

    const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
    if (scope) grant.addOIDCScope(scope);
    const rejected = requested.filter((s) => !user.scopes.has(s));
    if (rejected.length) grant.rejectOIDCScope(rejected.join(' '));
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);

    const authTime = Math.floor(Date.now() / 1000);

    const at = new provider.AccessToken({
      accountId: account.accountId,
      client,
      grantId,
      gty: PASSWORD_GRANT,
      scope: scope || undefined,
    });
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    let refreshToken;
    if (granted.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({
        accountId: account.accountId,
        amr: ['pwd'],
        authTime,
        client,
        grantId,
        gty: PASSWORD_GRANT,
        rotations: 0,
        scope,
      });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    let idToken;
    if (granted.includes('openid')) {
      const token = new provider.IdToken({
        ...await account.claims('id_token', scope, {}, []),
        sub: account.accountId,
      }, { ctx });
      token.scope = scope;
      token.mask = {};
      token.rejected = [];
      token.set('auth_time', authTime);
      token.set('amr', ['pwd']);
      token.set('at_hash', accessToken);
      idToken = await token.issue({ use: 'idtoken' });
    }

    ctx.body = {
      access_token: accessToken,
      token_type: at.tokenType,
      expires_in: at.expiration,
      scope,
      ...(idToken ? { id_token: idToken } : {}),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    };
  }

  provider.registerGrantType(PASSWORD_GRANT, passwordGrantHandler, PASSWORD_PARAMS);
}

// ---------------------------------------------------------------------------
// Device flow: add `interval` to the device authorization response and,
// with --slow-down, answer too-fast polling with `slow_down` (RFC 8628
// section 3.5: the interval then grows by 5 seconds for that device code).

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const polls = new Map(); // device_code -> { last: ms, interval: s, expires: ms }

function installDeviceIntervalMiddleware(provider) {
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'device_authorization' && ctx.status === 200
        && ctx.body && typeof ctx.body === 'object' && ctx.body.device_code) {
      ctx.body = { ...ctx.body, interval: DEVICE_INTERVAL };
      return;
    }
    if (!opts['slow-down'] || route !== 'token' || ctx.oidc.params?.grant_type !== DEVICE_GRANT) return;
    const code = ctx.oidc.params.device_code;
    if (typeof code !== 'string' || !ctx.body || ctx.body.error !== 'authorization_pending') return;

    const now = Date.now();
    for (const [k, v] of polls) if (v.expires < now) polls.delete(k);
    const state = polls.get(code);
    if (!state) {
      polls.set(code, { last: now, interval: DEVICE_INTERVAL, expires: now + DEVICE_CODE_TTL * 1000 });
      return;
    }
    // 250 ms tolerance for scheduling jitter.
    if (now - state.last < state.interval * 1000 - 250) {
      state.interval += 5;
      state.last = now;
      ctx.status = 400;
      ctx.body = {
        error: 'slow_down',
        error_description: `polling too fast; interval is now ${state.interval} seconds`,
      };
      return;
    }
    state.last = now;
  });
}

// ---------------------------------------------------------------------------
// --mtls: RFC 8705 §5 mtls_endpoint_aliases in the discovery document,
// served under /mtls/ (the request handler strips the prefix and logs
// the aliased request with --verbose), so a test can tell which endpoint
// a client used.

function installMtlsAliases(provider, issuer) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'discovery' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = {
        ...ctx.body,
        mtls_endpoint_aliases: {
          token_endpoint: `${issuer}/mtls/token`,
          device_authorization_endpoint: `${issuer}/mtls/device/auth`,
        },
      };
    }
  });
}

// ---------------------------------------------------------------------------
// Interaction (login) pages for the device flow.
//
//   GET  /interaction/<uid>          login form (fields: username, password)
//   POST /interaction/<uid>/login    check against users.json; on success the
//                                    scopes the user may hold are granted
//                                    (consent is automatic) -> 303 back to OP
//   POST /interaction/<uid>/abort    deny -> 303 back to OP (access_denied)
//
// If the OP asks for consent only (an existing login session in the cookie
// jar), GET /interaction/<uid> grants it at once and redirects (303).

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid, details, { error, username } = {}) {
  const clientId = details.params.client_id;
  const scope = details.params.scope || '';
  return page('Sign in', `${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<p>Client <strong id="client">${esc(clientId)}</strong> requests scope <code id="scope">${esc(scope)}</code>.</p>
<form id="login" method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label>Username <input type="text" id="username" name="username" value="${esc(username)}" autofocus></label>
<label>Password <input type="password" id="password" name="password"></label>
<button type="submit" id="submit">Sign in</button>
</form>
<form id="abort" method="post" action="/interaction/${esc(uid)}/abort">
<button type="submit" id="cancel">Cancel</button>
</form>`);
}

async function grantFor(provider, details, accountId) {
  const user = usersBySub.get(accountId);
  const clientId = details.params.client_id;
  let grant;
  if (details.grantId) grant = await provider.Grant.find(details.grantId);
  grant ||= new provider.Grant({ accountId, clientId });
  const requested = String(details.params.scope || '').split(' ').filter(Boolean);
  const allowed = requested.filter((s) => user && user.scopes.has(s));
  const denied = requested.filter((s) => !(user && user.scopes.has(s)));
  if (allowed.length) grant.addOIDCScope(allowed.join(' '));
  if (denied.length) grant.rejectOIDCScope(denied.join(' '));
  const claims = details.prompt?.details?.missingOIDCClaims;
  if (Array.isArray(claims) && claims.length) grant.addOIDCClaims(claims);
  return grant.save();
}

function send(res, status, type, body, headers = {}) {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(body);
}

async function handleInteraction(provider, req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    send(res, 400, 'text/html; charset=utf-8',
      page('Error', `<p class="error" id="error">${esc(err.message)}</p>`));
    return;
  }
  if (details.uid !== uid) {
    send(res, 400, 'text/html; charset=utf-8',
      page('Error', '<p class="error" id="error">interaction mismatch</p>'));
    return;
  }

  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') {
      send(res, 200, 'text/html; charset=utf-8', loginPage(uid, details));
      return;
    }
    if (details.prompt.name === 'consent') {
      const grantId = await grantFor(provider, details, details.session.accountId);
      log('consent auto-granted for', details.session.accountId);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    send(res, 400, 'text/html; charset=utf-8',
      page('Error', `<p class="error" id="error">unsupported prompt ${esc(details.prompt.name)}</p>`));
    return;
  }

  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const user = checkCredentials(username, form.get('password') ?? '');
    if (!user) {
      log('interaction login failed for', JSON.stringify(username));
      send(res, 200, 'text/html; charset=utf-8',
        loginPage(uid, details, { error: 'Invalid username or password.', username }));
      return;
    }
    const grantId = await grantFor(provider, details, user.sub);
    log('interaction login ok for', user.username);
    await provider.interactionFinished(req, res, {
      login: { accountId: user.sub, amr: ['pwd'] },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return;
  }

  if (req.method === 'POST' && action === 'abort') {
    await readForm(req);
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
    return;
  }

  send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
}

// ---------------------------------------------------------------------------
// server

const server = https.createServer({
  cert: certPem,
  key: keyPem,
  ...(caPem ? { ca: caPem } : {}),
  // --mtls: ask for a client certificate, accept any (oidc-provider decides
  // by the client's registration; certificateAuthorized says whether it
  // chains to --ca).
  ...(opts.mtls ? { requestCert: true, rejectUnauthorized: false } : {}),
});

server.on('tlsClientError', (err) => log('tlsClientError', err.message));

server.listen(PORT, HOST, async () => {
  const { port } = server.address();
  const issuer = `https://${HOST}:${port}`;
  const provider = createProvider(issuer);
  const callback = provider.callback();

  // Static clients are validated lazily by the library; force it now so a
  // bad clients.json fails at startup rather than at the first request.
  for (const c of clients) {
    try {
      if (!c || typeof c.client_id !== 'string') throw new Error('client_id missing');
      if (!await provider.Client.find(c.client_id)) throw new Error('not found after registration');
    } catch (err) {
      console.error(`server.js: invalid client ${c?.client_id}: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
      process.exit(2);
    }
  }

  server.on('request', (req, res) => {
    if (opts.mtls && req.url.startsWith('/mtls/')) {
      log('mtls alias', req.method, req.url.split('?')[0]);
      req.url = req.url.slice('/mtls'.length);
    }
    const url = new URL(req.url, issuer);
    log(req.method, url.pathname);
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?$/.exec(url.pathname);
    if (m) {
      handleInteraction(provider, req, res, m[1], m[2]).catch((err) => {
        console.error('[op] interaction error', err);
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.end();
      });
      return;
    }
    callback(req, res);
  });

  process.stdout.write(`READY ${port}\n`);
  log(`issuer ${issuer}`);
});

server.on('error', (err) => {
  console.error(`server.js: ${err.message}`);
  process.exit(1);
});

function shutdown(sig) {
  log(`${sig}: shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
