// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe
// (fd 3: commands to the browser, fd 4: answers and events, each message
// one JSON text ended by a NUL byte). No npm package is needed: this is
// what Puppeteer's PipeTransport does, in fifty lines.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';

export class Browser extends EventEmitter {
  static async launch({ executablePath, userDataDir, args = [] }) {
    const proc = spawn(executablePath, [
      '--headless=new', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu',
      '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-sync',
      '--disable-background-networking', '--disable-component-update', '--mute-audio',
      '--password-store=basic', '--use-mock-keychain',
      `--user-data-dir=${userDataDir}`, ...args, 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const b = new Browser(proc);
    const stderr = [];
    proc.stderr.on('data', (d) => { stderr.push(d); if (stderr.length > 200) stderr.shift(); });
    b.stderr = () => Buffer.concat(stderr).toString();
    await b.send('Browser.getVersion');
    return b;
  }

  constructor(proc) {
    super();
    this.proc = proc;
    this.id = 0;
    this.pending = new Map();
    this.closed = false;
    let buf = Buffer.alloc(0);
    proc.stdio[4].on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let nul;
      while ((nul = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, nul).toString('utf8'));
        buf = buf.subarray(nul + 1);
        this.dispatch(msg);
      }
    });
    proc.on('exit', (code, sig) => {
      this.closed = true;
      for (const { reject, method } of this.pending.values())
        reject(new Error(`chromium exited (${code ?? sig}) during ${method}`));
      this.pending.clear();
    });
  }

  dispatch(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message} ${msg.error.data ?? ''}`));
      else p.resolve(msg.result);
    } else {
      this.emit('event', msg);
    }
  }

  send(method, params = {}, sessionId) {
    if (this.closed) return Promise.reject(new Error(`chromium is not running (${method})`));
    const id = ++this.id;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + '\0');
    });
  }

  async newPage() {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.init();
    return page;
  }

  // Close the browser and wait until its process is gone (it writes to the profile until then).
  async close() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    const wait = (ms) => Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
    this.send('Browser.close').catch(() => { /* it exits while answering */ });
    await wait(5000);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await wait(5000);
    }
  }
}

export class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.problems = [];   // uncaught exceptions, console errors, CSP violations
    this.log = [];
    browser.on('event', (m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.exceptionThrown') {
        const d = m.params.exceptionDetails;
        this.problems.push(`exception: ${d.exception?.description ?? d.text}`);
      } else if (m.method === 'Runtime.consoleAPICalled') {
        const text = m.params.args.map((a) => a.value ?? a.description ?? '').join(' ');
        this.log.push(`console.${m.params.type}: ${text}`);
        if (m.params.type === 'error') this.problems.push(`console.error: ${text}`);
      } else if (m.method === 'Log.entryAdded') {
        const e = m.params.entry;
        this.log.push(`${e.source}/${e.level}: ${e.text} ${e.url ?? ''}`);
        if (e.level === 'error' && e.source !== 'network') this.problems.push(`${e.source}: ${e.text}`);
      }
    });
  }

  send(method, params) { return this.browser.send(method, params, this.sessionId); }

  async init() {
    await this.send('Page.enable');
    await this.send('Runtime.enable');
    await this.send('Log.enable');
    await this.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  }

  async goto(url) {
    await this.send('Page.navigate', { url });
    await this.waitFor(`document.readyState === 'complete'`, { what: `${url} loaded` });
  }

  // Evaluate an expression (may be a promise) in the page; returns its JSON value.
  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true, userGesture: true });
    if (r.exceptionDetails)
      throw new Error(`in page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text} (${expression})`);
    return r.result.value;
  }

  // Poll until the expression is truthy; returns its value.
  async waitFor(expression, { timeout = 15000, what = expression } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await this.eval(expression);
        if (v) return v;
      } catch (e) { last = e; }
      if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  // A real mouse click in the middle of the (visible) element.
  async click(selector) {
    const sel = JSON.stringify(selector);
    const box = await this.waitFor(`(() => {
      const e = document.querySelector(${sel});
      if (!e || e.disabled) return null;
      e.scrollIntoView({ block: 'center', inline: 'center' });
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return null;
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    })()`, { what: `${selector} clickable` });
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased'])
      await this.send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
  }

  // Focus an input with a click, then type the text (as an IME would insert it).
  async type(selector, text) {
    await this.click(selector);
    await this.send('Input.insertText', { text });
  }

  // The whole page, or with {viewport: true} what is on screen (a modal dialog).
  async screenshot(path, { viewport = false } = {}) {
    const fs = await import('node:fs');
    if (viewport) {
      const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
      fs.writeFileSync(path, Buffer.from(data, 'base64'));
      return path;
    }
    const m = await this.send('Page.getLayoutMetrics');
    const size = m.cssContentSize ?? m.contentSize;
    const clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), 8000), scale: 1 };
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', clip, captureBeyondViewport: true });
    fs.writeFileSync(path, Buffer.from(data, 'base64'));
    return path;
  }
}
