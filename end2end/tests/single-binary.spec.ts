import { expect, test } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Issue 16: one file to deploy. The release binary (built by scripts/test.sh after the browser
// apps) is copied alone into an empty directory and started with no configuration file and no
// dist/ folder: the apps it serves are the ones built into it.
const release = path.resolve(__dirname, '../../target/release/carekey');
const port = Number(process.env.E2E_ALONE_PORT ?? 3190);
const origin = `http://127.0.0.1:${port}`;

async function ready(child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`carekey exited ${child.exitCode}:\n${log()}`);
    try {
      const r = await fetch(`${origin}/readyz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`carekey never became ready:\n${log()}`);
}

test('the release binary alone in an empty directory serves the portal, the staff console and the API', async ({ page }, info) => {
  test.skip(info.project.name !== 'desktop', 'one run is enough: the binary does not depend on the screen');
  if (!fs.existsSync(release)) {
    // scripts/test.sh builds it; under CI a missing binary is a failure, not a skip.
    expect(process.env.CI !== 'true', `no release binary at ${release}`).toBe(true);
    test.skip(true, `no release binary at ${release} (cargo build --release --bin carekey)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carekey-alone-'));
  const bin = path.join(dir, 'carekey');
  fs.copyFileSync(release, bin);
  fs.chmodSync(bin, 0o755);
  expect(fs.readdirSync(dir)).toEqual(['carekey']);

  // Nothing from the suite's own servers leaks in: only a port and the matching origin.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    CAREKEY_BIND: `127.0.0.1:${port}`,
    CAREKEY_PUBLIC_URL: origin,
  };
  let out = '';
  const child = spawn(bin, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  try {
    await ready(child, () => out);
    expect(out).toContain('Browser apps:   built into this binary');
    expect(out).not.toContain('browser apps missing');
    // It made its own SQLite database and key beside it.
    expect(fs.existsSync(path.join(dir, 'data', 'carekey.db'))).toBe(true);

    const home = await fetch(`${origin}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    const wasm = html.match(/href="?(\/carekey-client-[0-9a-f]+_bg\.wasm)/)?.[1];
    expect(wasm, 'the page links its wasm').toBeTruthy();

    const asset = await fetch(`${origin}${wasm}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('application/wasm');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // fetch() decodes brotli itself; what arrived was the built-in brotli copy.
    expect(asset.headers.get('content-encoding')).toBe('br');

    const staff = await fetch(`${origin}/staff`);
    expect(staff.status).toBe(200);
    expect(await staff.text()).toMatch(/carekey-staff-[0-9a-f]+_bg\.wasm/);

    const api = await fetch(`${origin}/api/portal_info`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toHaveProperty('clinic_name');

    // And a person sees the sign-in page it serves.
    await page.goto(`${origin}/`);
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in to your patient portal' })).toBeVisible();
    await page.goto(`${origin}/staff`);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
