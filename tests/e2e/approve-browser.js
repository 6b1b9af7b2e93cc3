#!/usr/bin/env node
// approve-browser.js - approve a device login (RFC 8628) in headless
// Chromium as a person would, on the provider's own pages.  Used by
// tests/e2e/device_ssh.sh (oidc-provider, tests/op) and
// tests/e2e/keycloak_device.sh (Keycloak).
//
//   node approve-browser.js --url URL --code XXXX-XXXX --username USER
//       --server-cert PEM --profile DIR [--provider op|keycloak]
//       [--type-code] [--steps NAME] [--timeout-ms N]
//   (--steps NAME: the provider's pages are walked by
//   tests/e2e/browser-steps/NAME.js, as Dex's are)
//   (the password is read from the environment, APPROVE_PASSWORD, so it is
//   not on a command line that ps shows; APPROVE_NEW_PASSWORD answers a
//   Keycloak "Update password" required action)
//
// The pages, per provider:
//   op (default): the page of URL submits the code by itself and shows it
//     (#user_code), which must be the terminal's code; Continue; sign in
//     (#username, #password); the success page (#success).
//   keycloak: URL (verification_uri_complete) leads straight to the sign-in
//     page, which does not show the code; with --type-code the page of
//     verification_uri is opened instead and the code typed into it
//     (#device-user-code), as a person who did not scan the QR code does
//     (Keycloak checks it).  Sign in (#username, #password, #kc-login);
//     then whatever Keycloak asks: "Update password" (#password-new,
//     #password-confirm, #kc-submit) when a required action is pending,
//     the consent page ("Grant Access to CLIENT", Yes = #kc-login); the
//     end is "Device Login Successful" (#kc-page-title).
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
const provider = arg('provider', 'op');
const typeCode = process.argv.includes('--type-code');
const password = process.env.APPROVE_PASSWORD;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (password === undefined) fail('APPROVE_PASSWORD is not set');
if (provider !== 'op' && provider !== 'keycloak') fail('unknown --provider ' + provider);
if (url.protocol !== 'https:' || url.hostname !== '127.0.0.1') fail('not a loopback https URL: ' + url);
if (!fs.existsSync(executablePath)) fail(`${executablePath} not found (Debian package chromium)`);

// base64(SHA-256(SubjectPublicKeyInfo)) of the server certificate.
const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
const spki = crypto.createHash('sha256')
  .update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

class Failure extends Error {}
const check = (cond, why) => { if (!cond) throw new Failure(why); };

// oidc-provider (tests/op): see the header.
async function opFlow(page) {
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
}

// Keycloak's login theme: the page title, and the error it shows if any.
async function kcTitle(page) {
  const t = await page.$('#kc-page-title');
  return t ? (await t.textContent()).replace(/\s+/g, ' ').trim() : '';
}
async function kcError(page) {
  const e = await page.$('[id^="input-error"]:not([id^="input-error-container"]), .pf-v5-c-alert.pf-m-danger, .pf-v5-c-alert.pf-m-warning');
  return e ? (await e.textContent()).replace(/\s+/g, ' ').trim() : '';
}
async function kcSubmit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

// Keycloak: see the header.
async function keycloakFlow(page) {
  if (typeCode) {
    const plain = url.origin + url.pathname;
    const resp = await page.goto(plain);
    check(resp && resp.status() === 200, `GET ${plain}: ${resp && resp.status()}`);
    await page.waitForSelector('#device-user-code');
    console.log(`step: ${plain}: "${await kcTitle(page)}", the code ${code} typed in`);
    await page.fill('#device-user-code', code);
    await kcSubmit(page, '#kc-user-verify-device-user-code-form [type=submit]');
  } else {
    const resp = await page.goto(url.href);
    check(resp && resp.status() === 200, `GET ${url.href}: ${resp && resp.status()}`);
  }
  check(await page.$('#kc-form-login'), `no sign-in form at ${page.url()}: "${await kcTitle(page)}" ${await kcError(page)}`);
  console.log(`step: sign-in page ${page.url().replace(/\?.*/, '')}: "${await kcTitle(page)}"`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await kcSubmit(page, '#kc-login');
  for (let i = 0; i < 6; i++) {
    const title = await kcTitle(page);
    const where = page.url().replace(/\?.*/, '');
    if (await page.$('#kc-form-login')) throw new Failure(`sign-in refused: ${await kcError(page)}`);
    if (await page.$('#kc-passwd-update-form')) {
      const np = process.env.APPROVE_NEW_PASSWORD;
      check(np !== undefined, `Keycloak asks "${title}" and APPROVE_NEW_PASSWORD is not set`);
      console.log(`step: required action: "${title}" (${where}): a new password`);
      await page.fill('#password-new', np);
      await page.fill('#password-confirm', np);
      await kcSubmit(page, '#kc-submit');
      continue;
    }
    if (await page.$('form[action*="/login-actions/consent"]')) {
      console.log(`step: consent page: "${title}": Yes`);
      await kcSubmit(page, '#kc-login');
      continue;
    }
    check(title === 'Device Login Successful',
      `unexpected page ${where}: "${title}" ${await kcError(page)}`);
    console.log(`step: ${where}: "${title}"`);
    return;
  }
  throw new Failure('no end after 6 pages');
}

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
    await (provider === 'keycloak' ? keycloakFlow : opFlow)(page);
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
