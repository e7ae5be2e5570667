// The reviewer page: plain DOM, no framework, no third-party code. Every
// value from the server is set as text (never as HTML).
'use strict';

const state = { me: null, flash: null, enrolSecret: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return e;
}

function say(text) { $('status').textContent = text; }
function fail(text) { $('alert').textContent = text; }
function clearMessages() { say(''); fail(''); }

class ApiError extends Error {
  constructor(status, body) { super(body.message || ('HTTP ' + status)); this.status = status; this.code = body.error; this.body = body; }
}

async function api(method, path, body) {
  const headers = { 'accept': 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && state.me && state.me.csrf_token) headers['x-csrf-token'] = state.me.csrf_token;
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

function can(p) { return state.me && state.me.permissions.includes(p); }
function time(ms) { return ms == null ? '' : new Date(ms).toLocaleString(); }

function show(section) {
  $('signin').hidden = section !== 'signin';
  $('view').hidden = section !== 'view';
  $('nav').hidden = !state.me;
}

function explain(err) {
  if (err.code === 'not_your_team') return 'Access denied: that belongs to another team than yours.';
  if (err.code === 'forbidden') return 'Access denied: ' + err.message + '.';
  if (err.code === 'unauthenticated') { state.me = null; route(); return 'Please sign in.'; }
  return err.message;
}

function params() {
  const q = location.hash.split('?')[1] || '';
  return new URLSearchParams(q);
}

function view(title, ...content) {
  const v = $('view');
  v.replaceChildren(el('h2', { id: 'view-title' }, title), ...content);
  show('view');
  $('main').focus();
}

// --- the fence drawing: local metres, north up, to scale -------------------
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function drawing(d) {
  const pts = [];
  if (d.fence.kind === 'circle') {
    const c = d.fence.center, r = d.fence.radius_m;
    pts.push([c.x - r, c.y - r], [c.x + r, c.y + r]);
  } else {
    d.fence.exterior.forEach((p) => pts.push([p.x, p.y]));
  }
  if (d.fix) {
    const a = d.accuracy_m || 0;
    pts.push([d.fix.x - a, d.fix.y - a], [d.fix.x + a, d.fix.y + a]);
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const pad = Math.max(maxX - minX, maxY - minY, 20) * 0.1;
  minX -= pad; maxX += pad; minY -= pad; maxY += pad;
  const w = maxX - minX, h = maxY - minY;
  // SVG y grows downwards; north is up: y' = maxY - y.
  const X = (x) => (x - minX).toFixed(2), Y = (y) => (maxY - y).toFixed(2);
  const s = svg('svg', { class: 'fence', viewBox: `0 0 ${w.toFixed(2)} ${h.toFixed(2)}`, role: 'img', 'aria-labelledby': 'fence-title' });
  const t = svg('title', { id: 'fence-title' });
  t.textContent = `Site ${d.site_name || d.site_id}` + (d.fix ? `, fix with ${Math.round(d.accuracy_m)} m accuracy` : ', no fix');
  s.append(t);
  const stroke = (w / 200).toFixed(2);
  if (d.fence.kind === 'circle') {
    s.append(svg('circle', { class: 'site', cx: X(d.fence.center.x), cy: Y(d.fence.center.y), r: d.fence.radius_m, 'stroke-width': stroke }));
  } else {
    const ring = (r) => r.map((p) => `${X(p.x)},${Y(p.y)}`).join(' ');
    s.append(svg('polygon', { class: 'site', points: ring(d.fence.exterior), 'stroke-width': stroke }));
    d.fence.holes.forEach((hole) => s.append(svg('polygon', { class: 'hole', points: ring(hole), 'stroke-width': stroke })));
  }
  if (d.fix) {
    s.append(svg('circle', { class: 'acc', cx: X(d.fix.x), cy: Y(d.fix.y), r: d.accuracy_m, 'stroke-width': stroke }));
    s.append(svg('circle', { class: 'fix', cx: X(d.fix.x), cy: Y(d.fix.y), r: (w / 80).toFixed(2) }));
  }
  // A scale bar: a round number of metres about a fifth of the width.
  const raw = w / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const bar = [1, 2, 5, 10].map((m) => m * mag).filter((m) => m <= raw).pop() || mag;
  s.append(svg('line', { x1: (w * 0.05).toFixed(2), y1: (h * 0.95).toFixed(2), x2: (w * 0.05 + bar).toFixed(2), y2: (h * 0.95).toFixed(2), stroke: '#111', 'stroke-width': (w / 100).toFixed(2) }));
  const label = svg('text', { x: (w * 0.05).toFixed(2), y: (h * 0.9).toFixed(2), 'font-size': (w / 20).toFixed(2) });
  label.textContent = `${bar} m`;
  s.append(label);
  return s;
}

// --- views ----------------------------------------------------------------
// The server's review flags as sentences (rendered by the server in the
// browser's language); a flag code where a server sent no text.
function reviewTexts(p) {
  const texts = p.review_messages || [];
  return p.review_flags.map((f, i) => (texts[i] && texts[i].text) || f.flag);
}

function punchTable(items) {
  return el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Employee'), el('th', {}, 'Kind'), el('th', {}, 'Decision'), el('th', {}, 'Flags'), el('th', {}, 'Review'))),
    el('tbody', {}, items.map((p) => el('tr', {},
      el('td', {}, el('a', { href: `#/punch/${encodeURIComponent(p.device_id)}/${p.seq}` }, time(p.at_ms))),
      el('td', {}, p.employee_id),
      el('td', {}, p.kind),
      el('td', {}, p.decision),
      el('td', { title: reviewTexts(p).join('\n') }, p.review_flags.map((f) => f.flag).join(', ')),
      el('td', {}, p.review ? p.review.verdict : (p.needs_review ? 'needed' : ''))))));
}

async function queue(extra) {
  const q = params();
  const team = q.get('team');
  const path = '/admin/v1/punches?needs_review=true' + (team ? '&team=' + encodeURIComponent(team) : '') + (extra || '');
  const page = await api('GET', path);
  view(team ? `Review queue: team ${team}` : 'Review queue',
    page.items.length ? punchTable(page.items) : el('p', {}, 'Nothing to review.'),
    el('p', { class: 'muted' }, pageCount(page)));
}

// A page of punches has no total (the server reads only the page).
function pageCount(page) {
  return `${page.items.length} punch(es)` + (page.next_cursor ? ', more older ones' : '');
}

async function punches() {
  const page = await api('GET', '/admin/v1/punches?limit=100');
  view('Punches', punchTable(page.items), el('p', { class: 'muted' }, pageCount(page)));
}

// The photo the signed record names: the image once it arrived, else why not.
function photo(ph, biometric) {
  const said = biometric == null ? 'not reported' : (biometric ? 'passed' : 'failed');
  const img = ph.received
    ? el('img', { src: ph.url, class: 'punch-photo', alt: 'Photo taken at the punch' })
    : el('p', { class: 'muted' }, 'The photo has not arrived, or was removed (erasure or retention); the record keeps its hash.');
  return el('figure', { id: 'punch-photo' },
    el('h3', {}, 'Photo at the punch'), img,
    el('figcaption', { class: 'muted' },
      `${ph.media_type}, ${ph.size_bytes} bytes, SHA-256 ${ph.sha256.slice(0, 16)}…; biometric check before the punch: ${said}`));
}

async function punch(device, seq) {
  const d = await api('GET', `/admin/v1/punches/${encodeURIComponent(device)}/${seq}`);
  const p = d.punch;
  const parts = [
    el('dl', {},
      el('dt', {}, 'Employee'), el('dd', {}, `${p.employee_id}${p.team ? ' (team ' + p.team + ')' : ''}`),
      el('dt', {}, 'When (server time)'), el('dd', {}, `${time(p.at_ms)} — ${p.time_status}`),
      el('dt', {}, 'Kind'), el('dd', {}, p.kind),
      el('dt', {}, 'Device decision'), el('dd', {}, `${p.decision}${p.site_id ? ' at ' + p.site_id : ''}`),
      el('dt', {}, 'Assurance'), el('dd', {}, p.assurance)),
    el('h3', {}, 'Reasons'),
    el('ul', {}, (d.reasons.length ? d.reasons : ['(none)']).map((r) => el('li', {}, r))),
    el('h3', {}, 'Server review flags'),
    el('ul', { id: 'review-flags' }, (p.review_flags.length ? reviewTexts(p) : ['(none)']).map((r) => el('li', {}, r))),
  ];
  // The fence drawing and the photo taken at the punch, side by side.
  const beside = [];
  if (d.drawing) beside.push(el('div', {}, el('h3', {}, 'Fence and fix (metres, north up)'), drawing(d.drawing)));
  if (d.photo) beside.push(photo(d.photo, d.biometric_verified));
  if (beside.length) parts.push(el('div', { class: 'beside' }, ...beside));
  if (p.review) parts.push(el('p', {}, `Reviewed: ${p.review.verdict} by ${p.review.reviewer} — ${p.review.comment}`));
  if (can('review_punches')) {
    const comment = el('textarea', { id: 'comment', rows: 3 });
    const decide = (verdict) => async () => {
      clearMessages();
      try {
        await api('POST', `/admin/v1/punches/${encodeURIComponent(device)}/${seq}/review`, { verdict, comment: comment.value });
        state.flash = `Punch ${verdict === 'approve' ? 'approved' : 'rejected'}.`;
        location.hash = '#/queue';
      } catch (e) { fail(explain(e)); }
    };
    parts.push(el('h3', {}, 'Decision'),
      el('label', { for: 'comment' }, 'Comment (required to reject)'), comment,
      el('div', {},
        el('button', { type: 'button', class: 'primary', id: 'approve', on: { click: decide('approve') } }, 'Approve'), ' ',
        el('button', { type: 'button', class: 'danger', id: 'reject', on: { click: decide('reject') } }, 'Reject')));
  }
  view(`Punch ${p.seq} of ${p.device_id}`, ...parts);
}

async function requestsView() {
  const page = await api('GET', '/admin/v1/requests?status=pending&limit=200');
  const describe = (r) => {
    // The event as signed: {"type": "make_up_request", ...its fields}.
    const m = r.request || {};
    if (m.type === 'make_up_request') {
      return `make-up ${m.kind} at ${time(m.intended_time_ms)}: ${m.reason}` +
        (m.attachments && m.attachments.length ? ` (${m.attachments.length} file(s))` : '');
    }
    if (m.type === 'field_work_request') return `field work: ${m.reason || ''}`;
    return r.event_type;
  };
  // The fault a make-up request cites, shown beside it (faultText below).
  const cited = (r) => r.cited_fault ? el('p', { class: 'cited-fault' }, 'Cites fault: ', faultText(r.cited_fault)) : '';
  view('Requests', page.items.length ? el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Employee'), el('th', {}, 'Request'), el('th', {}, 'Filed'), el('th', {}, 'Decision'))),
    el('tbody', {}, page.items.map((r) => {
      const comment = el('input', { 'aria-label': `Comment for ${r.employee_id}'s request`, class: 'comment' });
      const decide = (decision) => async () => {
        clearMessages();
        try {
          await api('POST', `/admin/v1/requests/${encodeURIComponent(r.event_id)}/decision`, { decision, comment: comment.value });
          say(`Request ${decision === 'approve' ? 'approved' : 'denied'}.`);
          requestsView();
        } catch (e) { fail(explain(e)); }
      };
      return el('tr', {},
        el('td', {}, r.employee_id), el('td', {}, describe(r), cited(r)), el('td', {}, time(r.received_at_ms)),
        el('td', {}, can('decide_requests') ? [comment,
          el('button', { type: 'button', class: 'primary', on: { click: decide('approve') } }, 'Approve request'), ' ',
          el('button', { type: 'button', class: 'danger', on: { click: decide('deny') } }, 'Deny request')] : r.status));
    }))) : el('p', {}, 'No pending requests.'));
}

