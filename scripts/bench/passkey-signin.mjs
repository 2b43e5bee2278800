// Passkey sign-in load for scripts/bench.sh (issue 12, "Figures to report"): a software
// authenticator (ES256, "none" attestation, the same layout as crates/server/tests/common/passkey.rs)
// adds a passkey to a demo patient, then CLIENTS loops sign in with it for SECONDS: each sign-in
// is the sign-in page's two calls, the ceremony (`passkey_sign_in_options`) and the signed answer
// (`passkey_sign_in`). No argon2 runs on this path. Prints one RESULT line as the wrk scripts do,
// counted per sign-in (both calls), not per request.
//
// Usage: node passkey-signin.mjs BASE_URL CLIENTS SECONDS   (env BENCH_PASSKEY_USER / _PASSWORD)
// BASE_URL must be the server's `public_url` (a host name: WebAuthn refuses IP addresses).
// Each sign-in comes from its own client address (X-Forwarded-For; the bench server trusts
// 127.0.0.1 as its proxy), as many patients would: the ceremony is limited per address.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const [base, clientsArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg ?? 8);
const seconds = Number(secondsArg ?? 10);
const user = process.env.BENCH_PASSKEY_USER ?? 'jchen';
const password = process.env.BENCH_PASSKEY_PASSWORD ?? 'granite-maple-lantern';
const origin = new URL(base).origin;
const rpId = new URL(base).hostname;

const b64url = (b) => Buffer.from(b).toString('base64url');

// The smallest CBOR encoder the attestation object needs: maps, text, bytes, integers.
function cbor(v) {
  const head = (major, n) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  };
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (Buffer.isBuffer(v)) return Buffer.concat([head(2, v.length), v]);
  // A map, as an array of [key, value] pairs (keys may be integers).
  return Buffer.concat([head(5, v.length), ...v.flatMap(([k, x]) => [cbor(k), cbor(x)])]);
}

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = publicKey.export({ format: 'jwk' });
const credId = randomBytes(16);
let userHandle = Buffer.alloc(0);

// rpIdHash | flags (UP, UV, and AT when attested) | signCount 0 (as platform passkeys send)
// | AAGUID | credential id | COSE key.
function authData(attested) {
  const parts = [createHash('sha256').update(rpId).digest(), Buffer.from([0x01 | 0x04 | (attested ? 0x40 : 0)]), Buffer.alloc(4)];
  if (attested) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(credId.length);
    const cose = cbor([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]);
    parts.push(Buffer.alloc(16), len, credId, cose);
  }
  return Buffer.concat(parts);
}

const clientData = (type, challenge) => Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
const unwrap = (options) => JSON.parse(options).publicKey;

let address = 0;
async function api(endpoint, form, headers = {}) {
  address += 1;
  const r = await fetch(`${base}/api/${endpoint}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`,
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: r.status, body: await r.text(), cookie: r.headers.get('set-cookie') };
}

// Setup: the patient signs in with the password and adds the passkey in Settings.
const signedIn = await api('sign_in', { portal: 'Patient', identifier: user, password });
if (signedIn.status !== 200) throw new Error(`sign-in as ${user}: ${signedIn.status} ${signedIn.body}`);
const cookie = signedIn.cookie.split(';')[0];
const started = await api('start_passkey', { name: 'Bench', current: password }, { cookie });
if (started.status !== 200) throw new Error(`start_passkey: ${started.status} ${started.body}`);
const creation = JSON.parse(started.body);
const createOptions = unwrap(creation.options);
userHandle = Buffer.from(createOptions.user.id, 'base64url');
const attested = authData(true);
const spki = publicKey.export({ format: 'der', type: 'spki' });
const registration = {
  id: b64url(credId),
  rawId: b64url(credId),
  type: 'public-key',
  authenticatorAttachment: 'platform',
  clientExtensionResults: {},
  response: {
    clientDataJSON: b64url(clientData('webauthn.create', createOptions.challenge)),
    attestationObject: b64url(cbor([['fmt', 'none'], ['attStmt', []], ['authData', attested]])),
    transports: ['internal'],
    authenticatorData: b64url(attested),
    publicKeyAlgorithm: -7,
    publicKey: b64url(spki),
  },
};
const confirmed = await api('confirm_passkey', { ceremony: creation.id, credential: JSON.stringify(registration) }, { cookie });
if (confirmed.status !== 200) throw new Error(`confirm_passkey: ${confirmed.status} ${confirmed.body}`);

async function passkeySignIn() {
  const o = await api('passkey_sign_in_options', {});
  if (o.status !== 200) return o.status;
  const c = JSON.parse(o.body);
  const challenge = unwrap(c.options).challenge;
  const data = authData(false);
  const cd = clientData('webauthn.get', challenge);
  const signature = sign('sha256', Buffer.concat([data, createHash('sha256').update(cd).digest()]), { key: privateKey, dsaEncoding: 'der' });
  const answer = {
    id: b64url(credId),
    rawId: b64url(credId),
    type: 'public-key',
    authenticatorAttachment: 'platform',
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64url(cd),
      authenticatorData: b64url(data),
      signature: b64url(signature),
      userHandle: b64url(userHandle),
    },
  };
  const r = await api('passkey_sign_in', { portal: 'Patient', ceremony: c.id, credential: JSON.stringify(answer) });
  return r.status;
}

// One sign-in first, so a broken setup fails loudly instead of measuring errors.
const first = await passkeySignIn();
if (first !== 200) throw new Error(`a passkey sign-in answered ${first}`);

const latencies = [];
let non2xx = 0;
const end = performance.now() + seconds * 1000;
const started_at = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const status = await passkeySignIn();
      latencies.push(performance.now() - t0);
      if (status !== 200) non2xx += 1;
    }
  }),
);
const elapsed = (performance.now() - started_at) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
console.log(
  `RESULT rps=${(latencies.length / elapsed).toFixed(1)} p50_ms=${pct(50).toFixed(1)} p95_ms=${pct(95).toFixed(1)} ` +
    `p99_ms=${pct(99).toFixed(1)} requests=${latencies.length} non2xx=${non2xx}`,
);
