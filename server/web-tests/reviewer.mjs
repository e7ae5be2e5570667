// The reviewer page in headless Chromium against a live punch-server:
//   1. a manager of team A signs in with password + TOTP, sees only team A's
//      queue, and is denied team B's page;
//   2. an HR admin signs in, opens a flagged punch (fence, fix and accuracy
//      circle drawn to scale, the photo taken at it beside them), approves it with a comment, rejects another
//      (its server review flag shown as a sentence),
//      approves a make-up request, and finds all three in the verified audit trail;
//   3. HR's staff page: revokes the manager's sessions (the manager's open
//      page asks to sign in again), disables the manager (sign-in refused),
//      unlocks an account someone locked (its owner signs in), resets a
//      password and an authenticator, and revokes one leaked API token;
//      approves one more device, revokes an employee's passkey, and reads
//      the forgotten clock-out queue in English and in Chinese;
//   4. the punch page on a phone-sized screen.
// Input: PUNCH_WEB (JSON from server/tests/web_e2e.rs). Screenshots: PUNCH_SHOTS.
// Exit status non-zero on any failed expectation.
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.env.PUNCH_WEB);
const shots = process.env.PUNCH_SHOTS || 'target/web-screens';
mkdirSync(shots, { recursive: true });

function expect(cond, what) {
  if (!cond) throw new Error('expected: ' + what);
}

