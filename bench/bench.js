#!/usr/bin/env node
// bench.js - per-login cost of pam_oauth2 side by side with a bare curl
// doing the same token request against the same local mock IdP, in one run.
//
//   node bench/bench.js [--runs N] [--concurrent N] [--base-module PATH]
//
// Run as root from a built tree (make && make check builds tests/pam/pamtest).
// Everything is on 127.0.0.1.  Prints a Markdown report on stdout.
//
// The trust rows compare a warm login trusting one CA (ca_file) with one
// trusting the system store, interleaved.  The system store is a copy of
// the machine's /etc/ssl/certs with the test CA added and re-hashed, bound
// over /etc/ssl/certs in a private mount namespace (the script re-runs
// itself under unshare): the machine's own store is never touched.
// --base-module: also a row for another build's module (e.g. main's).
// --keycloak: also a warm login against a real Keycloak beside a bare curl
// token request to the same Keycloak, interleaved: the Keycloak of the
// OA2_KC_* variables (tests/lib/keycloak.sh start DIR; . DIR/env), else
// one this script starts and stops (tests/lib/keycloak.sh, 1-2 minutes);
// the rows use a realm of their own, made and deleted by the admin API.
// --tokens: also grants = token, interleaved with the bare curl token
// request: a JWT access token login (RFC 9068, verified locally, warm
// cache: no request) and an introspected opaque token login (RFC 7662,
// one request).
'use strict';

const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const https = require('node:https');

const top = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };
const RUNS = opt('--runs', 40);
const CONCURRENT = opt('--concurrent', 50);
const bi = args.indexOf('--base-module');
const BASE_MODULE = bi >= 0 ? path.resolve(args[bi + 1]) : null;
const KEYCLOAK = args.includes('--keycloak');
const TOKENS = args.includes('--tokens');
const CERTS = '/etc/ssl/certs';
const BUNDLE = `${CERTS}/ca-certificates.crt`;

if (!process.env.OA2_BENCH_NS) {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath,
    __filename, ...args], { stdio: 'inherit', env: { ...process.env, OA2_BENCH_NS: '1' } });
  if (r.error) throw r.error;
  process.exit(r.status === null ? 1 : r.status);
}

const MODULE = path.join(top, '.libs/pam_oauth2.so');
const PAMTEST = path.join(top, 'tests/pam/pamtest');
for (const f of [MODULE, PAMTEST, ...(BASE_MODULE ? [BASE_MODULE] : [])]) if (!fs.existsSync(f)) throw new Error(`not built: ${f}`);

const tmp = fs.mkdtempSync('/tmp/oa2bench.');
fs.chmodSync(tmp, 0o700);
const USER = 'oa2bench';
const PASSWORD = 'bench-Pw&=+%';
const SECRET = 'bench-secret';
let mock = null;
let createdUser = false;
let kc = null; // { url, ca, admin, password, own, realm }

function cleanup() {
  if (mock) mock.kill('SIGTERM');
  // The admin token lives a minute: a fresh one for the deletion (the
  // password in the environment of sh and curl's stdin, not in argv).
  if (kc && kc.realm) {
    spawnSync('sh', ['-c', 'tok=$(printf %s "$KCPW" | curl -sS --cacert "$1" --data-urlencode grant_type=password ' +
      '--data-urlencode client_id=admin-cli --data-urlencode "username=$2" --data-urlencode password@- ' +
      '"$3/realms/master/protocol/openid-connect/token" | sed -n \'s/.*"access_token":"\\([^"]*\\)".*/\\1/p\'); ' +
      'curl -sS -o /dev/null --cacert "$1" -X DELETE -H "Authorization: Bearer $tok" "$3/admin/realms/$4"',
    'sh', kc.ca, kc.admin, kc.url, kc.realm], { env: { ...process.env, KCPW: kc.password }, stdio: 'ignore' });
  }
  if (kc && kc.own) spawnSync('bash', [path.join(top, 'tests/lib/keycloak.sh'), 'stop', `${tmp}/keycloak`], { stdio: 'ignore' });
  spawnSync('umount', [CERTS]);
  if (createdUser) spawnSync('userdel', ['-f', USER]);
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const ms = (x) => x.toFixed(1);

function control(method, p, body) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: mockPort, path: `/_control/${p}`, method,
      ca: fs.readFileSync(`${tmp}/pki/ca.pem`), headers: { 'content-type': 'application/json' } }, (res) => {
      let s = ''; res.on('data', (d) => { s += d; }); res.on('end', () => resolve(JSON.parse(s)));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

// Run argv once: wall time from spawn to exit (ms).
function measure(argv, input) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  return { wall, out: r.stdout, status: r.status };
}

