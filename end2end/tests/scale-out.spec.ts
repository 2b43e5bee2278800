import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Browser, BrowserContext, expect, Page, test } from '@playwright/test';
import { codeIn, expectAccessible, Mail, mailTo, signIn } from './helpers';

// Issue 16 item 6, scale-out proven: two `carekey serve` processes on one fresh PostgreSQL
// database and one shared key file, behind nginx from Debian (round-robin, started here), with
// the suite's SMTP server. A patient recovers their password by emailed code and signs in
// through the load balancer; the account is paused by wrong passwords that land on both
// instances, a front-desk user unlocks it on instance A, and the patient then signs in on
// instance B.
//
// Which instance served each request is read from nginx's access log (`$upstream_addr`) and
// from the instances' own logs. Where a step must land on one instance, the browser sends
// `X-CareKey-Upstream: a|b`, which this test's nginx (not deploy/nginx-carekey.conf) maps to a
// one-server upstream. The Origin stays the load balancer's, so the CSRF check (S3) passes.
//
// Needs PostgreSQL at CAREKEY_TEST_PG and nginx; without either it is skipped, except under
// CI=true, where it fails. It runs once, in the desktop project.

const ADMIN_PG = process.env.CAREKEY_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const CI = (process.env.CI ?? '').toLowerCase() === 'true';
const ROOT = path.resolve(__dirname, '..', '..');
const CAREKEY = path.join(ROOT, 'target', 'debug', 'carekey');
const SMTP_PORT = Number(process.env.E2E_SMTP_PORT ?? 3125);
const PIN = 'x-carekey-upstream';

const patient = {
  user: 'jchen',
  first: 'James',
  last: 'Chen',
  email: 'james.chen@example.com',
  masked: 'j•••@example.com',
  fresh: 'lantern-quarry-harbor-scale-6',
};

interface Instance { name: 'a' | 'b'; port: number; base: string; log: string; proc: ChildProcess }

let dir = '';
let database = '';
let lb = '';
let accessLog = '';
let nginx: ChildProcess | undefined;
const instances: Instance[] = [];

/** Skips with `reason`, or under CI=true fails: the walk must be proved there. */
function unavailable(reason: string): never {
  if (CI) throw new Error(`${reason}; with CI=true the scale-out walk must run, not be skipped`);
  console.log(`skipped: ${reason}`);
  test.skip(true, reason);
  throw new Error('unreachable');
}

function nginxBinary(): string | undefined {
  const candidates = [process.env.NGINX_PATH, 'nginx', '/usr/sbin/nginx'].filter(Boolean) as string[];
  return candidates.find((c) => spawnSync(c, ['-v'], { stdio: 'ignore' }).status === 0);
}