// Punch-key rotations HR must decide (a new key that proves less than the
// policy asks): the device's later punches wait until then.
function keyRotations(page) {
  if (!page.items.length) return el('p', {}, 'No key rotations waiting.');
  return el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Employee'), el('th', {}, 'Device'), el('th', {}, 'Why it waits'), el('th', {}, 'Received'), el('th', {}, 'Decision'))),
    el('tbody', {}, page.items.map((r) => {
      const comment = el('input', { 'aria-label': `Comment for ${r.employee_id}'s new key`, class: 'comment' });
      const decide = (decision) => async () => {
        clearMessages();
        try {
          await api('POST', `/admin/v1/key-rotations/${encodeURIComponent(r.event_id)}/decision`, { decision, comment: comment.value });
          say(`New key ${decision === 'approve' ? 'approved' : 'denied'}.`);
          devices();
        } catch (e) { fail(explain(e)); }
      };
      return el('tr', {},
        el('td', {}, r.employee_id), el('td', {}, r.device_id), el('td', {}, r.status_detail || ''),
        el('td', {}, time(r.received_at_ms)),
        el('td', {}, can('approve_rebind') ? [comment,
          el('button', { type: 'button', class: 'primary', on: { click: decide('approve') } }, 'Approve key'), ' ',
          el('button', { type: 'button', class: 'danger', on: { click: decide('deny') } }, 'Deny key')] : r.status));
    })));
}

