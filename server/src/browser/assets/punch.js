// The employee's punch page: register a passkey once with an enrollment
// code, then punch. Each punch asks the server for a challenge committing
// to its content (kind, time, location) and signs it with the passkey.
// Plain DOM, no third-party code; every server value is set as text.
'use strict';

const $ = (id) => document.getElementById(id);
const zh = /^zh(?!-(hant|tw|hk|mo))/i.test(navigator.language || '');
const TEXT = {
  title: ['Punch from this computer', '在此电脑上打卡'],
  register_title: ['Register this computer', '登记此电脑'],
  register_help: ['Enter the enrollment code HR gave you. Your computer creates a passkey (fingerprint, face, PIN or security key) that signs every punch.',
    '请输入人事部门提供的登记码。电脑会创建一个通行密钥（指纹、面容、PIN 或安全密钥），每次打卡都由它签名。'],
  code: ['Enrollment code', '登记码'],
  register: ['Create passkey', '创建通行密钥'],
  punch_title: ['Punch', '打卡'],
  use_location: ['Share my location with this punch', '打卡时提供我的位置'],
  clock_in: ['Clock in', '上班打卡'],
  clock_out: ['Clock out', '下班打卡'],
  forget: ["Forget this computer's registration", '清除此电脑的登记'],
  registered: ['Registered as {who}.', '已登记为 {who}。'],
  signed_in_as: ['Employee {who} · passkey {device}', '员工 {who} · 通行密钥 {device}'],
  working: ['Waiting for your passkey…', '正在等待通行密钥…'],
  accepted: ['Accepted', '打卡成功'],
  review: ['Recorded for review', '已记录，待审核'],
  rejected: ['Refused', '打卡被拒绝'],
  no_webauthn: ['This browser cannot use passkeys.', '此浏览器不支持通行密钥。'],
};
function t(key, args) {
  let s = (TEXT[key] || [key, key])[zh ? 1 : 0];
  for (const [k, v] of Object.entries(args || {})) s = s.replace('{' + k + '}', v);
  return s;
}

const b64url = {
  decode(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  },
  encode(buf) {
    let s = '';
    for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
};

// A credential as the server reads it: its binary `fields` in base64url.
function asJSON(cred, fields) {
  const response = {};
  for (const f of fields) response[f] = cred.response[f] ? b64url.encode(cred.response[f]) : null;
  return { id: cred.id, rawId: b64url.encode(cred.rawId), type: cred.type, response, extensions: {} };
}

function say(text) { $('status').textContent = text; }
function fail(text) { $('alert').textContent = text; }

async function post(path, body) {
  const resp = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-language': navigator.language || 'en' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.message || ('HTTP ' + resp.status));
  return data;
}

const saved = () => JSON.parse(localStorage.getItem('punch.passkey') || 'null');

function show() {
  const me = saved();
  $('register').hidden = !!me;
  $('punch').hidden = !me;
  $('who').textContent = me ? t('signed_in_as', { who: me.employee_id, device: me.device_id }) : '';
}

async function register(event) {
  event.preventDefault();
  fail(''); say('');
  try {
    const { ceremony, employee_id, options } = await post('/browser/v1/register/options', { code: $('code').value });
    const pk = options.publicKey;
    pk.challenge = b64url.decode(pk.challenge);
    pk.user.id = b64url.decode(pk.user.id);
    pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));
    say(t('working'));
    const cred = await navigator.credentials.create({ publicKey: pk });
    const done = await post('/browser/v1/register', {
      ceremony,
      credential: asJSON(cred, ['attestationObject', 'clientDataJSON']),
    });
    localStorage.setItem('punch.passkey', JSON.stringify({ employee_id: done.employee_id || employee_id, device_id: done.device_id }));
    say(t('registered', { who: done.employee_id }));
    show();
  } catch (e) {
    say('');
    fail(String(e.message || e));
  }
}

function currentFix() {
  if (!$('use-location').checked || !navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => navigator.geolocation.getCurrentPosition(
    (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy, fix_time_ms: Math.round(p.timestamp) }),
    () => resolve(null),
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 0 }));
}

async function punch(kind) {
  const me = saved();
  fail(''); say(''); $('result').textContent = '';
  try {
    const now = Date.now();
    const { ceremony, options } = await post('/browser/v1/punch/options', {
      employee_id: me.employee_id,
      device_id: me.device_id,
      kind,
      client_time_ms: now,
      utc_offset_min: -new Date(now).getTimezoneOffset(),
      location: await currentFix(),
    });
    const pk = options.publicKey;
    pk.challenge = b64url.decode(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));
    say(t('working'));
    const a = await navigator.credentials.get({ publicKey: pk });
    const out = await post('/browser/v1/punch', {
      ceremony,
      credential: asJSON(a, ['authenticatorData', 'clientDataJSON', 'signature', 'userHandle']),
    });
    say('');
    const head = document.createElement('p');
    head.className = out.decision;
    head.id = 'decision';
    head.textContent = t(out.decision);
    const list = document.createElement('ul');
    list.id = 'reasons';
    for (const m of out.messages) {
      const li = document.createElement('li');
      li.textContent = m.text;
      list.append(li);
    }
    for (const r of out.reasons) {
      const li = document.createElement('li');
      li.className = 'detail';
      li.textContent = r;
      list.append(li);
    }
    $('result').replaceChildren(head, list);
  } catch (e) {
    say('');
    fail(String(e.message || e));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.documentElement.lang = zh ? 'zh-CN' : 'en';
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  if (!window.PublicKeyCredential) fail(t('no_webauthn'));
  $('register-form').addEventListener('submit', register);
  for (const b of document.querySelectorAll('button[data-kind]')) b.addEventListener('click', () => punch(b.dataset.kind));
  $('forget').addEventListener('click', () => { localStorage.removeItem('punch.passkey'); show(); });
  show();
});
