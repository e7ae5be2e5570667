// The employee's punch page in headless Chromium with a virtual
// authenticator (the DevTools protocol's WebAuthn domain), against a live
// punch-server behind a "proxy" (the test sets X-Forwarded-For, which the
// server trusts from 127.0.0.1):
//   1. register a passkey with an enrollment code;
//   2. clock in from the office's address with a fix inside the fence (accepted);
//   3. from elsewhere, with a fix far away (refused, with reasons);
//   4. the accepted punch's request sent again (a replay: refused);
//   5. an assertion altered in transit (refused);
//   6. from a site that takes phone punches only (refused: terminal);
//   7. the page in Chinese.
// Input: PUNCH_WEB (JSON from server/tests/web_browser_punch.rs).
// Screenshots: PUNCH_SHOTS. Exit status non-zero on any failed expectation.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.env.PUNCH_WEB);
const shots = process.env.PUNCH_SHOTS || 'target/web-screens';
mkdirSync(shots, { recursive: true });

function expect(cond, what) {
  if (!cond) throw new Error('expected: ' + what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const result = {};
let page = null;
try {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.grantPermissions(['geolocation'], { origin: cfg.base_url });
  page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const from = async (ip, fix) => {
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': ip });
    await context.setGeolocation(fix);
  };
  await from(cfg.office_ip, cfg.inside);
  // Presses `button`, waits for the `decision`, keeps a screenshot; the result's text.
  const punch = async (button, decision, shot) => {
    await page.getByRole('button', { name: button }).click();
    await page.locator(`#decision.${decision}`).waitFor();
    await page.screenshot({ path: `${shots}/${shot}.png` });
    return page.locator('#result').innerText();
  };

  // 1. Register.
  await page.goto(cfg.base_url + '/punch/');
  await page.getByRole('heading', { name: 'Register this computer' }).waitFor();
  await page.getByLabel('Enrollment code').fill(cfg.code);
  await page.screenshot({ path: `${shots}/browser-01-register.png` });
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.getByText(`Registered as ${cfg.employee}.`).waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials.length === 1, 'one passkey in the virtual authenticator');
  result.registered = true;

  // 2. Clock in at the office: accepted. The request is kept for step 4.
  let lastPunch = null;
  page.on('request', (r) => { if (r.url().endsWith('/browser/v1/punch')) lastPunch = r.postData(); });
  const accepted = await punch('Clock in', 'accepted', 'browser-02-accepted');
  expect(accepted.includes('Punch accepted at hq'), 'accepted at hq: ' + accepted);
  result.accepted = true;

  // 3. Elsewhere, with a fix 3 km away: refused, with reasons.
  await from(cfg.elsewhere_ip, cfg.outside);
  const refused = await punch('Clock out', 'rejected', 'browser-03-refused-elsewhere');
  expect(refused.includes('not at any of your sites'), 'refused with reasons: ' + refused);
  expect(refused.includes('nearest'), 'the nearest site named: ' + refused);
  result.refused_elsewhere = true;

  // 4. The accepted punch's request again: its challenge is used up.
  expect(lastPunch, 'a punch request was seen');
  const replay = await page.evaluate(async (body) => {
    const r = await fetch('/browser/v1/punch', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: r.status, body: await r.json() };
  }, lastPunch);
  expect(replay.status === 403, 'replay refused: ' + JSON.stringify(replay));
  result.replay_status = replay.status;

  // 5. An assertion altered on its way to the server.
  await from(cfg.office_ip, cfg.inside);
  await page.route('**/browser/v1/punch', async (route) => {
    const body = JSON.parse(route.request().postData());
    const sig = body.credential.response.signature;
    const flipped = sig.slice(0, -2) + (sig.slice(-2, -1) === 'A' ? 'B' : 'A') + sig.slice(-1);
    body.credential.response.signature = flipped;
    await route.continue({ postData: JSON.stringify(body) });
  });
  await page.getByRole('button', { name: 'Clock out' }).click();
  await page.locator('#alert').filter({ hasText: 'does not verify' }).waitFor();
  await page.screenshot({ path: `${shots}/browser-04-altered.png` });
  await page.unroute('**/browser/v1/punch');
  result.altered_refused = true;

  // 6. From the lab, which takes phone punches only.
  await from(cfg.lab_ip, cfg.at_lab);
  const lab = await punch('Clock out', 'rejected', 'browser-05-terminal-refused');
  expect(lab.includes('does not accept browser'), 'the lab refuses browser punches: ' + lab);
  expect(lab.includes('does not accept punches from this terminal'), 'in words: ' + lab);
  result.terminal_refused = true;

  // 7. The page in Chinese (its own texts; server messages follow Accept-Language).
  const zh = await browser.newContext({ locale: 'zh-CN' });
  const zhPage = await zh.newPage();
  await zhPage.goto(cfg.base_url + '/punch/');
  await zhPage.getByRole('heading', { name: '登记此电脑' }).waitFor();
  await zhPage.screenshot({ path: `${shots}/browser-06-zh.png` });
  await zh.close();
  result.zh = true;

  result.ok = true;
} catch (e) {
  // What the page said when an expectation failed.
  if (page) {
    await page.screenshot({ path: `${shots}/browser-failure.png` }).catch(() => {});
    const said = await page.evaluate(() => document.body.innerText).catch(() => '');
    console.error('page:', said, '\nsteps done:', JSON.stringify(result));
  }
  throw e;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
