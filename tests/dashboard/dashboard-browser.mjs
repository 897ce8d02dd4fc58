#!/usr/bin/env node
// The dashboard in a real headless Chromium against a real shieldd and a
// real (software) TPM:
//   a swtpm provisioned like tests/cli/cli-verify.sh, an event log written
//   here and extended into it with tpm2_pcrextend, `shield attest` over a
//   nonce from POST /v1/challenge, POST /v1/attest → the fleet shows the
//   instance green;
//   reboot (swtpm restarted, PCRs reset) with another boot application in
//   PCR 4 → the open page turns red by itself (auto-refresh);
//   the instance page shows the PCR tables, the event-by-event difference
//   and the history; "Copy PCR values" puts PCRS.json on the clipboard;
//   "Reset golden measurement": cancel, a wrong admin token (401), the right
//   one (from --admin-token-file) in the <dialog> → golden gone;
//   attest again → the page shows green; a new PCR 9 event → yellow.
// Screenshots of each step go to $SHIELD_SCREENSHOT_DIR (build/dashboard-screenshots).
// Exit 77 (skipped) when chromium, swtpm, tpm2-tools or shieldd are missing.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser } from './cdp.mjs';

const SKIP = 77;
const env = process.env;
const shield = env.SHIELD_BIN;
const shieldd = env.SHIELDD_BIN;
const chromium = env.CHROMIUM || '/usr/bin/chromium';
const shotDir = env.SHIELD_SCREENSHOT_DIR || path.resolve('dashboard-screenshots');
const NAME = 'dash-web-1';

function skip(why) { console.log(`SKIP: ${why}`); process.exit(SKIP); }
function which(cmd) { return spawnSync('sh', ['-c', `command -v "${cmd}"`], { encoding: 'utf8' }).status === 0; }

if (!shield || !fs.existsSync(shield)) skip(`the shield CLI is not built (SHIELD_BIN=${shield})`);
if (!shieldd || !fs.existsSync(shieldd)) skip(`the daemon is not built (SHIELDD_BIN=${shieldd})`);
if (!fs.existsSync(chromium)) skip(`${chromium} is not installed (Debian: apt-get install chromium)`);
for (const tool of ['swtpm', 'swtpm_setup', 'tpm2_pcrextend'])
  if (!which(tool)) skip(`${tool} is not installed (swtpm, swtpm-tools, tpm2-tools)`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-test.'));
const children = new Set();
let fails = 0;
let browser = null;

function ok(what) { console.log(`ok: ${what}`); }
function fail(what, detail) {
  console.log(`FAIL: ${what}`);
  if (detail) console.log(String(detail).split('\n').slice(0, 30).map((l) => `  | ${l}`).join('\n'));
  fails++;
}
function check(cond, what, detail) { if (cond) ok(what); else fail(what, detail); return cond; }

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const c of [...children]) await stopChild(c);
  if (!env.KEEP_WORK) {
    try { fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); }
    catch (e) { console.log(`note: could not remove ${work}: ${e.message}`); }
  }
  else console.log(`work directory kept: ${work}`);
}
process.on('SIGINT', async () => { await cleanup(); process.exit(130); });
process.on('SIGTERM', async () => { await cleanup(); process.exit(143); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const randomPort = () => 10000 + Math.floor(Math.random() * 22000);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout;
}

function startChild(cmd, args, logName) {
  const out = fs.openSync(path.join(work, logName), 'a');
  const c = spawn(cmd, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}
async function stopChild(c) {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await Promise.race([gone, sleep(5000)]);
  if (c.exitCode === null) c.kill('SIGKILL');
}

// ---- the TPM ----

const tpmDir = path.join(work, 'tpm');
const caDir = path.join(work, 'ca');
let tpm = null;      // { proc, port, tcti }

async function runTpm() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = randomPort();
    const proc = startChild('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${tpmDir}`,
      '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init,startup-clear'], 'swtpm.log');
    const tcti = `swtpm:host=127.0.0.1,port=${port}`;
    for (let i = 0; i < 50 && proc.exitCode === null; i++) {
      if (spawnSync(shield, ['tpm', 'pcrs', '--tcti', tcti], { stdio: 'ignore' }).status === 0) return { proc, port, tcti };
      await sleep(100);
    }
    await stopChild(proc);
  }
  throw new Error(`swtpm did not start: ${fs.readFileSync(path.join(work, 'swtpm.log'), 'utf8')}`);
}