async function devices() {
  const page = await api('GET', '/admin/v1/devices?limit=500');
  const rotations = await api('GET', '/admin/v1/key-rotations?limit=200');
  view('Devices', el('h3', {}, 'Punch keys waiting for approval'), keyRotations(rotations), el('h3', {}, 'Devices'), el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Device'), el('th', {}, 'Employee'), el('th', {}, 'Assurance'), el('th', {}, 'Platform'), el('th', {}, 'Bound'), el('th', {}, ''))),
    el('tbody', {}, page.items.map((d) => el('tr', {},
      el('td', {}, d.device_id), el('td', {}, d.employee_id), el('td', {}, d.assurance), el('td', {}, d.platform),
      el('td', {}, d.bound ? 'yes' : 'no'),
      el('td', {}, can('approve_rebind') ? el('button', { type: 'button', on: { click: async () => {
        const reason = prompt(`Reason for letting ${d.employee_id} enroll a new phone`);
        if (!reason) return;
        try { await api('POST', `/admin/v1/employees/${encodeURIComponent(d.employee_id)}/rebind`, { reason }); say('Rebind approved.'); } catch (e) { fail(explain(e)); }
      } } }, 'Approve rebind') : '', ' ', deviceSlots(d.employee_id),
      d.platform === 'browser' ? [' ', el('button', { type: 'button', on: { click: () => passkeys(d.employee_id) } }, `Passkeys of ${d.employee_id}`)] : ''))))),
    el('div', { id: 'passkeys' }));
}

