#!/usr/bin/env node
// approve-browser.js - approve a device login (RFC 8628) in headless
// Chromium as a person would: open the URL the terminal showed, check that
// the page shows the same code, press Continue, sign in with username and
// password, and wait for the success page.  Used by tests/e2e/device_ssh.sh.
//
//   node approve-browser.js --url URL --code XXXX-XXXX --username USER
//       --server-cert PEM --profile DIR [--timeout-ms N] [--steps NAME]
//   (--steps NAME: the provider's pages are walked by
//   tests/e2e/browser-steps/NAME.js instead of the steps below, which are
//   those of tests/op's oidc-provider)
//   (the password is read from the environment, APPROVE_PASSWORD, so it is
//   not on a command line that ps shows)
//
// Browser: Debian's /usr/bin/chromium driven by playwright-core (pinned in
// tests/e2e/browser/package-lock.json; install with
// `cd tests/e2e/browser && npm ci`); playwright never downloads a browser.
//
// TLS: Chromium has no option to trust a CA file, and installing the test
// CA would mean writing an NSS database.  Instead the test server's own
// key is pinned: --ignore-certificate-errors-spki-list names the SHA-256
// of the server certificate's public key (a --user-data-dir is required
// for Chromium to honour it), so certificate errors are overlooked for that
// one key only -- any other certificate still fails.  ignoreHTTPSErrors is
// NOT used.  Every request that is not for the provider's loopback origin
// is aborted and reported, so the run provably stays on 127.0.0.1.
//
// Output: one line per step on stdout ("step: ..."), then "APPROVED" and
// exit status 0; on any failure a line "FAILED: why" and exit status 1.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (dflt !== undefined) return dflt;
    fail(`missing --${name}`);
  }
  return process.argv[i + 1];
}

function fail(why) {
  console.log('FAILED: ' + why);
  process.exit(1);
}

let chromium;
try {
  ({ chromium } = require(path.join(__dirname, 'browser', 'node_modules', 'playwright-core')));
} catch (e) {
  fail('playwright-core not installed: run `cd tests/e2e/browser && npm ci` (' + e.message + ')');
}

const url = new URL(arg('url'));
const code = arg('code');
const username = arg('username');
const certFile = arg('server-cert');
const profile = arg('profile');
const timeout = Number(arg('timeout-ms', '30000'));
const stepsName = arg('steps', '');
if (stepsName !== '' && !/^[a-z0-9-]+$/.test(stepsName)) fail('bad --steps name: ' + stepsName);
const providerSteps = stepsName === '' ? null
  : require(path.join(__dirname, 'browser-steps', stepsName + '.js'));
const password = process.env.APPROVE_PASSWORD;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (password === undefined) fail('APPROVE_PASSWORD is not set');
if (url.protocol !== 'https:' || url.hostname !== '127.0.0.1') fail('not a loopback https URL: ' + url);
if (!fs.existsSync(executablePath)) fail(`${executablePath} not found (Debian package chromium)`);

// base64(SHA-256(SubjectPublicKeyInfo)) of the server certificate.
const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
const spki = crypto.createHash('sha256')
  .update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

class Failure extends Error {}
const check = (cond, why) => { if (!cond) throw new Failure(why); };

(async () => {
  const t0 = Date.now();
  const offOrigin = [];
  // A fresh profile directory per run (playwright passes it to Chromium as
  // --user-data-dir); HOME points there too, so nothing is read from or
  // written to root's home.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout,
    ignoreHTTPSErrors: false,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
    env: { ...process.env, HOME: profile },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(timeout);
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if (u.origin === url.origin) return route.continue();
      offOrigin.push(u.href);
      return route.abort();
    });
    console.log(`step: ${context.browser() ? context.browser().version() : 'chromium'} up in ${Date.now() - t0} ms`);

    if (providerSteps) {
      // approve({ page, url, code, username, password, check, log })
      await providerSteps.approve({ page, url, code, username, password, check,
        log: (m) => console.log('step: ' + m) });
      check(offOrigin.length === 0, 'requests off the provider origin: ' + offOrigin.join(' '));
      console.log(`APPROVED in ${Date.now() - t0} ms`);
      return;
    }
    // The page of verification_uri_complete submits the code by itself
    // (inline script); a person then sees the confirmation page.
    const resp = await page.goto(url.href);
    check(resp && resp.status() === 200, `GET ${url.href}: ${resp && resp.status()}`);
    await page.waitForSelector('#user_code');
    const shown = (await page.textContent('#user_code')).trim();
    console.log(`step: confirmation page (${page.url()}) shows the code ${shown}`);
    check(shown === code, `the page shows ${shown}, the terminal showed ${code}`);
    await Promise.all([page.waitForURL(/\/interaction\//), page.click('#continue')]);
    console.log(`step: Continue -> sign-in page ${page.url()}`);

    await page.fill('#username', username);
    await page.fill('#password', password);
    await Promise.all([page.waitForSelector('#success, #error'), page.click('#submit')]);
    const error = await page.$('#error');
    check(!error, 'the provider said: ' + (error && (await error.textContent()).trim()));
    const success = (await page.textContent('#success')).trim();
    console.log(`step: Sign in -> ${page.url()}: ${success}`);
    check(offOrigin.length === 0, 'requests off the provider origin: ' + offOrigin.join(' '));
    console.log(`APPROVED in ${Date.now() - t0} ms`);
  } finally {
    await context.close();
  }
})().catch((e) => {
  console.log('FAILED: ' + (e instanceof Failure ? e.message
    : String(e && e.stack || e).split('\n').slice(0, 4).join(' | ')));
  process.exitCode = 1;
});