// CPU per run (ms) and peak RSS (KiB): GNU time counts in 10 ms steps, so
// run the command n times in one shell loop and divide.
function cpuAndRss(argv, input, n, clearDir) {
  const tf = `${tmp}/time.out`;
  fs.writeFileSync(`${tmp}/stdin`, input);
  const loop = 'n=$1; d=$2; shift 2; i=0; while [ $i -lt $n ]; do ' +
    '[ -n "$d" ] && rm -rf "$d"; "$@" <"$STDIN" >/dev/null 2>&1; i=$((i+1)); done';
  spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', tf, 'sh', '-c', loop, 'sh', String(n),
    clearDir || '', ...argv], { env: { ...process.env, STDIN: `${tmp}/stdin` } });
  const [u, s, rss] = fs.readFileSync(tf, 'utf8').trim().split(/\s+/).map(Number);
  return { cpu: (u + s) * 1000 / n, rss };
}

let mockPort;

// The system store of this namespace: the machine's, copied (links stay
// links), the test CA added to the bundle and as a file, re-hashed.
// Returns the number of certificates in the bundle.
function systemStore() {
  const store = `${tmp}/store`;
  execFileSync('cp', ['-a', `${CERTS}/.`, store]);
  fs.copyFileSync(`${tmp}/pki/ca.pem`, `${store}/pam_oauth2_bench_ca.pem`);
  fs.appendFileSync(`${store}/ca-certificates.crt`, fs.readFileSync(`${tmp}/pki/ca.pem`));
  // rehash skips the bundle (more than one certificate) with a warning.
  spawnSync('openssl', ['rehash', store], { stdio: 'ignore' });
  execFileSync('mount', ['--bind', store, CERTS]);
  if (fs.statSync(CERTS).ino !== fs.statSync(store).ino) throw new Error('bind mount failed');
  const hash = execFileSync('openssl', ['x509', '-hash', '-noout', '-in', `${tmp}/pki/ca.pem`],
    { encoding: 'utf8' }).trim();
  if (!fs.existsSync(`${CERTS}/${hash}.0`)) throw new Error('the test CA has no hash link');
  return (fs.readFileSync(BUNDLE, 'utf8').match(/-----BEGIN CERTIFICATE-----/g) || []).length;
}