// An employee's passkeys (the punch page at /punch/), and HR revoking one:
// a revoked passkey punches no more; its punches stay.
async function passkeys(employee) {
  clearMessages();
  const path = `/admin/v1/employees/${encodeURIComponent(employee)}/passkeys`;
  let data;
  try { data = await api('GET', path); } catch (e) { fail(explain(e)); return; }
  const revoke = (p) => async () => {
    const reason = prompt(`Reason for revoking passkey ${p.device_id} of ${employee}`);
    if (!reason) return;
    clearMessages();
    try {
      await api('POST', `${path}/${encodeURIComponent(p.device_id)}/revoke`, { reason });
      await passkeys(employee);
      say(`Passkey ${p.device_id} revoked.`);
    } catch (e) { fail(explain(e)); }
  };
  $('passkeys').replaceChildren(el('h3', {}, `Passkeys of ${employee}`), data.items.length ? el('table', { id: 'passkey-list' },
    el('thead', {}, el('tr', {}, ['Passkey (device)', 'Registered', 'Punches', 'State', ''].map((h) => el('th', {}, h)))),
    el('tbody', {}, data.items.map((p) => el('tr', { 'data-device': p.device_id },
      el('td', {}, p.device_id), el('td', {}, time(p.registered_at_ms)), el('td', {}, p.head_seq),
      el('td', { class: 'state' }, p.revoked_at_ms ? `revoked ${time(p.revoked_at_ms)}` : 'active'),
      el('td', {}, !p.revoked_at_ms && can('approve_rebind')
        ? el('button', { type: 'button', class: 'danger', on: { click: revoke(p) } }, `Revoke passkey ${p.device_id}`) : ''))))) :
    el('p', {}, 'No passkeys.'));
}

