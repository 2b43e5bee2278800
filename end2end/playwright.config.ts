import { defineConfig } from '@playwright/test';

const port = Number(process.env.E2E_PORT ?? 3100);
export const smtpPort = Number(process.env.E2E_SMTP_PORT ?? 3125);
export const mailPort = Number(process.env.E2E_MAIL_PORT ?? 3180);
export const shortPort = Number(process.env.E2E_SHORT_PORT ?? 3101);
export const passkeyPort = Number(process.env.E2E_PASSKEY_PORT ?? 3102);

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Debian's Chromium; Playwright's own browser download is never used (no network here).
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    trace: 'off',
    // The pages follow the browser's languages on a first visit (issue 13): the suite says
    // which it has, and the Spanish tests ask for es-US.
    locale: 'en-US',
  },
  projects: [
    { name: 'phone', use: { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true } },
    { name: 'desktop', use: { viewport: { width: 1280, height: 800 } } },
  ],
  // A real SMTP server for email (the tests read what CareKey sent from its HTTP side), and
  // CareKey itself; texts and calls go to CareKey's development outbox (no Twilio here).
  webServer: [
    {
      command: `node smtp-sink.mjs --smtp-port ${smtpPort} --http-port ${mailPort}`,
      url: `http://127.0.0.1:${mailPort}/healthz`,
      reuseExistingServer: false,
      timeout: 20_000,
    },
    {
      command: './start-server.sh',
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: { E2E_PORT: String(port), E2E_SMTP_PORT: String(smtpPort) },
    },
    // A second CareKey whose codes live 10 seconds, for the "expired code" path.
    {
      command: './start-server.sh',
      url: `http://127.0.0.1:${shortPort}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        E2E_PORT: String(shortPort),
        E2E_SMTP_PORT: String(smtpPort),
        CAREKEY_DEV_RECOVERY_TTL_SECONDS: '10',
        // Staff must add a second step here (SECURITY.md M2, the default): two-step.spec.ts
        // walks a new member of staff through it. No other test signs staff in here.
        CAREKEY_MFA_STAFF: 'required',
      },
    },
    // A third whose address is a host name (localhost): WebAuthn binds a passkey to a domain,
    // never to an IP address, so passkeys.spec.ts signs in here.
    {
      command: './start-server.sh',
      url: `http://127.0.0.1:${passkeyPort}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        E2E_PORT: String(passkeyPort),
        E2E_SMTP_PORT: String(smtpPort),
        E2E_PUBLIC_URL: `http://localhost:${passkeyPort}`,
      },
    },
  ],
});