// HTTPS to Keycloak (trusting its test CA only); resolves { status, body }.
function kcRequest(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: fs.readFileSync(kc.ca), headers }, (res) => {
      let s = ''; res.on('data', (d) => { s += d; }); res.on('end', () => resolve({ status: res.statusCode, body: s }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The Keycloak to measure, and a realm of the bench's own in it: client
// "bench" (confidential, direct access grants), user USER with PASSWORD.
async function keycloakSetup() {
  const e = process.env;
  if (e.OA2_KC_URL && e.OA2_KC_CA && e.OA2_KC_ADMIN_USER && e.OA2_KC_ADMIN_PASSWORD) {
    kc = { url: e.OA2_KC_URL, ca: e.OA2_KC_CA, admin: e.OA2_KC_ADMIN_USER, password: e.OA2_KC_ADMIN_PASSWORD, own: false };
  } else {
    kc = { own: true };
    const r = spawnSync('bash', [path.join(top, 'tests/lib/keycloak.sh'), 'start', `${tmp}/keycloak`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`Keycloak did not start: ${r.stdout} ${r.stderr}`);
    const env = Object.fromEntries([...fs.readFileSync(`${tmp}/keycloak/env`, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    Object.assign(kc, { url: env.OA2_KC_URL, ca: env.OA2_KC_CA, admin: env.OA2_KC_ADMIN_USER, password: env.OA2_KC_ADMIN_PASSWORD });
  }
  const form = new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: kc.admin, password: kc.password });
  const t = await kcRequest('POST', `${kc.url}/realms/master/protocol/openid-connect/token`,
    { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
  if (t.status !== 200) throw new Error(`Keycloak admin token: HTTP ${t.status}`);
  kc.token = JSON.parse(t.body).access_token;
  const info = await kcRequest('GET', `${kc.url}/admin/serverinfo`, { authorization: `Bearer ${kc.token}` });
  kc.version = info.status === 200 ? JSON.parse(info.body).systemInfo.version : '?';
  const realm = `oa2bench${process.pid}`;
  const rep = {
    realm, enabled: true,
    clients: [{ clientId: 'bench', enabled: true, publicClient: false, secret: SECRET,
      directAccessGrantsEnabled: true, standardFlowEnabled: false, defaultClientScopes: ['basic', 'profile'] }],
    users: [{ username: USER, enabled: true, email: `${USER}@example.test`, emailVerified: true,
      firstName: 'Bench', lastName: 'Test', credentials: [{ type: 'password', value: PASSWORD, temporary: false }] }],
  };
  const c = await kcRequest('POST', `${kc.url}/admin/realms`,
    { authorization: `Bearer ${kc.token}`, 'content-type': 'application/json' }, JSON.stringify(rep));
  if (c.status !== 201) throw new Error(`Keycloak: creating realm ${realm}: HTTP ${c.status} ${c.body}`);
  kc.realm = realm;
  kc.issuer = `${kc.url}/realms/${realm}`;
}

async function main() {
  execFileSync(path.join(top, 'tests/lib/mkca.sh'), [`${tmp}/pki`]);
  const storeCerts = systemStore();
  if (spawnSync('getent', ['passwd', USER]).status !== 0) {
    execFileSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', USER]);
    createdUser = true;
  }
  fs.writeFileSync(`${tmp}/users.json`, JSON.stringify({ [USER]: { password: PASSWORD, scope: 'openid' } }));
  mock = spawn('node', [path.join(top, 'tests/mock-idp/mock-idp.js'), '--port', '0',
    '--cert', `${tmp}/pki/server.pem`, '--key', `${tmp}/pki/server.key`,
    '--users', `${tmp}/users.json`, '--client-id', 'bench', '--client-secret', SECRET],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  mockPort = await new Promise((resolve, reject) => {
    let s = '';
    mock.stdout.on('data', (d) => { s += d; const m = /READY (\d+)/.exec(s); if (m) resolve(Number(m[1])); });
    mock.on('exit', () => reject(new Error('mock IdP exited')));
  });
  const url = `https://127.0.0.1:${mockPort}`;
  const cache = `${tmp}/cache`;
  fs.writeFileSync(`${tmp}/oauth2.conf`, [
    `issuer = ${url}`, 'client_id = bench', `client_secret = ${SECRET}`, `ca_file = ${tmp}/pki/ca.pem`,
    `cache_dir = ${cache}`, 'scope = openid', ''].join('\n'), { mode: 0o600 });
  fs.mkdirSync(`${tmp}/pam.d`);
  fs.writeFileSync(`${tmp}/pam.d/bench`, `auth required ${MODULE} config=${tmp}/oauth2.conf\n`);
  fs.writeFileSync(`${tmp}/pam.d/benchdev`,
    `auth required ${MODULE} config=${tmp}/oauth2.conf grants=device qr_code=no\n`);
  fs.writeFileSync(`${tmp}/pam.d/other`, 'auth required pam_deny.so\n');
  // The same without ca_file: the system store.
  fs.writeFileSync(`${tmp}/oauth2-sys.conf`, [
    `issuer = ${url}`, 'client_id = bench', `client_secret = ${SECRET}`,
    `cache_dir = ${cache}`, 'scope = openid', ''].join('\n'), { mode: 0o600 });
  fs.writeFileSync(`${tmp}/pam.d/benchsys`, `auth required ${MODULE} config=${tmp}/oauth2-sys.conf\n`);
  if (BASE_MODULE)
    fs.writeFileSync(`${tmp}/pam.d/benchbase`, `auth required ${BASE_MODULE} config=${tmp}/oauth2-sys.conf\n`);

  // The floor: one TLS handshake and one POST, by curl, in a fresh process.
  // Same CA file, same client authentication (Basic), same form fields.
  const curlArgv = ['curl', '-sS', '-o', '/dev/null', '--cacert', `${tmp}/pki/ca.pem`,
    '-u', `bench:${SECRET}`, '--data-urlencode', 'grant_type=password',
    '--data-urlencode', `username=${USER}`, '--data-urlencode', `password=${PASSWORD}`,
    '--data-urlencode', 'scope=openid', `${url}/token`];
  const pamArgv = [PAMTEST, `${tmp}/pam.d`, 'bench', USER, 'auth'];

  const rows = [];
  const sample = async (name, argv, input, clearDir, check) => {
    const r = { name, wall: [], requests: [], errors: 0 };
    measure(argv, input); // warm the page cache; not counted
    for (let i = 0; i < RUNS; i++) {
      if (clearDir) fs.rmSync(clearDir, { recursive: true, force: true });
      await control('POST', 'reset', {});
      const m = measure(argv, input);
      const log = await control('GET', 'requests');
      if (!check(m)) r.errors++;
      r.wall.push(m.wall); r.requests.push(log.length);
    }
    Object.assign(r, cpuAndRss(argv, input, RUNS, clearDir));
    rows.push(r);
    return r;
  };
  const pamOk = (m) => /auth=PAM_SUCCESS/.test(m.out);
  const curl = await sample('bare curl (token request)', curlArgv, '', null, (m) => m.status === 0);
  const cold = await sample('PAM login, cold cache', pamArgv, `${PASSWORD}\n`, cache, pamOk);
  const warm = await sample('PAM login, warm cache', pamArgv, `${PASSWORD}\n`, null, pamOk);

  // Concurrent logins, warm cache, each a fresh process.
  await control('POST', 'reset', {});
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: CONCURRENT }, () => new Promise((resolve) => {
    const p = spawn(PAMTEST, [`${tmp}/pam.d`, 'bench', USER, 'auth'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = ''; p.stdout.on('data', (d) => { out += d; });
    p.on('close', () => resolve(/auth=PAM_SUCCESS/.test(out)));
    p.stdin.end(`${PASSWORD}\n`);
  })));
  const concWall = Number(process.hrtime.bigint() - t0) / 1e6;
  const concErrors = results.filter((x) => !x).length;
  const concReq = (await control('GET', 'requests')).length;

  // Device flow: time from the user's approval to the finished login, with
  // a 1 s poll interval; the user pressed Enter before approving.
  const devTimes = [];
  for (let i = 0; i < 5; i++) {
    await control('POST', 'reset', {});
    await control('POST', 'scenario', { device_interval: 1 });
    const p = spawn(PAMTEST, [`${tmp}/pam.d`, 'benchdev', USER, 'auth'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = ''; p.stdout.on('data', (d) => { out += d; });
    const done = new Promise((resolve) => p.on('close', () => resolve(process.hrtime.bigint())));
    p.stdin.end('\n');
    let pending = [];
    while (!pending.length) { await new Promise((r) => setTimeout(r, 20)); pending = await control('GET', 'device/pending'); }
    await new Promise((r) => setTimeout(r, 300 + 137 * i)); // approve at varying points of the interval
    const ta = process.hrtime.bigint();
    await control('POST', 'device/approve', { user_code: pending[0].user_code, as: USER });
    const tdone = await done;
    if (/auth=PAM_SUCCESS/.test(out)) devTimes.push(Number(tdone - ta) / 1e6);
  }

  // Trust: one CA against the system store, interleaved (each round runs
  // every row once, the order rotating), warm cache.  (The curl tool has no
  // row for a hashed directory alone: --capath keeps the default bundle.)
  const curlSys = (store) => ['curl', '-sS', '-o', '/dev/null', ...store,
    '-u', `bench:${SECRET}`, '--data-urlencode', 'grant_type=password',
    '--data-urlencode', `username=${USER}`, '--data-urlencode', `password=${PASSWORD}`,
    '--data-urlencode', 'scope=openid', `${url}/token`];
  const trust = [
    { name: 'PAM login, warm, ca_file = the test CA', argv: pamArgv, ok: pamOk, input: `${PASSWORD}\n` },
    { name: 'PAM login, warm, system store (this build)', argv: [PAMTEST, `${tmp}/pam.d`, 'benchsys', USER, 'auth'], ok: pamOk, input: `${PASSWORD}\n` },
    ...(BASE_MODULE ? [{ name: 'PAM login, warm, system store (--base-module)', argv: [PAMTEST, `${tmp}/pam.d`, 'benchbase', USER, 'auth'], ok: pamOk, input: `${PASSWORD}\n` }] : []),
    { name: `bare curl, system bundle (--cacert ${BUNDLE})`, argv: curlSys(['--cacert', BUNDLE]), ok: (m) => m.status === 0, input: '' },
  ].map((r) => ({ ...r, wall: [], requests: [], errors: 0 }));
  for (const r of trust) measure(r.argv, r.input); // warm the page cache and the metadata cache
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < trust.length; k++) {
      const r = trust[(i + k) % trust.length];
      await control('POST', 'reset', {});
      const m = measure(r.argv, r.input);
      const log = await control('GET', 'requests');
      if (!r.ok(m)) r.errors++;
      r.wall.push(m.wall); r.requests.push(log.length);
    }
  }
  for (const r of trust) Object.assign(r, cpuAndRss(r.argv, r.input, RUNS, null));
  const one = median(trust[0].wall);

  // Keycloak: a warm login beside bare curl, interleaved, same realm.
  let kcRows = null;
  if (KEYCLOAK) {
    await keycloakSetup();
    fs.writeFileSync(`${tmp}/oauth2-kc.conf`, [
      `issuer = ${kc.issuer}`, 'client_id = bench', `client_secret = ${SECRET}`, `ca_file = ${kc.ca}`,
      `cache_dir = ${tmp}/kccache`, 'scope = openid', ''].join('\n'), { mode: 0o600 });
    fs.writeFileSync(`${tmp}/pam.d/benchkc`, `auth required ${MODULE} config=${tmp}/oauth2-kc.conf\n`);
    kcRows = [
      { name: 'Keycloak: bare curl (token request)', argv: ['curl', '-sS', '-f', '-o', '/dev/null', '--cacert', kc.ca,
        '-u', `bench:${SECRET}`, '--data-urlencode', 'grant_type=password',
        '--data-urlencode', `username=${USER}`, '--data-urlencode', `password=${PASSWORD}`,
        '--data-urlencode', 'scope=openid', `${kc.issuer}/protocol/openid-connect/token`], ok: (m) => m.status === 0, input: '' },
      { name: 'Keycloak: PAM login, warm cache', argv: [PAMTEST, `${tmp}/pam.d`, 'benchkc', USER, 'auth'], ok: pamOk, input: `${PASSWORD}\n` },
    ].map((r) => ({ ...r, wall: [], errors: 0 }));
    for (const r of kcRows) measure(r.argv, r.input); // warm Keycloak, the page cache and the metadata cache
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < kcRows.length; k++) {
        const r = kcRows[(i + k) % kcRows.length];
        const m = measure(r.argv, r.input);
        if (!r.ok(m)) r.errors++;
        r.wall.push(m.wall);
      }
    }
    for (const r of kcRows) Object.assign(r, cpuAndRss(r.argv, r.input, RUNS, null));
  }

  // grants = token: a JWT access token verified locally and an opaque
  // token introspected, beside the bare curl token request, interleaved.
  // No mock reset inside (it would forget the opaque token): requests are
  // counted from the growth of the request log.
  let tokRows = null;
  if (TOKENS) {
    const AUD = 'https://ssh.bench.example';
    execFileSync('node', [path.join(top, 'tests/pam/jwtcraft.js'), `${tmp}/keys`, 'init']);
    const now = Math.floor(Date.now() / 1000);
    const jwt = execFileSync('node', [path.join(top, 'tests/pam/jwtcraft.js'), `${tmp}/keys`, 'sign', 'RS256', 'rsa',
      '{"typ":"at+jwt"}', JSON.stringify({ iss: url, aud: AUD, sub: 'sub-bench', client_id: 'ci', jti: 'bench-jti',
        exp: now + 7200, iat: now, preferred_username: USER, scope: 'pam:login' })], { encoding: 'utf8' });
    await control('POST', 'reset', {});
    await control('POST', 'scenario', { jwks_raw: fs.readFileSync(`${tmp}/keys/jwks.json`, 'utf8'),
      introspection_claims: { aud: AUD, preferred_username: USER } });
    const tr = spawnSync('curl', ['-sS', '--cacert', `${tmp}/pki/ca.pem`, '-u', `bench:${SECRET}`,
      '--data-urlencode', 'grant_type=password', '--data-urlencode', `username=${USER}`,
      '--data-urlencode', `password=${PASSWORD}`, '--data-urlencode', 'scope=openid', `${url}/token`], { encoding: 'utf8' });
    const opaque = JSON.parse(tr.stdout).access_token;
    fs.writeFileSync(`${tmp}/oauth2-tok.conf`, [
      `issuer = ${url}`, 'client_id = bench', `client_secret = ${SECRET}`, `ca_file = ${tmp}/pki/ca.pem`,
      `cache_dir = ${tmp}/tokcache`, 'grants = token', `token_audience = ${AUD}`, 'token_clients = ci bench', ''].join('\n'), { mode: 0o600 });
    fs.writeFileSync(`${tmp}/pam.d/benchtok`, `auth required ${MODULE} config=${tmp}/oauth2-tok.conf\n`);
    const tokArgv = [PAMTEST, `${tmp}/pam.d`, 'benchtok', USER, 'auth'];
    tokRows = [
      { name: 'bare curl (token request)', argv: curlArgv, ok: (m) => m.status === 0, input: '' },
      { name: 'token login, JWT access token (local verification, warm cache)', argv: tokArgv, ok: pamOk, input: `${jwt}\n` },
      { name: 'token login, opaque token (introspection, warm cache)', argv: tokArgv, ok: pamOk, input: `${opaque}\n` },
    ].map((r) => ({ ...r, wall: [], requests: [], errors: 0 }));
    for (const r of tokRows) measure(r.argv, r.input); // warm the page cache and the metadata cache
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < tokRows.length; k++) {
        const r = tokRows[(i + k) % tokRows.length];
        const before = (await control('GET', 'requests')).length;
        const m = measure(r.argv, r.input);
        const after = (await control('GET', 'requests')).length;
        if (!r.ok(m)) r.errors++;
        r.wall.push(m.wall); r.requests.push(after - before);
      }
    }
    for (const r of tokRows) Object.assign(r, cpuAndRss(r.argv, r.input, RUNS, null));
  }

  const ratio = median(warm.wall) / median(curl.wall);
  const line = (r) => `| ${r.name} | ${ms(median(r.wall))} | ${ms(pct(r.wall, 0.9))} | ${(median(r.wall) / median(curl.wall)).toFixed(2)}x | ${ms(r.cpu)} | ${(r.rss / 1024).toFixed(1)} | ${median(r.requests)} | ${r.errors} |`;
  const out = [];
  out.push(`Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0].model.trim()}), ${RUNS} runs each, fresh process per run, mock IdP over TLS on 127.0.0.1.`);
  out.push('');
  out.push('| what | median ms | p90 ms | vs curl | CPU ms per run | peak RSS MiB | requests to the IdP | errors |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) out.push(line(r));
  out.push('');
  out.push(`- warm login / bare curl (medians): **${ratio.toFixed(2)}x** (target 1.3x)`);
  out.push(`- requests per warm login: **${median(warm.requests)}** (target 1); cold: ${median(cold.requests)}`);
  out.push(`- ${CONCURRENT} concurrent logins (warm, fresh processes): **${ms(concWall)} ms** for all, **${concErrors} errors**, ${concReq} requests`);
  out.push(`- device grant, approval to finished login (interval 1 s, ${devTimes.length}/5 succeeded): median ${ms(median(devTimes))} ms, max ${ms(Math.max(...devTimes))} ms`);
  out.push('');
  out.push(`Trust, interleaved (${RUNS} rounds, each row once per round in rotating order, warm cache); the system store is the machine's with the test CA added (${storeCerts} certificates in the bundle), hashed:`);
  out.push('');
  out.push('| what | median ms | p90 ms | vs ca_file login | CPU ms per run | peak RSS MiB | requests to the IdP | errors |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of trust) out.push(`| ${r.name} | ${ms(median(r.wall))} | ${ms(pct(r.wall, 0.9))} | ${(median(r.wall) / one).toFixed(2)}x | ${ms(r.cpu)} | ${(r.rss / 1024).toFixed(1)} | ${median(r.requests)} | ${r.errors} |`);
  out.push('');
  out.push(`- warm login, system store / warm login, ca_file (medians): **${(median(trust[1].wall) / one).toFixed(2)}x** (target 1.2x)`);
  if (kcRows) {
    const kcurl = median(kcRows[0].wall);
    out.push('');
    out.push(`Keycloak ${kc.version} (${kc.url}, start-dev, realm ${kc.realm}), interleaved (${RUNS} rounds, each row once per round in rotating order), the same client, user and form fields:`);
    out.push('');
    out.push('| what | median ms | p90 ms | vs curl | CPU ms per run (this process) | peak RSS MiB | errors |');
    out.push('|---|---|---|---|---|---|---|');
    for (const r of kcRows) out.push(`| ${r.name} | ${ms(median(r.wall))} | ${ms(pct(r.wall, 0.9))} | ${(median(r.wall) / kcurl).toFixed(2)}x | ${ms(r.cpu)} | ${(r.rss / 1024).toFixed(1)} | ${r.errors} |`);
    out.push('');
    out.push(`- Keycloak: warm login / bare curl (medians): **${(median(kcRows[1].wall) / kcurl).toFixed(2)}x**`);
  }
  if (tokRows) {
    const tcurl = median(tokRows[0].wall);
    out.push('');
    out.push(`grants = token, interleaved (${RUNS} rounds, each row once per round in rotating order), beside the bare curl token request to the same mock IdP:`);
    out.push('');
    out.push('| what | median ms | p90 ms | vs curl | CPU ms per run | peak RSS MiB | requests to the IdP | errors |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const r of tokRows) out.push(`| ${r.name} | ${ms(median(r.wall))} | ${ms(pct(r.wall, 0.9))} | ${(median(r.wall) / tcurl).toFixed(2)}x | ${ms(r.cpu)} | ${(r.rss / 1024).toFixed(1)} | ${median(r.requests)} | ${r.errors} |`);
    out.push('');
    out.push(`- JWT token login / bare curl (medians): **${(median(tokRows[1].wall) / tcurl).toFixed(2)}x**, ${Math.max(...tokRows[1].requests)} requests at most`);
    out.push(`- introspected token login / bare curl (medians): **${(median(tokRows[2].wall) / tcurl).toFixed(2)}x**`);
  }
  console.log(out.join('\n'));
  const trustErrors = trust.reduce((n, r) => n + r.errors, 0) +
    (kcRows ? kcRows.reduce((n, r) => n + r.errors, 0) : 0) +
    (tokRows ? tokRows.reduce((n, r) => n + r.errors, 0) : 0);
  process.exitCode = (concErrors || warm.errors || cold.errors || trustErrors || devTimes.length !== 5) ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 1; })
  .finally(() => process.exit());