// The forgotten clock-out queue, in English or Simplified Chinese (the
// browser's language, as the punch page chooses).
const zh = /^zh(?!-(hant|tw|hk|mo))/i.test(navigator.language || '');
const FORGOTTEN_TEXT = {
  title: ['Forgotten clock-outs', '未打下班卡'],
  none: ['No forgotten clock-outs.', '没有未打下班卡的记录。'],
  employee: ['Employee', '员工'],
  shift: ['Shift', '班次'],
  clock_in: ['Clocked in', '上班打卡'],
  shift_end: ['Shift end', '班次结束'],
  state: ['State', '状态'],
  answers: ['Make-up requests', '补卡申请'],
  no_answer: ['none yet', '暂无'],
  flagged: ['Flagged: no clock-out', '已标记：未打下班卡'],
  closed_by_server: ['Closed by the server at the shift end', '系统已按班次结束时间自动签退'],
  superseded: ['A late clock-out arrived and counts', '迟到上传的下班卡已生效'],
  server_made: ['server-made clock-out (not a punch) at', '系统生成的下班记录（非打卡）：'],
  pending: ['pending', '待审批'],
  approved: ['approved', '已批准'],
  denied: ['denied', '已拒绝'],
  refused: ['refused', '不符合规定'],
};
function ft(key) { return (FORGOTTEN_TEXT[key] || [key, key])[zh ? 1 : 0]; }
function localTime(ms) { return ms == null ? '' : new Date(ms).toLocaleString(zh ? 'zh-CN' : 'en'); }

async function forgottenView() {
  const page = await api('GET', '/admin/v1/forgotten-clock-outs?limit=200');
  const stateText = (f) => ft(f.state) +
    (f.server_made_entry ? ` — ${ft('server_made')} ${localTime(f.server_made_entry.at_ms)}` : '') +
    (f.superseded_by ? ` (${f.superseded_by})` : '');
  const answers = (f) => f.answers.length
    ? f.answers.map((a) => `${localTime(a.intended_time_ms)}: ${a.reason} (${ft(a.status || 'pending')})`).join('; ')
    : ft('no_answer');
  view(ft('title'), page.items.length ? el('table', { id: 'forgotten', lang: zh ? 'zh-CN' : 'en' },
    el('thead', {}, el('tr', {}, ['employee', 'shift', 'clock_in', 'shift_end', 'state', 'answers'].map((k) => el('th', {}, ft(k))))),
    el('tbody', {}, page.items.map((f) => el('tr', { 'data-state': f.state },
      el('td', {}, f.employee_id), el('td', {}, f.shift_id), el('td', {}, localTime(f.clock_in_at_ms)),
      el('td', {}, localTime(f.end_ms)), el('td', {}, stateText(f)), el('td', {}, answers(f)))))) :
    el('p', { lang: zh ? 'zh-CN' : 'en' }, ft('none')));
  $('view-title').lang = zh ? 'zh-CN' : 'en';
}

// An employee's devices against the policy's max_devices, and HR's
// single-use approval for one more (distinct from a rebind, which replaces).
function slotsText(s) {
  const unused = s.approvals.filter((a) => a.used_at_ms === null).length;
  const used = s.approvals.filter((a) => a.used_at_ms !== null)
    .map((a) => `${a.used_by_device} (approved by ${a.approved_by}: ${a.reason})`);
  return `${s.employee_id}: ${s.bound_devices.length} of max_devices ${s.max_devices} bound; ` +
    `${unused} unused approval(s) for one more device` + (used.length ? `; used: ${used.join(', ')}` : '');
}

