// dex.js - Dex's own device sign-in pages, as a person walks them
// (tests/e2e/approve-browser.js --steps dex; Dex's web/templates):
//   /dex/device?user_code=CODE   "Enter User Code", the code filled in
//   -> Submit -> /dex/auth/local/login   "Log in to Your Account"
//      (email address and password of the local password database)
//   -> Login -> /dex/approval   "Grant Access" (skipApprovalScreen: false)
//   -> Grant Access -> /dex/device/callback   "Login Successful for CLIENT"
// A wrong password stays on the login page with #login-error: reported.
'use strict';

exports.approve = async ({ page, url, code, username, password, check, log }) => {
  const resp = await page.goto(url.href);
  check(resp && resp.status() === 200, `GET ${url.href}: ${resp && resp.status()}`);
  await page.waitForSelector('input#user_code');
  const shown = (await page.inputValue('input#user_code')).trim();
  log(`code page (${page.url()}) holds the code ${shown}`);
  check(shown === code, `the page holds ${shown}, the terminal showed ${code}`);
  await Promise.all([page.waitForSelector('input#login'), page.click('#submit-login')]);
  log(`Submit -> login page ${page.url()}`);

  await page.fill('input#login', username);
  await page.fill('input#password', password);
  await Promise.all([page.waitForSelector('h2:has-text("Grant Access"), #login-error'),
    page.click('#submit-login')]);
  const error = await page.$('#login-error');
  check(!error, 'Dex said: ' + (error && (await error.textContent()).trim()));
  log(`Login -> approval page ${page.url()}`);

  await Promise.all([page.waitForSelector('h2:has-text("Login Successful")'),
    page.click('button.theme-btn--success')]);
  const done = (await page.textContent('h2')).trim();
  log(`Grant Access -> ${page.url()}: ${done}`);
};
