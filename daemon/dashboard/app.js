/*
 * The shieldd dashboard: a fleet view (GET /v1/instances) and an instance
 * view (GET /v1/instances/NAME), refreshed every 5 seconds. The API's
 * contract is docs/API.md; colours and reasons are docs/INTEGRITY.md.
 *
 * Every string that comes from the API reaches the page through
 * textContent or setAttribute, never through innerHTML: an instance name or
 * an event summary is whatever a machine chose to send.
 */
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const TOKEN_KEY = 'shieldkit.adminToken';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const COLOURS = ['green', 'yellow', 'red'];
  const COLOUR_TEXT = {
    green: 'Green: as golden',
    yellow: 'Yellow: something new',
    red: 'Red: changed',
    unknown: 'Unknown: not attested',
  };
  const SEVERITY_RANK = { red: 0, yellow: 1, unknown: 2, green: 3 };

  const state = {
    route: null,          /* {view: 'fleet'} or {view: 'instance', name} */
    timer: null,
    inflight: false,
    lastFleetJSON: null,
    lastInstanceJSON: null,
    lastInstance: null,
    colours: new Map(),   /* instance name → last colour seen, to announce changes */
    generation: 0,        /* bumps on every route change; stale answers are dropped */
  };

  /* ---- small DOM helpers (text only) ---- */

  function $(id) { return document.getElementById(id); }

  /* el('td', {class: 'x', 'data-testid': 'y'}, 'text', childNode, …) */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    append(e, children);
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(e, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(e, c);
      else if (c instanceof Node) e.appendChild(c);
      else e.appendChild(document.createTextNode(String(c)));
    }
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function setText(e, text) { e.textContent = text === null || text === undefined ? '' : String(text); }
  function show(e, visible) { e.hidden = !visible; }

  /* ---- values from the API ---- */

  function colourOf(c) {
    return typeof c === 'string' && COLOURS.includes(c) ? c : 'unknown';
  }

  /* last_attestation / history time: RFC 3339 text or unix seconds. */
  function toDate(t) {
    if (t === null || t === undefined || t === '') return null;
    const d = typeof t === 'number' ? new Date(t * 1000) : new Date(String(t));
    return isNaN(d.getTime()) ? null : d;
  }

  function relative(d, now) {
    if (!d) return 'never';
    const s = Math.round((now - d.getTime()) / 1000);
    const future = s < 0;
    const a = Math.abs(s);
    let text;
    if (a < 5) return 'just now';
    if (a < 60) text = a + ' s';
    else if (a < 3600) text = Math.floor(a / 60) + ' min';
    else if (a < 86400) text = Math.floor(a / 3600) + ' h';
    else text = Math.floor(a / 86400) + ' d';
    return future ? 'in ' + text : text + ' ago';
  }

  function timeEl(t, testid) {
    const d = toDate(t);
    if (!d) return el('span', { class: 'never', 'data-testid': testid }, 'never');
    return el('time', { datetime: d.toISOString(), title: d.toLocaleString(), 'data-testid': testid,
                        'data-time': d.getTime() },
              relative(d, Date.now()));
  }

  /* Refresh the relative times in place, without rebuilding anything. */
  function tickTimes() {
    const now = Date.now();
    for (const t of document.querySelectorAll('time[data-time]')) {
      const d = new Date(Number(t.getAttribute('data-time')));
      const r = relative(d, now);
      if (t.textContent !== r) t.textContent = r;
    }
  }

  /* ---- the shield: shape and text say the colour too ---- */

  function shieldIcon(colour, size) {
    const c = colourOf(colour);
    const s = svg('svg', { viewBox: '0 0 24 28', width: size || 24, height: Math.round((size || 24) * 28 / 24),
                           class: 'shield-icon shield-' + c, 'aria-hidden': 'true', focusable: 'false' });
    s.appendChild(svg('path', { class: 'shield-body',
                                d: 'M12 1 L22 5 V13 C22 20 17.5 24.5 12 27 C6.5 24.5 2 20 2 13 V5 Z' }));
    /* A mark inside, so the colour is not the only signal. */
    if (c === 'green') {
      s.appendChild(svg('path', { class: 'shield-mark', d: 'M7 14 L10.5 17.5 L17 10' }));
    } else if (c === 'yellow') {
      s.appendChild(svg('path', { class: 'shield-mark', d: 'M12 8 V15' }));
      s.appendChild(svg('circle', { class: 'shield-dot', cx: 12, cy: 19.5, r: 1.4 }));
    } else if (c === 'red') {
      s.appendChild(svg('path', { class: 'shield-mark', d: 'M8 10 L16 18 M16 10 L8 18' }));
    } else {
      s.appendChild(svg('path', { class: 'shield-mark', d: 'M9.5 11 C9.5 7.5 14.5 7.5 14.5 11 C14.5 13 12 13 12 15.5' }));
      s.appendChild(svg('circle', { class: 'shield-dot', cx: 12, cy: 19.5, r: 1.2 }));
    }
    return s;
  }

  function shield(colour, opts) {
    const c = colourOf(colour);
    const o = opts || {};
    return el('span', { class: 'shield shield-' + c, 'data-testid': o.testid || 'shield', 'data-colour': c },
              shieldIcon(c, o.size),
              el('span', { class: 'shield-text' }, o.short ? c : COLOUR_TEXT[c]));
  }

  /* A small verdict badge (early/late boot): a dot plus the word. */
  function verdict(colour, testid) {
    const c = colourOf(colour);
    return el('span', { class: 'verdict verdict-' + c, 'data-testid': testid, 'data-colour': c },
              el('span', { class: 'dot', 'aria-hidden': 'true' }), c);
  }

  /* ---- network ---- */

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, opts) {
    const o = opts || {};
    const headers = { Accept: 'application/json' };
    if (o.token) headers.Authorization = 'Bearer ' + o.token;
    let body;
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    let res, text;
    try {
      res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
      text = await res.text();
    } catch (e) {
      throw new ApiError(0, 'unreachable', 'shieldd is not reachable (' + (e && e.message ? e.message : e) + ')');
    }
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const code = data && typeof data.error === 'string' ? data.error : 'http-' + res.status;
      const msg = data && typeof data.message === 'string' ? data.message : res.statusText || 'request failed';
      throw new ApiError(res.status, code, msg);
    }
    return { status: res.status, data, text };
  }

  function showError(message) {
    const e = $('error');
    if (message) {
      setText(e, message);
      show(e, true);
    } else if (!e.hidden) {
      setText(e, '');
      show(e, false);
    }
  }

  function announce(message) {
    /* Clear first so the same message twice is still read. */
    const a = $('announce');
    a.textContent = '';
    window.setTimeout(() => { a.textContent = message; }, 50);
  }

  function markUpdated(ok) {
    const now = new Date();
    setText($('last-updated'), (ok ? 'Updated ' : 'Update failed ') + now.toLocaleTimeString() +
            ' · refreshes every 5 s');
    $('last-updated').setAttribute('data-state', ok ? 'ok' : 'error');
  }

  /* Announce colour changes seen between two refreshes (not the first load). */
  function noteColours(list) {
    const changes = [];
    for (const i of list) {
      const c = colourOf(i.colour);
      const before = state.colours.get(i.name);
      if (before !== undefined && before !== c) changes.push(i.name + ' changed from ' + before + ' to ' + c);
      state.colours.set(i.name, c);
    }
    if (changes.length) announce(changes.join('. ') + '.');
  }

  /* ---- fleet view ---- */

  function instanceHref(name) { return '#/instances/' + encodeURIComponent(name); }

  function renderFleet(list) {
    const body = $('fleet-body');
    const rows = list.slice().sort((a, b) => {
      const d = SEVERITY_RANK[colourOf(a.colour)] - SEVERITY_RANK[colourOf(b.colour)];
      return d !== 0 ? d : String(a.name).localeCompare(String(b.name));
    });
    const fresh = document.createDocumentFragment();
    for (const i of rows) {
      const c = colourOf(i.colour);
      fresh.appendChild(el('tr', { 'data-testid': 'instance-row', 'data-instance': i.name, 'data-colour': c,
                                   class: 'row-' + c },
        el('td', null, shield(c, { testid: 'shield' })),
        el('th', { scope: 'row' }, el('a', { href: instanceHref(i.name), 'data-testid': 'instance-link' }, i.name)),
        el('td', null, verdict(i.early_boot, 'early-boot')),
        el('td', null, verdict(i.late_boot, 'late-boot')),
        el('td', null, timeEl(i.last_attestation, 'last-attestation')),
        el('td', null, i.trusted ? el('span', { class: 'trusted' }, 'trusted')
                                 : el('span', { class: 'untrusted', title: 'Registered, not yet activated' },
                                      'not activated'))));
    }
    clear(body);
    body.appendChild(fresh);
    $('fleet-table').setAttribute('aria-busy', 'false');
    show($('fleet-empty'), rows.length === 0);

    const n = { green: 0, yellow: 0, red: 0, unknown: 0 };
    for (const i of rows) n[colourOf(i.colour)]++;
    const parts = [];
    if (n.red) parts.push(n.red + ' red');
    if (n.yellow) parts.push(n.yellow + ' yellow');
    if (n.green) parts.push(n.green + ' green');
    if (n.unknown) parts.push(n.unknown + ' not attested');
    setText($('fleet-summary'), rows.length === 0 ? 'No instances.'
            : rows.length + (rows.length === 1 ? ' instance: ' : ' instances: ') + parts.join(', ') + '.');
    const worst = n.red ? 'red' : n.yellow ? 'yellow' : n.green ? 'green' : 'unknown';
    $('fleet-summary').setAttribute('data-worst', worst);
    document.title = (n.red ? '(' + n.red + ' red) ' : '') + 'Shieldkit — fleet integrity';
  }

  async function loadFleet(gen) {
    const { data, text } = await api('GET', '/v1/instances');
    if (gen !== state.generation) return;
    if (!Array.isArray(data)) throw new ApiError(0, 'bad-answer', 'GET /v1/instances did not answer a JSON array');
    noteColours(data);
    if (text !== state.lastFleetJSON) {
      renderFleet(data);
      state.lastFleetJSON = text;
    } else {
      tickTimes();
    }
  }

  /* ---- instance view ---- */

  function pcrSort(a, b) { return Number(a) - Number(b); }

  function renderPcrs(pcrs) {
    const box = $('pcr-banks');
    clear(box);
    const banks = pcrs && typeof pcrs === 'object' ? Object.keys(pcrs).sort() : [];
    show($('pcr-none'), banks.length === 0);
    $('copy-pcrs').disabled = banks.length === 0;
    for (const bank of banks) {
      const values = pcrs[bank] && typeof pcrs[bank] === 'object' ? pcrs[bank] : {};
      const tbody = el('tbody');
      for (const idx of Object.keys(values).sort(pcrSort)) {
        tbody.appendChild(el('tr', { 'data-pcr': idx },
          el('th', { scope: 'row' }, idx),
          el('td', { class: 'hex' }, el('code', null, values[idx]))));
      }
      box.appendChild(el('table', { class: 'data pcrs', 'data-testid': 'pcr-table', 'data-bank': bank },
        el('caption', null, 'PCR values, ' + bank + ' bank'),
        el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'PCR'), el('th', { scope: 'col' }, 'Value (hex)'))),
        tbody));
    }
  }

  function severityColour(sev) {
    return sev === 'error' ? 'red' : sev === 'warning' ? 'yellow' : 'info';
  }

  function renderDifferences(diffs, inst) {
    const list = Array.isArray(diffs) ? diffs : [];
    const body = $('diff-body');
    clear(body);
    for (const r of list) {
      const sev = typeof r.severity === 'string' ? r.severity : 'info';
      body.appendChild(el('tr', { 'data-testid': 'difference', 'data-code': r.code, 'data-severity': sev,
                                  class: 'diff-' + severityColour(sev) },
        el('td', null, el('span', { class: 'sev sev-' + severityColour(sev) }, sev)),
        el('td', null, el('code', null, r.code)),
        el('td', null, r.bank === null || r.bank === undefined ? '—' : r.bank),
        el('td', null, r.pcr === null || r.pcr === undefined ? '—' : r.pcr),
        el('td', null, r.event === null || r.event === undefined ? '—' : r.event),
        el('td', { class: 'message' }, r.message)));
    }
    show($('diff-table'), list.length > 0);
    show($('diff-none'), list.length === 0);
    let none;
    if (!toDate(inst.last_attestation)) none = 'Nothing to compare yet: the instance has not attested.';
    else if (colourOf(inst.colour) === 'green') none = 'None: every PCR has its golden value.';
    else none = 'No reasons were recorded for the last comparison.';
    setText($('diff-none'), none);
  }

  function renderHistory(history) {
    const list = Array.isArray(history) ? history : [];
    const body = $('history-body');
    clear(body);
    for (const h of list) {
      const reasons = Array.isArray(h.reasons) ? h.reasons : [];
      const codes = [];
      for (const r of reasons) {
        if (r && typeof r.code === 'string' && !codes.includes(r.code)) codes.push(r.code);
      }
      body.appendChild(el('tr', { 'data-testid': 'history-row', 'data-colour': colourOf(h.colour) },
        el('td', null, timeEl(h.time, 'history-time')),
        el('td', null, verdict(h.colour, 'history-colour')),
        el('td', null, verdict(h.early !== undefined ? h.early : h.early_boot, 'history-early')),
        el('td', null, verdict(h.late !== undefined ? h.late : h.late_boot, 'history-late')),
        el('td', null, reasons.length === 0 ? '—'
                       : reasons.length + ': ' + codes.join(', '))));
    }
    show($('history-table'), list.length > 0);
    show($('history-none'), list.length === 0);
  }

  function renderInstance(inst) {
    const c = colourOf(inst.colour);
    const slot = $('instance-shield');
    clear(slot);
    slot.appendChild(shield(c, { testid: 'instance-shield', size: 40 }));
    setText($('instance-heading'), inst.name);
    document.title = inst.name + ' (' + c + ') — Shieldkit';

    clear($('f-colour')); $('f-colour').appendChild(verdict(c, 'instance-colour-badge'));
    $('f-colour').setAttribute('data-colour', c);
    clear($('f-early')); $('f-early').appendChild(verdict(inst.early_boot, 'instance-early-badge'));
    clear($('f-late')); $('f-late').appendChild(verdict(inst.late_boot, 'instance-late-badge'));
    clear($('f-last')); $('f-last').appendChild(timeEl(inst.last_attestation, 'instance-last-time'));
    const trust = { registered: 'activated against a trusted EK', certified: 'certified by the platform CA',
                    stored: 'on record', pinned: 'pinned' }[inst.ak_trust];
    setText($('f-trusted'), inst.trusted ? 'Trusted' + (trust ? ' (' + trust + ')' : '') : 'Registered, not yet activated');
    const policies = { gce: 'gce (PCRs 0–15 count)', oci: 'oci (only PCRs 0 and 2 count)', strict: 'strict (PCRs 0–15, every event)' };
    setText($('f-policy'), policies[inst.integrity_policy] || ((inst.integrity_policy || 'gce') + ' (these PCRs count)'));

    const g = inst.golden;
    const f = $('f-golden');
    if (g && typeof g === 'object') {
      const events = Array.isArray(g.events) ? g.events.length : 0;
      const banks = g.pcrs && typeof g.pcrs === 'object' ? Object.keys(g.pcrs).sort().join(', ') : '';
      setText(f, 'Recorded' + (banks ? ' (banks ' + banks + ')' : '') +
              (g.eventlog ? ', ' + events + ' event' + (events === 1 ? '' : 's') : ', values only (no event log)'));
      f.setAttribute('data-golden', 'recorded');
    } else {
      setText(f, 'None: the next attestation records it');
      f.setAttribute('data-golden', 'none');
    }

    renderDifferences(inst.differences, inst);
    renderPcrs(inst.pcrs);
    renderHistory(inst.history);
  }

  async function loadInstance(gen, name) {
    let res;
    try {
      res = await api('GET', '/v1/instances/' + encodeURIComponent(name));
    } catch (e) {
      if (gen !== state.generation) return;
      if (e instanceof ApiError && e.status === 404) {
        state.lastInstanceJSON = null;
        state.lastInstance = null;
        setText($('instance-heading'), name);
        clear($('instance-shield'));
        setText($('instance-notfound'), 'No instance named "' + name + '" is registered with this service.');
        show($('instance-notfound'), true);
        show($('instance-body'), false);
        return;
      }
      throw e;
    }
    if (gen !== state.generation) return;
    const inst = res.data;
    if (!inst || typeof inst !== 'object') throw new ApiError(0, 'bad-answer', 'the instance is not a JSON object');
    if (typeof inst.name !== 'string') inst.name = name;
    noteColours([inst]);
    show($('instance-notfound'), false);
    show($('instance-body'), true);
    state.lastInstance = inst;
    if (res.text !== state.lastInstanceJSON) {
      renderInstance(inst);
      state.lastInstanceJSON = res.text;
    } else {
      tickTimes();
    }
  }

  /* ---- copy PCR values ---- */

  function pcrsText() {
    const inst = state.lastInstance;
    return inst && inst.pcrs ? JSON.stringify(inst.pcrs, null, 2) + '\n' : '';
  }

  /* execCommand('copy') from a temporary textarea: for http:// on another
   * host than localhost, where navigator.clipboard does not exist. */
  function legacyCopy(text) {
    const ta = el('textarea', { readonly: true, class: 'offscreen', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  async function copyPcrs() {
    const text = pcrsText();
    const status = $('copy-status');
    if (!text) return;
    let ok = false;
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); ok = true; } catch (e) { ok = false; }
    }
    if (!ok) ok = legacyCopy(text);
    const fb = $('copy-fallback');
    if (ok) {
      show(fb, false);
      setText(status, 'Copied the PCR values (PCRS.json) to the clipboard.');
      status.setAttribute('data-state', 'copied');
    } else {
      const ta = $('copy-fallback-text');
      ta.value = text;
      show(fb, true);
      ta.focus();
      ta.select();
      setText(status, 'Could not copy: the text is selected below.');
      status.setAttribute('data-state', 'fallback');
    }
  }

  /* ---- reset golden: admin token + confirmation dialog ---- */

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(t) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token is asked again next time */ }
    show($('forget-token'), !!t);
  }

  function openConfirm(errorText) {
    const inst = state.lastInstance;
    if (!inst) return;
    const d = $('confirm-dialog');
    setText($('confirm-name'), inst.name);
    const needToken = !getToken();
    show($('token-field'), needToken);
    $('token-input').required = needToken;
    if (needToken) $('token-input').value = '';
    setText($('confirm-error'), errorText || '');
    show($('confirm-error'), !!errorText);
    $('confirm-reset').disabled = false;
    d.setAttribute('data-instance', inst.name);
    if (!d.open) d.showModal();
    (needToken ? $('token-input') : $('confirm-cancel')).focus();
  }

  async function confirmReset(ev) {
    ev.preventDefault();
    const d = $('confirm-dialog');
    const name = d.getAttribute('data-instance');
    let token = getToken();
    if (!token) {
      token = $('token-input').value.trim();
      if (!token) {
        setText($('confirm-error'), 'Enter the admin token (the file given with --admin-token-file).');
        show($('confirm-error'), true);
        $('token-input').focus();
        return;
      }
    }
    $('confirm-reset').disabled = true;
    try {
      await api('POST', '/v1/instances/' + encodeURIComponent(name) + '/golden/reset', { token, body: {} });
    } catch (e) {
      $('confirm-reset').disabled = false;
      if (e instanceof ApiError && e.status === 401) {
        setToken('');
        openConfirm('The admin token was refused (401). Enter it again.');
        return;
      }
      setText($('confirm-error'), 'Reset failed: ' + e.message + (e.code ? ' (' + e.code + ')' : ''));
      show($('confirm-error'), true);
      return;
    }
    setToken(token);
    d.close('reset');
    announce('The golden measurement of ' + name + ' was reset. Its next attestation records the new one.');
    setText($('copy-status'), '');
    refresh();
  }

  /* ---- routing and the refresh loop ---- */

  function parseRoute() {
    const h = location.hash.replace(/^#/, '');
    const m = /^\/instances\/([^/]+)\/?$/.exec(h);
    if (m) {
      let name;
      try { name = decodeURIComponent(m[1]); } catch (e) { name = m[1]; }
      return { view: 'instance', name };
    }
    return { view: 'fleet' };
  }

  function applyRoute() {
    state.route = parseRoute();
    state.generation++;
    state.lastFleetJSON = null;
    state.lastInstanceJSON = null;
    state.lastInstance = null;
    const fleet = state.route.view === 'fleet';
    show($('fleet-view'), fleet);
    show($('instance-view'), !fleet);
    if (!fleet) {
      setText($('instance-heading'), state.route.name);
      show($('instance-body'), false);
      show($('instance-notfound'), false);
      show($('copy-fallback'), false);
      setText($('copy-status'), '');
    } else {
      document.title = 'Shieldkit — fleet integrity';
    }
    refresh();
  }

  async function refresh() {
    if (state.inflight) return;
    state.inflight = true;
    const gen = state.generation;
    const load = () => (state.route.view === 'fleet' ? loadFleet(gen) : loadInstance(gen, state.route.name));
    try {
      try {
        await load();
      } catch (e) {
        /* A network error (fetch rejects with a TypeError) is often a kept-alive
         * connection the server closed as it was reused: try once more before
         * telling the operator. */
        if (!(e instanceof ApiError) || e.code !== 'unreachable') throw e;
        await new Promise((r) => window.setTimeout(r, 400));
        if (gen === state.generation) await load();
      }
      if (gen === state.generation) {
        showError('');
        markUpdated(true);
      }
    } catch (e) {
      if (gen === state.generation) {
        let what;
        if (!(e instanceof ApiError)) {
          console.error('dashboard:', e);
          what = 'the dashboard failed to show the answer (' + (e && e.message ? e.message : e) + ')';
        } else if (e.code === 'unreachable') {
          what = e.message;
        } else {
          what = e.message + ' (' + e.code + ')';
        }
        showError('Could not refresh: ' + what + '. The page shows the last data it had and retries every 5 s.');
        markUpdated(false);
      }
    } finally {
      state.inflight = false;
      /* A route change during the request: load the new view now. */
      if (gen !== state.generation) refresh();
    }
  }

  function start() {
    $('copy-pcrs').addEventListener('click', copyPcrs);
    $('reset-golden').addEventListener('click', () => openConfirm(''));
    $('confirm-form').addEventListener('submit', confirmReset);
    $('confirm-cancel').addEventListener('click', () => $('confirm-dialog').close('cancel'));
    $('forget-token').addEventListener('click', () => { setToken(''); announce('The admin token was forgotten.'); });
    show($('forget-token'), !!getToken());
    window.addEventListener('hashchange', () => {
      applyRoute();
      /* Move focus to the new view's heading so keyboard and screen reader users land there. */
      $(state.route.view === 'fleet' ? 'fleet-heading' : 'instance-heading').focus();
    });
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
    state.timer = window.setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
    applyRoute();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