function psql(url: string, sql: string) {
  return spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The settings both instances share; `carekey` reads nothing else (no carekey.toml in `dir`). */
function settings(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: '1',
    RUST_LOG: 'carekey=info,carekey_server=info,warn',
    DATABASE_URL: withDatabase(ADMIN_PG, database),
    // One key for every instance: a code one issues must verify on the other, and a message
    // one seals must open on the other.
    CAREKEY_SECRET_KEY_FILE: path.join(dir, 'secret.key'),
    // One audit key too: an instance under another key refuses to start.
    CAREKEY_AUDIT_KEY_FILE: path.join(dir, 'audit.key'),
    CAREKEY_PUBLIC_URL: lb,
    CAREKEY_HTTP_TRUSTED_PROXIES: '127.0.0.1',
    // The staff unlock below signs frontdesk in with a password alone; the required second
    // step for staff has its own test (two-step.spec.ts).
    CAREKEY_MFA_STAFF: 'optional',
    CAREKEY_CLINIC_NAME: 'Hillside Family Clinic',
    CAREKEY_CLINIC_PHONE: '(503) 555-0100',
    CAREKEY_SMTP_HOST: '127.0.0.1',
    CAREKEY_SMTP_PORT: String(SMTP_PORT),
    CAREKEY_SMTP_TLS: 'none',
    CAREKEY_SMTP_FROM: 'Hillside Family Clinic <portal@hillside.example>',
    ...extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(CAREKEY, args, { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`carekey ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
}

async function waitReady(url: string, what: string, proc: ChildProcess, log: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`${what} exited before it was ready:\n${fs.readFileSync(log, 'utf8')}`);
    }
    try {
      if ((await fetch(url)).status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after 30 s:\n${fs.readFileSync(log, 'utf8')}`);
}

/** This test's nginx: round-robin by default, one instance when the browser pins it. */
function nginxConf(port: number, a: Instance, b: Instance): string {
  return `# Generated by end2end/tests/scale-out.spec.ts; deploy/nginx-carekey.conf is the example for clinics.
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log info;
events { worker_connections 256; }
http {
    client_body_temp_path ${dir}/nginx-body;
    proxy_temp_path ${dir}/nginx-proxy;
    fastcgi_temp_path ${dir}/nginx-fastcgi;
    uwsgi_temp_path ${dir}/nginx-uwsgi;
    scgi_temp_path ${dir}/nginx-scgi;
    # Which instance answered each request, and whether the test pinned it.
    log_format upstreams '$upstream_addr $status "$request" pin=$http_${PIN.replace(/-/g, '_')}';
    access_log ${accessLog} upstreams;

    upstream carekey { server 127.0.0.1:${a.port}; server 127.0.0.1:${b.port}; keepalive 8; }
    upstream carekey_a { server 127.0.0.1:${a.port}; }
    upstream carekey_b { server 127.0.0.1:${b.port}; }
    map $http_${PIN.replace(/-/g, '_')} $carekey_pool { default carekey; a carekey_a; b carekey_b; }

    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://$carekey_pool;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Stream large answers (the wasm bundles) rather than spooling them to disk.
            proxy_max_temp_file_size 0;
        }
    }
}
`;
}

async function stop(proc: ChildProcess | undefined, signal: NodeJS.Signals) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface Hit { upstream: string; status: number; method: string; path: string; pin: string }

function hits(): Hit[] {
  if (!fs.existsSync(accessLog)) return [];
  return fs.readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).map((line) => {
    const m = /^(\S+(?:, \S+)*) (\d{3}) "(\S+) (\S+) [^"]*" pin=(\S*)$/.exec(line);
    if (!m) throw new Error(`unexpected access log line: ${line}`);
    return { upstream: m[1], status: Number(m[2]), method: m[3], path: m[4], pin: m[5] };
  });
}

function logOf(i: Instance): string {
  return fs.readFileSync(i.log, 'utf8');
}

function count(text: string, needle: string): number {
  return text.split('\n').filter((l) => l.includes(needle)).length;
}