function deviceSlots(employee) {
  const path = `/admin/v1/employees/${encodeURIComponent(employee)}`;
  return [
    el('button', { type: 'button', on: { click: async () => {
      clearMessages();
      try { say(slotsText(await api('GET', `${path}/device-slots`))); } catch (e) { fail(explain(e)); }
    } } }, 'Device slots'), ' ',
    can('approve_rebind') ? el('button', { type: 'button', on: { click: async () => {
      const reason = prompt(`Reason for letting ${employee} enroll one more device`);
      if (!reason) return;
      clearMessages();
      try { say(`One more device approved. ${slotsText(await api('POST', `${path}/extra-device`, { reason }))}`); } catch (e) { fail(explain(e)); }
    } } }, 'Approve one more device') : ''];
}

// Fault reports: what devices saw or employees described, and terminals
// silent for longer than the policy allows.
function faultText(f) {
  const b = f.fault || {};
  const who = b.source === 'employee' ? 'reported' : 'seen by the device';
  const files = b.attachments && b.attachments.length ? ` (${b.attachments.length} file(s))` : '';
  return `${b.kind || f.event_type} (${who}, ${f.device_id} #${f.seq}, ${time(f.wall_time_ms)})` + (b.text ? `: ${b.text}` : '') + files;
}

async function faultsView() {
  const page = await api('GET', '/admin/v1/faults?limit=200');
  const silent = await api('GET', '/admin/v1/faults/silent?limit=200');
  view('Faults',
    el('h3', {}, 'Silent terminals'),
    silent.items.length ? el('table', { id: 'silent' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Device'), el('th', {}, 'Employee'), el('th', {}, 'Terminal'), el('th', {}, 'Last heard from'), el('th', {}, 'Silent for'))),
      el('tbody', {}, silent.items.map((t) => el('tr', {},
        el('td', {}, t.device_id), el('td', {}, t.employee_id), el('td', {}, t.terminal),
        el('td', {}, time(t.last_seen_ms)), el('td', {}, `${t.silent_for_h} h (limit ${t.limit_h} h)`))))) : el('p', {}, 'No silent terminals.'),
    el('h3', {}, 'Fault reports'),
    page.items.length ? el('table', { id: 'faults' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Employee'), el('th', {}, 'Team'), el('th', {}, 'Fault'), el('th', {}, 'Received'))),
      el('tbody', {}, page.items.map((f) => el('tr', {},
        el('td', {}, f.employee_id), el('td', {}, f.team || ''), el('td', {}, faultText(f)), el('td', {}, time(f.received_at_ms)))))) : el('p', {}, 'No fault reports.'));
}

async function breaks() {
  const page = await api('GET', '/admin/v1/chain-breaks');
  view('Chain breaks', page.items.length ? el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Device'), el('th', {}, 'Employee'), el('th', {}, 'Refused'), el('th', {}, 'Accepted head'), el('th', {}, 'Acknowledged'))),
    el('tbody', {}, page.items.map((b) => el('tr', {},
      el('td', {}, b.device_id), el('td', {}, b.employee_id || ''),
      el('td', {}, b.refused.map((r) => `seq ${r.seq}: ${r.reason}`).join('; ')),
      el('td', {}, `seq ${b.head_seq}`),
      el('td', {}, b.acknowledged ? `${b.acknowledged.acknowledged_by}: ${b.acknowledged.reason}` :
        (can('acknowledge_chain_break') ? el('button', { type: 'button', on: { click: async () => {
          const reason = prompt('Reason for acknowledging this break');
          if (!reason) return;
          try { await api('POST', `/admin/v1/devices/${encodeURIComponent(b.device_id)}/acknowledge-break`, { reason }); say('Break acknowledged.'); breaks(); } catch (e) { fail(explain(e)); }
        } } }, 'Acknowledge') : 'no')))))) : el('p', {}, 'No broken chains.'));
}

function exportView() {
  const from = el('input', { id: 'from', type: 'date', required: '' });
  const to = el('input', { id: 'to', type: 'date', required: '' });
  const team = el('input', { id: 'team', value: state.me.team || '' });
  const out = el('div', {});
  const link = () => `/admin/v1/attendance?from=${from.value}&to=${to.value}` + (team.value ? '&team=' + encodeURIComponent(team.value) : '');
  view('Attendance export',
    el('form', { on: { submit: async (ev) => {
      ev.preventDefault(); clearMessages();
      try {
        const data = await api('GET', link());
        out.replaceChildren(
          el('p', {}, el('a', { href: link() + '&format=csv', download: 'attendance.csv' }, 'Download CSV')),
          el('table', {}, el('thead', {}, el('tr', {}, ['Employee', 'Date', 'In', 'Out', 'Worked (min)', 'Late', 'Early', 'Flags'].map((h) => el('th', {}, h)))),
            el('tbody', {}, data.rows.map((r) => el('tr', {}, [r.employee_id, r.date, r.first_in, r.last_out, r.worked_min, r.late_min, r.early_min, r.review_flags.join(', ')].map((c) => el('td', {}, c)))))));
      } catch (e) { fail(explain(e)); }
    } } },
    el('label', { for: 'from' }, 'From'), from, el('label', { for: 'to' }, 'To'), to,
    el('label', { for: 'team' }, 'Team'), team, el('button', { type: 'submit' }, 'Show')), out);
}

async function audit() {
  const [page, v] = await Promise.all([api('GET', '/admin/v1/audit?limit=200'), api('GET', '/admin/v1/audit/verify')]);
  view('Audit trail',
    el('p', {}, v.broken ? `Chain BROKEN at record ${v.broken.seq} (${v.broken.problem})` : `Chain verified: ${v.rows} records, head ${v.head_hash.slice(0, 16)}…`),
    el('table', {}, el('thead', {}, el('tr', {}, ['#', 'When', 'Who', 'Action', 'Target', 'Reason'].map((h) => el('th', {}, h)))),
      el('tbody', {}, page.items.map((r) => el('tr', {}, [r.seq, time(r.at_ms), r.actor, r.action, r.target, r.reason].map((c) => el('td', {}, c)))))));
}

// Staff accounts (HR): disable / enable, revoke every session and token,
// unlock, reset the password (a new one-time password) or the authenticator
// (enrolled again at the next sign-in); and each API token, revoked alone.
// Each asks for a reason, kept in the audit trail.
async function staffView() {
  const [data, tokens] = await Promise.all([api('GET', '/admin/v1/staff'), api('GET', '/admin/v1/tokens')]);
  const act = (path, what, done, extra) => async () => {
    const reason = prompt(`Reason to ${what}`);
    if (!reason) return;
    const body = { reason };
    if (extra) {
      const value = extra();
      if (!value) return;
      Object.assign(body, value);
    }
    clearMessages();
    try {
      await api('POST', path, body);
      await staffView();
      say(done);
    } catch (e) { fail(explain(e)); }
  };
  const change = (who, c, done, extra) =>
    act(`/admin/v1/staff/${encodeURIComponent(who)}/${c}`, `${c} ${who}`, done, extra);
  const newPassword = () => {
    const password = prompt('New one-time password (12 characters or more)');
    return password ? { password } : null;
  };
  const stateOf = (s) => [s.disabled ? 'disabled' : 'active', s.locked_until_ms ? `locked until ${time(s.locked_until_ms)}` : '',
    s.totp_enrolment_pending ? 'authenticator not enrolled' : ''].filter(Boolean).join(', ');
  view('Staff', el('table', {},
    el('thead', {}, el('tr', {}, ['Username', 'Role', 'Team', 'State', 'Actions'].map((h) => el('th', {}, h)))),
    el('tbody', {}, data.staff.map((s) => el('tr', { 'data-username': s.username },
      el('td', {}, s.username), el('td', {}, s.role), el('td', {}, s.team || ''), el('td', { class: 'state' }, stateOf(s)),
      el('td', {}, s.username === state.me.username ? '' : [
        s.disabled
          ? el('button', { type: 'button', on: { click: change(s.username, 'enable', `${s.username} enabled.`) } }, `Enable ${s.username}`)
          : el('button', { type: 'button', class: 'danger', on: { click: change(s.username, 'disable', `${s.username} disabled.`) } }, `Disable ${s.username}`), ' ',
        el('button', { type: 'button', on: { click: change(s.username, 'revoke', `Sessions and tokens of ${s.username} revoked.`) } }, `Revoke sessions of ${s.username}`), ' ',
        el('button', { type: 'button', on: { click: change(s.username, 'unlock', `${s.username} unlocked.`) } }, `Unlock ${s.username}`), ' ',
        el('button', { type: 'button', on: { click: change(s.username, 'reset-password', `Password of ${s.username} reset.`, newPassword) } }, `Reset password of ${s.username}`), ' ',
        el('button', { type: 'button', on: { click: change(s.username, 'reset-totp', `${s.username} enrols a new authenticator at the next sign-in.`) } }, `Reset authenticator of ${s.username}`)]))))),
    el('h2', {}, 'API tokens'),
    el('table', { id: 'tokens' },
      el('thead', {}, el('tr', {}, ['Token', 'Owner', 'Name', 'Expires', 'State', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, tokens.tokens.map((t) => el('tr', { 'data-token': t.token_id },
        el('td', {}, t.token_id), el('td', {}, t.username), el('td', {}, t.name), el('td', {}, time(t.expires_at_ms)),
        el('td', { class: 'state' }, t.revoked_at_ms ? `revoked ${time(t.revoked_at_ms)}` : 'live'),
        el('td', {}, t.revoked_at_ms ? '' : el('button', { type: 'button', class: 'danger',
          on: { click: act(`/admin/v1/tokens/${encodeURIComponent(t.token_id)}/revoke`, `revoke token ${t.token_id}`, `Token ${t.token_id} revoked.`) } },
          `Revoke token ${t.token_id}`)))))));
}

async function route() {
  if (!state.me) {
    try { state.me = await api('GET', '/admin/v1/session'); } catch (e) { state.me = null; }
  }
  if (!state.me) { show('signin'); $('who').textContent = ''; return; }
  $('who').textContent = `${state.me.username} — ${state.me.role.replace('_', ' ')}${state.me.team ? ', team ' + state.me.team : ''}`;
  document.querySelectorAll('[data-perm]').forEach((a) => { a.hidden = !can(a.dataset.perm); });
  const [path] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'punch') await punch(decodeURIComponent(parts[1]), parts[2]);
    else if (parts[0] === 'punches') await punches();
    else if (parts[0] === 'devices') await devices();
    else if (parts[0] === 'requests') await requestsView();
    else if (parts[0] === 'faults') await faultsView();
    else if (parts[0] === 'forgotten') await forgottenView();
    else if (parts[0] === 'breaks') await breaks();
    else if (parts[0] === 'export') exportView();
    else if (parts[0] === 'audit') await audit();
    else if (parts[0] === 'staff') await staffView();
    else await queue();
  } catch (e) {
    view('Not available');
    fail(explain(e));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const forgotten = $('nav-forgotten');
  forgotten.textContent = ft('title');
  forgotten.lang = zh ? 'zh-CN' : 'en';
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearMessages();
    const body = { username: $('username').value, password: $('password').value, totp: $('totp').value };
    if (state.enrolSecret) body.totp_secret = state.enrolSecret;
    try {
      state.me = await api('POST', '/admin/v1/session', body);
      $('password').value = ''; $('totp').value = '';
      state.enrolSecret = null; $('enrol').hidden = true;
      say(`Signed in as ${state.me.username}.`);
      route();
    } catch (e) {
      if (e.code === 'totp_enrolment_required') {
        // First sign-in (or after a reset): the holder enrols an authenticator.
        state.enrolSecret = e.body.totp_secret;
        $('enrol').textContent = `Add this key to your authenticator app, then sign in with a code from it: ${e.body.totp_secret}`;
        $('enrol').hidden = false;
        $('totp').value = '';
        return;
      }
      fail(e.code === 'locked' ? e.message : 'Sign-in failed: username, password or code is wrong.');
    }
  });
  $('signout').addEventListener('click', async () => {
    try { await api('POST', '/admin/v1/session/end'); } catch (e) { /* signed out anyway */ }
    state.me = null; location.hash = ''; route();
  });
  window.addEventListener('hashchange', () => {
    clearMessages();
    if (state.flash) { say(state.flash); state.flash = null; }
    route();
  });
  route();
});