// A firmware-like crypto-agile log (TCG PC Client PFP 1.05, 10.4.5.1 Spec ID
// event, then TCG_PCR_EVENT2 records in sha1 and sha256), the same events as
// tests/cli/cli-verify.sh; BOOT names the boot application measured into PCR 4.
function writeLog(file, boot, late = false) {
  const banks = [[0x0004, 'sha1', 20], [0x000b, 'sha256', 32]];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
  const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  let spec = Buffer.concat([Buffer.from('Spec ID Event03\0', 'latin1'), u32(0), Buffer.from([0, 2, 0, 2]), u32(banks.length)]);
  for (const [alg, , size] of banks) spec = Buffer.concat([spec, u16(alg), u16(size)]);
  spec = Buffer.concat([spec, Buffer.from([0])]);
  const parts = [u32(0), u32(3), Buffer.alloc(20), u32(spec.length), spec];
  const events = [[0, 0x80000008, Buffer.from('firmware blob')], [7, 0x80000007, Buffer.from('Secure Boot state')],
    [0, 4, Buffer.alloc(4)], [4, 0x0000000d, Buffer.from(`\\EFI\\BOOT\\BOOTX64.EFI ${boot}`)],
    [4, 4, Buffer.alloc(4)], [7, 4, Buffer.alloc(4)]];
  if (late) events.push([9, 0x0000000d, Buffer.from('late boot: kernel command line')]);
  const extends_ = [];
  for (const [pcr, type, data] of events) {
    parts.push(u32(pcr), u32(type), u32(banks.length));
    const spec_ = [];
    for (const [alg, name] of banks) {
      const d = createHash(name).update(data).digest();
      parts.push(u16(alg), d);
      spec_.push(`${name}=0x${d.toString('hex')}`);
    }
    parts.push(u32(data.length), data);
    extends_.push(`${pcr}:${spec_.join(',')}`);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
  return extends_;
}
function extendAll(extends_) {
  for (const e of extends_) run('tpm2_pcrextend', [e], { env: { ...env, TPM2TOOLS_TCTI: tpm.tcti } });
}

// ---- the daemon ----

const stateDir = path.join(work, 'state');
const tokenFile = path.join(work, 'admin-token');
let daemon = null;   // { proc, base }

async function startDaemon() {
  fs.mkdirSync(stateDir, { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = randomPort();
    const proc = startChild(shieldd, ['--no-tls', '--listen', `127.0.0.1:${port}`, '--state', stateDir,
      '--admin-token-file', tokenFile, '--ak-ca', path.join(caDir, 'ca.crt')], 'shieldd.log');
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const r = await fetch(`${base}/v1/instances`);
        if (r.ok) return { proc, base };
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    await stopChild(proc);
  }
  throw new Error(`shieldd did not start:\n${fs.readFileSync(path.join(work, 'shieldd.log'), 'utf8')}`);
}

async function api(method, p, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${daemon.base}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, data, text };
}

let evidenceCount = 0;
function collectEvidence(nonce, log) {
  const out = path.join(work, `evidence-${++evidenceCount}.json`);
  run(shield, ['attest', '--tcti', tpm.tcti, '--nonce', nonce, '--eventlog', log, '--ima-log', '/nonexistent', '-o', out]);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

async function register(log) {
  const ev = collectEvidence(randomBytes(20).toString('hex'), log);
  const body = { name: NAME, ak_public: ev.ak?.public, ek_public: ev.ek_public };
  if (ev.ek_certificate) body.ek_certificate = ev.ek_certificate;
  if (ev.ak?.certificate) body.ak_certificate = ev.ak.certificate;
  const r = await api('POST', '/v1/instances', body);
  if (r.status !== 201 && r.status !== 200) throw new Error(`POST /v1/instances: ${r.status} ${r.text}`);
  if (!r.data.trusted) {
    // No --ak-ca trust: activate the credential the service made for (EK, AK).
    const blob = path.join(work, 'credential.bin');
    fs.writeFileSync(blob, Buffer.from(r.data.activation.credential, 'base64'));
    const { secret } = JSON.parse(run(shield, ['tpm', 'activate', '--blob', blob, '--ak-handle', '0x81010002',
      '--tcti', tpm.tcti, '--json']));
    const a = await api('POST', `/v1/instances/${NAME}/activate`, { secret });
    if (a.status !== 200) throw new Error(`activate: ${a.status} ${a.text}`);
  }
}

async function attest(log) {
  const c = await api('POST', '/v1/challenge', { instance: NAME });
  if (c.status !== 201) throw new Error(`POST /v1/challenge: ${c.status} ${c.text}`);
  const evidence = collectEvidence(c.data.nonce, log);
  const a = await api('POST', '/v1/attest', { instance: NAME, evidence });
  if (a.status !== 200) throw new Error(`POST /v1/attest: ${a.status} ${a.text}`);
  return a.data;
}

// ---- the page ----

let page = null;
let shotN = 0;
async function shot(name, opts) {
  const p = path.join(shotDir, `${String(++shotN).padStart(2, '0')}-${name}.png`);
  await page.screenshot(p, opts);
  console.log(`screenshot: ${p}`);
  const banner = await page.eval(`(() => { const e = document.querySelector('[data-testid="error"]'); return e.hidden ? null : e.textContent; })()`);
  if (banner !== null && name !== 'failure') fail(`the page shows a refresh error at "${name}"`, banner);
}
const row = `[data-testid="instance-row"][data-instance="${NAME}"]`;
const q = (s) => JSON.stringify(s);
const colourOfRow = `document.querySelector(${q(row)})?.getAttribute('data-colour')`;
const instanceColour = `document.querySelector('[data-testid="instance-shield"]')?.getAttribute('data-colour')`;

async function scenario() {
  // A TPM with a sha1 and a sha256 bank, provisioned with the test CA; the first boot.
  fs.mkdirSync(tpmDir);
  run('swtpm_setup', ['--tpm2', '--tpmstate', tpmDir, '--pcr-banks', 'sha1,sha256']);
  tpm = await runTpm();
  run(shield, ['tpm', 'provision', '--tcti', tpm.tcti, '--name', NAME, '--ca-dir', caDir]);
  const log1 = path.join(work, 'log-v1.bin');
  extendAll(writeLog(log1, 'v1'));

  daemon = await startDaemon();
  ok(`shieldd listens on ${daemon.base}`);
  for (let i = 0; i < 50 && !fs.existsSync(tokenFile); i++) await sleep(100);
  const adminToken = fs.readFileSync(tokenFile, 'utf8').trim();
  check(adminToken.length > 0, 'shieldd wrote the admin token file');

  await register(log1);
  let v = await attest(log1);
  check(v.verified === true && v.colour === 'green', 'first attestation: verified, green (the golden is recorded)', JSON.stringify(v));

  // The fleet page.
  fs.mkdirSync(shotDir, { recursive: true });
  browser = await Browser.launch({ executablePath: chromium, userDataDir: path.join(work, 'chromium') });
  page = await browser.newPage();
  await browser.send('Browser.grantPermissions', {
    origin: daemon.base, permissions: ['clipboardReadWrite', 'clipboardSanitizedWrite'] }).catch(() => {});
  await page.goto(`${daemon.base}/`);
  check(await page.eval(`document.querySelector('link[rel=stylesheet]').sheet !== null && !!document.querySelector('[data-testid="fleet-table"]')`),
    'GET / serves the dashboard with its stylesheet (/static/app.css)');
  await page.waitFor(`${colourOfRow} === 'green'`, { what: `${NAME} green in the fleet` });
  ok(`the fleet shows ${NAME} green`);
  const fleetRow = await page.eval(`(() => { const r = document.querySelector(${q(row)}); return {
      shield: r.querySelector('[data-testid="shield"]').textContent,
      early: r.querySelector('[data-testid="early-boot"]').getAttribute('data-colour'),
      late: r.querySelector('[data-testid="late-boot"]').getAttribute('data-colour'),
      last: r.querySelector('[data-testid="last-attestation"]').textContent,
      svg: !!r.querySelector('[data-testid="shield"] svg') }; })()`);
  check(/green/i.test(fleetRow.shield) && fleetRow.svg, 'the shield is an icon with its colour in words', JSON.stringify(fleetRow));
  check(fleetRow.early === 'green' && fleetRow.late === 'green', 'early and late boot verdicts are shown', JSON.stringify(fleetRow));
  check(/just now|s ago/.test(fleetRow.last), 'the last attestation is a relative time', fleetRow.last);
  check(await page.eval(`!!document.querySelector('table[data-testid="fleet-table"] caption') && !!document.querySelector('[aria-live]') && !!document.querySelector('h1')`),
    'the fleet table has a caption, the page a heading and an aria-live region');
  await shot('fleet-green');

  // Reboot with another boot application (PCR 4); the summary carries markup that must stay text.
  await stopChild(tpm.proc);
  tpm = await runTpm();
  const log2 = path.join(work, 'log-v2.bin');
  extendAll(writeLog(log2, 'v2 <img src=x onerror="window.__pwned=1">'));
  v = await attest(log2);
  check(v.colour === 'red', 'attestation after the changed boot: red', JSON.stringify(v));
  await page.waitFor(`${colourOfRow} === 'red'`, { timeout: 15000, what: `${NAME} red without a reload (auto-refresh)` });
  ok('the open fleet page turned red by itself (auto-refresh every 5 s)');
  check(/red/i.test(await page.eval(`document.querySelector(${q(row)} + ' [data-testid="shield"]').textContent`)),
    'the red shield says "red" in words');
  await shot('fleet-red');

  // The instance page.
  await page.click(`${row} [data-testid="instance-link"]`);
  await page.waitFor(`location.hash === '#/instances/${NAME}' && ${instanceColour} === 'red'`, { what: 'the instance page, red' });
  ok('the instance page opens from the fleet and shows red');
  const detail = (await api('GET', `/v1/instances/${NAME}`)).data;
  const policyText = await page.eval(`document.querySelector('[data-testid="instance-policy"]').textContent`);
  check(policyText.startsWith(detail.integrity_policy || 'gce'),
    `the instance page shows its integrity policy (${policyText})`, JSON.stringify(detail.integrity_policy));
  const tables = await page.eval(`[...document.querySelectorAll('[data-testid="pcr-table"]')].map((t) => ({
      bank: t.getAttribute('data-bank'), caption: t.caption?.textContent, rows: t.tBodies[0].rows.length }))`);
  const banks = Object.keys(detail.pcrs || {}).sort();
  check(banks.length > 0 && JSON.stringify(tables.map((t) => t.bank)) === JSON.stringify(banks) &&
        tables.every((t) => t.caption && t.rows === Object.keys(detail.pcrs[t.bank]).length),
    `a captioned PCR table per bank (${banks.join(', ')})`, JSON.stringify(tables));
  const diffs = await page.eval(`[...document.querySelectorAll('[data-testid="difference"]')].map((r) => r.textContent)`);
  check(diffs.length > 0 && diffs.length === (detail.differences || []).length, `the differences are listed (${diffs.length})`, JSON.stringify(diffs));
  check(diffs.some((d) => /event-changed|boot-order-changed|pcr-changed/.test(d) && /\b4\b/.test(d)),
    'a difference names PCR 4 and what changed', JSON.stringify(diffs));
  check(await page.eval(`window.__pwned === undefined && !document.querySelector('img')`),
    'markup in an event summary stays text (no element made from API data)');
  if (diffs.some((d) => d.includes('<img')))
    ok('the summary with markup is shown literally');
  const hist = await page.eval(`[...document.querySelectorAll('[data-testid="history-row"]')].map((r) => r.getAttribute('data-colour'))`);
  check(hist.length >= 2 && hist[0] === 'red' && hist.includes('green'), 'the history lists the verdicts, newest first', JSON.stringify(hist));
  await shot('instance-red');

  // Copy PCR values.
  await page.click('[data-testid="copy-pcrs"]');
  await page.waitFor(`document.querySelector('[data-testid="copy-status"]').getAttribute('data-state')`, { what: 'the copy result' });
  const copyState = await page.eval(`document.querySelector('[data-testid="copy-status"]').getAttribute('data-state')`);
  let copied = null;
  if (copyState === 'copied') copied = await page.eval(`navigator.clipboard.readText().catch(() => null)`);
  else copied = await page.eval(`document.querySelector('[data-testid="copy-fallback-text"]').value`);
  let same = false;
  try { same = JSON.stringify(JSON.parse(copied)) === JSON.stringify(detail.pcrs); } catch { /* not JSON */ }
  check(same || (copyState === 'copied' && copied === null),
    `"Copy PCR values" gives PCRS.json (${copyState}${copied === null ? ', clipboard not readable here' : ''})`, copied);

  // Reset golden: cancel first, nothing happens.
  const golden = `document.querySelector('[data-testid="instance-golden"]').getAttribute('data-golden')`;
  check(await page.eval(golden) === 'recorded', 'the golden measurement is shown as recorded');
  await page.click('[data-testid="reset-golden"]');
  await page.waitFor(`document.querySelector('[data-testid="confirm-dialog"]').open`, { what: 'the confirmation dialog' });
  check(await page.eval(`!document.querySelector('[data-testid="token-input"]').closest('[hidden]')`),
    'the dialog asks for the admin token (none stored yet)');
  await shot('confirm-dialog', { viewport: true });
  await page.click('[data-testid="confirm-cancel"]');
  await page.waitFor(`!document.querySelector('[data-testid="confirm-dialog"]').open`, { what: 'the dialog closed' });
  await sleep(300);
  check((await api('GET', `/v1/instances/${NAME}`)).data.golden !== null, 'Cancel leaves the golden measurement');

  // A wrong token: 401, said in the dialog, not kept.
  await page.click('[data-testid="reset-golden"]');
  await page.type('[data-testid="token-input"]', 'not-the-admin-token');
  await page.click('[data-testid="confirm-reset"]');
  await page.waitFor(`!document.querySelector('[data-testid="confirm-error"]').hidden`, { what: 'the refusal in the dialog' });
  check(/401|refused/i.test(await page.eval(`document.querySelector('[data-testid="confirm-error"]').textContent`)),
    'a wrong admin token is refused (401) in the dialog');
  check(await page.eval(`sessionStorage.length === 0`), 'a refused token is not kept');
  await shot('wrong-token', { viewport: true });

  // The right token.
  await page.type('[data-testid="token-input"]', adminToken);
  await page.click('[data-testid="confirm-reset"]');
  await page.waitFor(`!document.querySelector('[data-testid="confirm-dialog"]').open`, { what: 'the dialog closed after the reset' });
  await page.waitFor(`${golden} === 'none'`, { what: 'the golden shown as reset' });
  ok('"Reset golden measurement" with the admin token: the golden is gone');
  check((await api('GET', `/v1/instances/${NAME}`)).data.golden === null, 'the service has no golden for the instance');
  check(await page.eval(`Object.values(sessionStorage).includes(${q(adminToken)})`), 'the token is kept in sessionStorage for the tab');
  await shot('golden-reset');

  // The next attestation becomes the golden: green, seen by the open page.
  v = await attest(log2);
  check(v.colour === 'green', 'the attestation after the reset is green (new golden)', JSON.stringify(v));
  await page.waitFor(`${instanceColour} === 'green'`, { what: 'the instance page green again (auto-refresh)' });
  await page.waitFor(`${golden} === 'recorded'`, { what: 'the new golden shown as recorded' });
  ok('the instance page shows green');
  await shot('instance-green');
  await page.click('[data-testid="back"]');
  await page.waitFor(`${colourOfRow} === 'green'`, { what: 'the fleet green again' });
  ok('the fleet shows green again');
  await shot('fleet-green-again');

  // Something new in late boot (PCR 9), everything golden unchanged: yellow.
  const log3 = path.join(work, 'log-v2-late.bin');
  extendAll(writeLog(log3, 'v2 <img src=x onerror="window.__pwned=1">', true).slice(-1));
  v = await attest(log3);
  check(v.colour === 'yellow', 'a new late-boot event (PCR 9): yellow', JSON.stringify(v));
  await page.waitFor(`${colourOfRow} === 'yellow'`, { what: `${NAME} yellow in the fleet` });
  check(/yellow/i.test(await page.eval(`document.querySelector(${q(row)} + ' [data-testid="shield"]').textContent`)) &&
        await page.eval(`document.querySelector(${q(row)} + ' [data-testid="late-boot"]').getAttribute('data-colour')`) === 'yellow',
    'the fleet shows yellow, with late boot yellow');
  await shot('fleet-yellow');

  // A second reset reuses the token from sessionStorage: no token field.
  await page.click(`${row} [data-testid="instance-link"]`);
  await page.waitFor(`${instanceColour} === 'yellow'`, { what: 'the instance page, yellow' });
  await page.click('[data-testid="reset-golden"]');
  await page.waitFor(`document.querySelector('[data-testid="confirm-dialog"]').open`);
  check(await page.eval(`!!document.querySelector('[data-testid="token-input"]').closest('[hidden]')`),
    'the token is asked only once per tab');
  await page.click('[data-testid="confirm-cancel"]');

  // An unknown instance.
  await page.goto(`${daemon.base}/#/instances/no-such-instance`);
  await page.waitFor(`!document.querySelector('[data-testid="instance-notfound"]').hidden`, { what: 'the not-found message' });
  ok('an unknown instance says so');

  check(page.problems.length === 0, 'no script errors, console errors or CSP violations', page.problems.join('\n'));
}

try {
  await scenario();
} catch (e) {
  fail(`the scenario stopped: ${e.message}`, e.stack);
  if (page) await shot('failure').catch(() => {});
  if (page?.problems.length) console.log(`page problems:\n${page.problems.join('\n')}`);
  for (const f of ['shieldd.log', 'swtpm.log']) {
    const p = path.join(work, f);
    if (fs.existsSync(p)) console.log(`--- ${f} (tail)\n${fs.readFileSync(p, 'utf8').split('\n').slice(-25).join('\n')}`);
  }
}
await cleanup();
console.log(fails === 0 ? 'PASS' : `${fails} check(s) failed`);
process.exit(fails === 0 ? 0 : 1);