test.beforeAll(async ({}, info) => {
  test.skip(info.project.name !== 'desktop', 'runs once, in the desktop project');
  test.setTimeout(120_000);
  const ngx = nginxBinary();
  if (!ngx) unavailable('nginx is not installed (Debian: apt-get install nginx-light)');
  if (spawnSync('psql', ['--version'], { stdio: 'ignore' }).status !== 0) {
    unavailable('psql is not installed (Debian: apt-get install postgresql-client)');
  }
  const probe = psql(ADMIN_PG, 'SELECT 1');
  if (probe.status !== 0) unavailable(`no PostgreSQL at ${ADMIN_PG} (${probe.stderr.trim()})`);
  if (!fs.existsSync(CAREKEY)) throw new Error(`${CAREKEY} is missing: cargo build --bin carekey`);

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carekey-scale-'));
  // nginx's worker runs as nobody when the test runs as root; it only reads what the master
  // opened, but it must be able to enter the directory.
  fs.chmodSync(dir, 0o755);
  accessLog = path.join(dir, 'nginx-access.log');
  database = `carekey_scale_${randomBytes(6).toString('hex')}`;
  const created = psql(ADMIN_PG, `CREATE DATABASE ${database}`);
  if (created.status !== 0) throw new Error(`could not create ${database}: ${created.stderr}`);

  const lbPort = await freePort();
  lb = `http://127.0.0.1:${lbPort}`;
  // The shared key file, made once and copied to every instance (here: one path for both).
  fs.writeFileSync(path.join(dir, 'secret.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

  // Migrations and the demo accounts once, as a deployment would (demo-data needs dev mode);
  // the instances themselves run without it, as in a clinic.
  run(['migrate'], settings({ CAREKEY_DATA_DIR: path.join(dir, 'setup') }));
  run(['demo-data'], settings({ CAREKEY_DATA_DIR: path.join(dir, 'setup'), CAREKEY_DEV_MODE: 'true' }));

  for (const name of ['a', 'b'] as const) {
    const port = await freePort();
    const log = path.join(dir, `instance-${name}.log`);
    const out = fs.openSync(log, 'a');
    const proc = spawn(CAREKEY, ['serve'], {
      cwd: dir,
      env: settings({ CAREKEY_DATA_DIR: path.join(dir, name), CAREKEY_BIND: `127.0.0.1:${port}` }),
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    instances.push({ name, port, base: `http://127.0.0.1:${port}`, log, proc });
  }
  for (const i of instances) await waitReady(`${i.base}/readyz`, `instance ${i.name}`, i.proc, i.log);

  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(lbPort, instances[0], instances[1]));
  const ngxLog = path.join(dir, 'nginx.out');
  const out = fs.openSync(ngxLog, 'a');
  nginx = spawn(ngx!, ['-p', dir, '-c', conf, '-e', path.join(dir, 'nginx-error.log'), '-g', 'daemon off;'], {
    cwd: dir,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await waitReady(`${lb}/readyz`, 'nginx', nginx, ngxLog);
});

test.afterAll(async () => {
  await stop(nginx, 'SIGQUIT');
  for (const i of instances) await stop(i.proc, 'SIGTERM');
  if (database) {
    const dropped = psql(ADMIN_PG, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    if (dropped.status !== 0) console.error(`could not drop ${database}: ${dropped.stderr}`);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test.afterEach(async ({}, info) => {
  if (info.status === info.expectedStatus || !dir) return;
  for (const file of ['instance-a.log', 'instance-b.log', 'nginx-access.log', 'nginx-error.log']) {
    const p = path.join(dir, file);
    if (fs.existsSync(p)) await info.attach(file, { body: fs.readFileSync(p), contentType: 'text/plain' });
  }
});

async function newBrowser(browser: Browser, pin?: 'a' | 'b'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: lb,
    locale: 'en-US',
    extraHTTPHeaders: pin ? { [PIN]: pin } : {},
  });
  return { context, page: await context.newPage() };
}

/** The email whose subject carries `reference` (the suite's other servers mail this sink too). */
async function mailWith(reference: string): Promise<Mail> {
  let found: Mail | undefined;
  await expect.poll(async () => {
    found = (await mailTo(patient.email)).find((m) => m.subject.includes(reference));
    return found !== undefined;
  }, { timeout: 20_000 }).toBe(true);
  return found!;
}

test('two instances behind nginx: recovery by emailed code, sign-in, and an unlock on one seen by the other', async ({ browser }) => {
  test.setTimeout(180_000);
  const [a, b] = instances;
  const upstream = (i: Instance) => `127.0.0.1:${i.port}`;
  const byUpstream = (u: string) => instances.find((i) => upstream(i) === u);

  // Neither instance made a key of its own: both use the file they were given.
  for (const i of instances) expect(logOf(i)).not.toContain('created a new server key');
  let mark = hits().length;

  await test.step('forgot password by emailed code through the load balancer', async () => {
    const { context, page } = await newBrowser(browser);
    await page.goto('/');
    await page.getByRole('link', { name: 'Forgot your password or username?' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Forgot your password?' })).toBeFocused();
    await page.getByLabel('Username or email').fill(patient.user);
    await page.getByLabel('Email me a code').check();
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Check your email' })).toBeVisible();
    const shown = await page.getByText(/[A-Z0-9]{4}, so you know it is the newest one/).textContent();
    const reference = /([A-Z0-9]{4}), so you know/.exec(shown ?? '')![1];
    const mail = await mailWith(reference);

    // The instance whose dispatcher sent the code opened the sealed message; the code is
    // entered on the other one, which checks it against the HMAC stored by whichever
    // instance's worker issued it. With two different keys one of these would fail.
    let sender: Instance | undefined;
    await expect.poll(() => {
      sender = instances.find((i) => logOf(i).split('\n').some((l) => l.includes('outbox: sent') && l.includes('reset_code')));
      return sender?.name;
    }, { timeout: 15_000 }).toBeDefined();
    const checker = sender === a ? b : a;
    await page.setExtraHTTPHeaders({ [PIN]: checker.name });
    const code = codeIn(mail.text);
    await page.getByLabel('Code', { exact: true }).fill(`${code.slice(0, 4)} ${code.slice(4)}`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Choose a new password' })).toBeVisible();
    await expect(page.getByText(`Thank you: the code we sent to ${patient.masked} worked.`)).toBeVisible();
    const verified = hits().slice(mark).filter((h) => h.path === '/api/verify_reset_code');
    expect(verified.map((h) => [h.upstream, h.status])).toEqual([[upstream(checker), 200]]);

    // Back to round-robin for the rest of the walk.
    await page.setExtraHTTPHeaders({});
    await page.getByLabel('New password', { exact: true }).fill(patient.fresh);
    await expect(page.getByText('This password meets all the rules.')).toBeVisible();
    await page.getByLabel('Repeat new password', { exact: true }).fill(patient.fresh);
    await page.getByRole('button', { name: 'Save new password' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Your password has been changed' })).toBeVisible();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await signIn(page, patient.user, patient.fresh);
    await expect(page.getByRole('heading', { level: 1, name: `Welcome, ${patient.first}` })).toBeVisible();
    await expectAccessible(page);
    await context.close();

    // Round-robin spread the walk's own requests over both instances.
    const walk = hits().slice(mark).filter((h) => h.pin === '-');
    const used = new Set(walk.map((h) => byUpstream(h.upstream)?.name));
    expect([...used].sort(), `walk requests by upstream: ${walk.map((h) => h.upstream).join(' ')}`).toEqual(['a', 'b']);
    expect(walk.every((h) => h.status < 500)).toBe(true);
    expect(walk.some((h) => h.path === '/api/sign_in' && h.status === 200)).toBe(true);
  });

  await test.step('wrong passwords on both instances pause the account', async () => {
    mark = hits().length;
    const { context, page } = await newBrowser(browser);
    for (let n = 0; n < 5; n++) {
      // A, B, A, B, A: the five failures that pause an account, counted across instances.
      await page.setExtraHTTPHeaders({ [PIN]: n % 2 === 0 ? 'a' : 'b' });
      await signIn(page, patient.user, `not-the-right-password-${n}`);
      await expect(page.getByRole('alert')).toContainText('did not match our records');
    }
    await context.close();
    const failures = hits().slice(mark).filter((h) => h.method === 'POST' && h.path === '/api/sign_in');
    expect(failures.map((h) => byUpstream(h.upstream)?.name)).toEqual(['a', 'b', 'a', 'b', 'a']);
  });

  const onB = await newBrowser(browser, 'b');
  await test.step('instance B refuses the right password while the account is paused', async () => {
    // The answer is the one anybody gets for a wrong password (issue 11), so only the pause,
    // which A and B both counted into, can explain the refusal of the right one.
    await signIn(onB.page, patient.user, patient.fresh);
    await expect(onB.page.getByRole('alert')).toContainText('did not match our records');
    await expect(onB.page).not.toHaveURL(/\/home$/);
    // A failed sign-in fetches the recovery pages ahead, at the browser's lowest priority
    // (issue 15): let those requests (pinned to B) finish before the front desk's, which must
    // all go to A, are counted.
    await onB.page.waitForLoadState('networkidle');
    await expect.poll(() => hits().some((h) => h.pin === 'b' && /^\/recovery\/[^/]+_bg\.wasm$/.test(h.path))).toBe(true);
  });

  await test.step('front desk unlocks the account on instance A', async () => {
    mark = hits().length;
    const { context, page } = await newBrowser(browser, 'a');
    await page.goto('/staff');
    await page.getByLabel('Username or email').fill('frontdesk');
    await page.getByLabel('Password', { exact: true }).fill('front-desk-coffee-morning');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Patients' }).first().click();
    await page.getByLabel('Name, date of birth or MRN').fill(patient.last);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: new RegExp(`${patient.last}, ${patient.first}`) }).click();
    await expect(page.getByText(/Paused after failed sign-ins until/)).toBeVisible();
    await page.getByRole('button', { name: 'Unlock account' }).click();
    await expect(page.getByText('Active', { exact: true })).toBeVisible();
    await expectAccessible(page);
    await context.close();
    const staff = hits().slice(mark);
    expect(staff.length).toBeGreaterThan(0);
    expect(staff.filter((h) => byUpstream(h.upstream) !== a)).toEqual([]);
    expect(staff.filter((h) => h.path === '/api/portal_unlock').map((h) => h.status)).toEqual([200]);
  });

  await test.step('instance B lets the patient in at once', async () => {
    mark = hits().length;
    const before = count(logOf(b), 'signed in');
    await signIn(onB.page, patient.user, patient.fresh);
    await expect(onB.page.getByRole('heading', { level: 1, name: `Welcome, ${patient.first}` })).toBeVisible();
    await onB.context.close();
    const signIns = hits().slice(mark).filter((h) => h.method === 'POST' && h.path === '/api/sign_in');
    expect(signIns.map((h) => [byUpstream(h.upstream)?.name, h.status])).toEqual([['b', 200]]);
    // B's own log agrees: one more sign-in there.
    await expect.poll(() => count(logOf(b), 'signed in')).toBe(before + 1);
  });

  // Both instances' own logs show the work they did (the staff and patients signed in on each).
  for (const i of instances) expect(count(logOf(i), 'signed in'), `instance ${i.name} log`).toBeGreaterThan(0);
});