// RFC 6238 (SHA-1, 6 digits, 30 s) from the base32 secret, as an authenticator app does.
function totp(base32, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

// `ahead`: a code of the next time step, for a second sign-in within the
// step of the first (a code is accepted once).
async function fillSignIn(page, who, ahead = 0) {
  await page.goto(cfg.base_url + '/admin/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByLabel('Code from your authenticator app').fill(totp(who.totp_secret, Date.now() + ahead));
}

async function signIn(page, who, ahead = 0) {
  await fillSignIn(page, who, ahead);
  await page.screenshot({ path: `${shots}/${who.username}-01-sign-in.png` });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${who.username}.`).waitFor();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Refused API calls (401 before sign-in, the 403s this test provokes)
  // show as failed loads; anything else on the console is a page bug.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });

  // --- 1. the manager: own team only, denied the other team's page
  const mgr = cfg.manager;
  await signIn(page, mgr);
  await page.getByRole('heading', { name: 'Review queue' }).waitFor();
  const queueText = await page.locator('#view').innerText();
  expect(queueText.includes(cfg.team_a_employee), 'team A punch in the manager queue');
  expect(!queueText.includes(cfg.team_b_employee), 'no team B punch in the manager queue');
  await page.screenshot({ path: `${shots}/02-manager-queue.png` });
  await page.goto(cfg.base_url + '/admin/#/queue?team=' + encodeURIComponent(cfg.team_b));
  await page.getByRole('alert').getByText('Access denied: that belongs to another team than yours.').waitFor();
  expect(!(await page.locator('#view').innerText()).includes(cfg.team_b_employee), 'no team B data shown');
  await page.screenshot({ path: `${shots}/03-manager-denied-other-team.png` });
  // Nor the other team's punch by its address.
  await page.goto(cfg.base_url + `/admin/#/punch/${encodeURIComponent(cfg.team_b_device)}/1`);
  await page.getByRole('alert').getByText('Access denied').waitFor();
  await signOut(page);

  // --- 2. HR: review a flagged punch, drawn to scale; approve and reject
  const hr = cfg.hr;
  await signIn(page, hr);
  await page.getByRole('heading', { name: 'Review queue' }).waitFor();
  const rows = page.locator('#view tbody tr');
  expect((await rows.count()) === 2, 'two flagged punches in the HR queue');
  await page.locator('#view tbody tr', { hasText: cfg.team_b_employee }).getByRole('link').click();
  await page.getByRole('heading', { name: /^Punch 1 of / }).waitFor();
  const svg = page.locator('svg.fence');
  await svg.waitFor();
  expect((await svg.locator('polygon.site').count()) === 1, 'the polygon fence');
  expect((await svg.locator('polygon.hole').count()) === 1, 'its hole');
  expect((await svg.locator('circle.acc').count()) === 1, 'the accuracy circle');
  const acc = await svg.locator('circle.acc').getAttribute('r');
  expect(Math.abs(Number(acc) - cfg.team_b_accuracy_m) < 0.01, `accuracy radius ${acc} m`);
  expect((await svg.locator('title').textContent()).includes('accuracy'), 'an accessible title');
  // The photo taken at the punch (a step-up), beside the fence drawing.
  await page.waitForFunction(() => {
    const i = document.querySelector('img.punch-photo');
    return i && i.complete && i.naturalWidth > 0;
  });
  expect((await page.locator('#punch-photo figcaption').innerText()).includes('biometric check before the punch: passed'), 'the biometric result');
  expect((await page.locator('.beside svg.fence').count()) === 1, 'the photo beside the fence drawing');
  await page.locator('#punch-photo').screenshot({ path: `${shots}/04b-hr-punch-photo.png` });
  await page.screenshot({ path: `${shots}/04-hr-punch-polygon-with-hole.png`, fullPage: true });
  await page.getByLabel('Comment (required to reject)').fill('on site, GPS drift near the courtyard');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Punch approved.').waitFor();
  await page.getByRole('heading', { name: 'Review queue' }).waitFor();
  expect((await rows.count()) === 1, 'one punch left to review');
  await page.screenshot({ path: `${shots}/05-hr-queue-after-approve.png` });

  // The other one (team A, circle fence): reject, keyboard only.
  await page.locator('#view tbody tr').getByRole('link').focus();
  await page.keyboard.press('Enter');
  await page.locator('svg.fence circle.site').waitFor();
  // Its server review flag reads as a sentence, not as JSON.
  const flagText = await page.locator('#review-flags').innerText();
  expect(flagText.trim() === cfg.team_a_flag_text, `the review flag as a sentence: ${flagText}`);
  expect(!flagText.includes('{'), 'no raw JSON');
  await page.screenshot({ path: `${shots}/06-hr-punch-circle.png`, fullPage: true });
  await page.getByLabel('Comment (required to reject)').fill('not at the office');
  await page.getByRole('button', { name: 'Reject' }).focus();
  await page.keyboard.press('Enter');
  await page.getByText('Punch rejected.').waitFor();
  await page.getByText('Nothing to review.').waitFor();

  // A make-up request (a forgotten clock-out): approve it with a comment.
  await page.getByRole('link', { name: 'Requests' }).click();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  const requestsText = await page.locator('#view').innerText();
  expect(requestsText.includes('forgot to clock out'), 'the request and its reason');
  expect(requestsText.includes('Cites fault: location_unavailable') && requestsText.includes('no GPS in the car park'),
    'the fault the request cites, beside it');
  await page.screenshot({ path: `${shots}/07a-hr-requests.png`, fullPage: true });

  // Fault reports: what the phones reported, by team.
  await page.getByRole('link', { name: 'Faults' }).click();
  await page.getByRole('heading', { name: 'Faults' }).waitFor();
  const faultsText = await page.locator('#view').innerText();
  expect(faultsText.includes('no GPS in the car park') && faultsText.includes('No silent terminals.'), 'the fault reports');
  await page.screenshot({ path: `${shots}/07b-hr-faults.png`, fullPage: true });
  await page.getByRole('link', { name: 'Requests' }).click();
  await page.getByRole('heading', { name: 'Requests' }).waitFor();
  await page.getByLabel(`Comment for ${cfg.team_a_employee}'s request`).fill('seen on the gate log');
  await page.getByRole('button', { name: 'Approve request' }).click();
  await page.getByText('Request approved.').waitFor();
  await page.getByText('No pending requests.').waitFor();

  // The audit trail holds the decisions, and the chain verifies.
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  const audit = await page.locator('#view').innerText();
  expect(/Chain verified: \d+ records/.test(audit), 'a verified chain');
  expect(audit.includes('punch.approve') && audit.includes('punch.reject'), 'both decisions audited');
  expect(audit.includes('request.approve'), 'the request decision audited');
  expect(audit.includes('on site, GPS drift near the courtyard'), 'the comment audited');
  await page.screenshot({ path: `${shots}/07-hr-audit.png`, fullPage: true });

  // --- 3. HR's staff page: revoke, disable, unlock
  const mgrContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const mgrPage = await mgrContext.newPage();
  await signIn(mgrPage, mgr, 30_000);
  await mgrPage.getByRole('heading', { name: 'Review queue' }).waitFor();
  page.on('dialog', (d) => d.accept(d.message().includes('one-time password') ? 'a new one-time passphrase'
    : d.message().includes('locked.one') ? 'locked by someone else; checked with them' : 'security check'));
  await page.getByRole('link', { name: 'Staff' }).click();
  await page.getByRole('heading', { name: 'Staff' }).waitFor();
  const lockedRow = page.locator('tr[data-username="locked.one"] td.state');
  expect((await lockedRow.innerText()).includes('locked until'), 'the locked account shown locked');
  await page.screenshot({ path: `${shots}/08a-hr-staff.png`, fullPage: true });
  await page.getByRole('button', { name: `Revoke sessions of ${mgr.username}` }).click();
  await page.getByText(`Sessions and tokens of ${mgr.username} revoked.`).waitFor();
  // The manager's open page: the next call finds the session gone.
  await mgrPage.getByRole('link', { name: 'Punches' }).click();
  await mgrPage.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('button', { name: `Disable ${mgr.username}` }).click();
  await page.getByText(`${mgr.username} disabled.`).waitFor();
  expect((await page.locator(`tr[data-username="${mgr.username}"] td.state`).innerText()).includes('disabled'), 'shown disabled');
  await fillSignIn(mgrPage, mgr, 30_000);
  await mgrPage.getByRole('button', { name: 'Sign in' }).click();
  await mgrPage.getByRole('alert').getByText('Sign-in failed').waitFor();
  await mgrContext.close();
  await page.getByRole('button', { name: 'Unlock locked.one' }).click();
  await page.getByText('locked.one unlocked.').waitFor();
  expect(!(await lockedRow.innerText()).includes('locked until'), 'no longer locked');
  // A forgotten password and a lost phone: both reset; one leaked API token revoked alone.
  await page.getByRole('button', { name: `Reset password of ${cfg.forgetful}` }).click();
  await page.getByText(`Password of ${cfg.forgetful} reset.`).waitFor();
  await page.getByRole('button', { name: `Reset authenticator of ${cfg.forgetful}` }).click();
  await page.getByText(`${cfg.forgetful} enrols a new authenticator at the next sign-in.`).waitFor();
  expect((await page.locator(`tr[data-username="${cfg.forgetful}"] td.state`).innerText()).includes('authenticator not enrolled'),
    'shown waiting for enrolment');
  await page.getByRole('button', { name: `Revoke token ${cfg.token_id}` }).click();
  await page.getByText(`Token ${cfg.token_id} revoked.`).waitFor();
  expect((await page.locator(`tr[data-token="${cfg.token_id}"] td.state`).innerText()).includes('revoked'), 'shown revoked');
  await page.screenshot({ path: `${shots}/08b-hr-staff-after.png`, fullPage: true });
  const ownerContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await signIn(await ownerContext.newPage(), cfg.locked);
  await ownerContext.close();

  // --- 3b. Devices: HR approves one more device than max_devices (single-use,
  // listed in the employee's device slots)
  await page.getByRole('link', { name: 'Devices' }).click();
  await page.getByRole('button', { name: 'Approve one more device' }).first().waitFor();
  await page.getByRole('button', { name: 'Approve one more device' }).first().click();
  await page.getByText(/One more device approved\. .* 1 unused approval/).waitFor();
  await page.getByRole('button', { name: 'Device slots' }).first().click();
  await page.getByText(/bound; 1 unused approval\(s\) for one more device/).waitFor();
  await page.screenshot({ path: `${shots}/08c-hr-device-slots.png`, fullPage: true });

  // --- 3c. Passkeys: HR revokes Ann's (a lost laptop) from the devices page
  await page.getByRole('button', { name: `Passkeys of ${cfg.team_a_employee}` }).first().click();
  await page.locator('#passkey-list').waitFor();
  await page.getByRole('button', { name: `Revoke passkey ${cfg.passkey_device}` }).click();
  await page.getByText(`Passkey ${cfg.passkey_device} revoked.`).waitFor();
  expect((await page.locator(`#passkey-list tr[data-device="${cfg.passkey_device}"] td.state`).innerText()).includes('revoked'),
    'the passkey shown revoked');
  expect((await page.getByRole('button', { name: `Revoke passkey ${cfg.passkey_device}` }).count()) === 0, 'nothing left to revoke');
  await page.screenshot({ path: `${shots}/08d-hr-passkey-revoked.png`, fullPage: true });

  // --- 3d. The forgotten clock-out queue, in English, then in Chinese
  await page.getByRole('link', { name: 'Forgotten clock-outs' }).click();
  await page.getByRole('heading', { name: 'Forgotten clock-outs' }).waitFor();
  const forgottenEn = await page.locator('#forgotten').innerText();
  expect(forgottenEn.includes(cfg.team_a_employee) && forgottenEn.includes('Flagged: no clock-out'), 'the flagged one');
  expect(forgottenEn.includes('Closed by the server at the shift end') && forgottenEn.includes('server-made clock-out (not a punch)'),
    'the one the server closed, marked server-made');
  await page.screenshot({ path: `${shots}/08e-hr-forgotten-en.png`, fullPage: true });
  const zhContext = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: 'zh-CN', storageState: await context.storageState() });
  const zhPage = await zhContext.newPage();
  zhPage.on('pageerror', (e) => errors.push(String(e)));
  await zhPage.goto(cfg.base_url + '/admin/#/forgotten');
  await zhPage.getByRole('heading', { name: '未打下班卡' }).waitFor();
  const forgottenZh = await zhPage.locator('#forgotten').innerText();
  expect(forgottenZh.includes('已标记：未打下班卡') && forgottenZh.includes('系统已按班次结束时间自动签退'), 'the queue in Chinese');
  expect(forgottenZh.includes('员工') && forgottenZh.includes('补卡申请'), 'the headings in Chinese');
  expect((await zhPage.getByRole('link', { name: '未打下班卡' }).count()) === 1, 'the nav link in Chinese');
  await zhPage.screenshot({ path: `${shots}/08f-hr-forgotten-zh.png`, fullPage: true });
  await zhContext.close();

  // --- 4. a phone-sized screen
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(cfg.base_url + `/admin/#/punch/${encodeURIComponent(cfg.team_b_device)}/1`);
  await page.locator('svg.fence').waitFor();
  await page.screenshot({ path: `${shots}/09-phone-punch.png`, fullPage: true });
  expect(errors.length === 0, 'no script errors: ' + errors.join('; '));
  console.log(JSON.stringify({ ok: true, screenshots: shots }));
} finally {
  await browser.close();
}
