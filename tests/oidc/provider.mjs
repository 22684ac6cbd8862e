// A real OpenID Provider for softland's sign-in tests: the certified `oidc-provider` package on
// loopback, with a control server beside it that the Rust tests drive.
//
//   node provider.mjs            prints one JSON line {"issuer": …, "control": …} when ready
//
// Control endpoints (POST, JSON bodies):
//   /login   {user}                    signs `user` in through the provider's real
//                                      authorization-code flow with PKCE (login and consent
//                                      forms, cookies, the token endpoint) → {id_token}
//   /sign    {claims, alg, kid, key}   a token made by the test: `key` is "current" (the
//                                      provider's signing key), "hs256-public" (HMAC keyed with
//                                      the public key's JSON, the classic confusion) or "none"
//   /rotate  {}                        a new signing key first, the old one still published
//   /retire  {}                        only the newest key published
//   /client  {redirect}                another redirect URI for the `softland` client
//   /browse  {url, user, until}        follows an authorization URL (softland's redirect) as
//                                      `user`'s browser until a redirect to `until`; → {location}
//
// Accounts: any login id is an account; its e-mail is `<id>@example.org` (verified), except
// `unverified` whose address is not verified.

import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const CLIENT = { id: 'softland', secret: 'softland-test-secret', redirect: 'http://127.0.0.1:9/callback' };
// Further redirect URIs (a softland server's /auth/callback), added by `/client`.
const redirects = [];

let keys = [await newKey('k1')];
let provider;
let server;
let port;

async function newKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

function publicJwk(k) {
  const { d, p, q, dp, dq, qi, ...pub } = k;
  return pub;
}

// One HTTP server for the provider's lifetime; rotating keys swaps the provider behind it.
server = http.createServer((req, res) => provider.callback()(req, res));
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
port = server.address().port;

function start() {
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      redirect_uris: [CLIENT.redirect, ...redirects],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys },
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: id,
        email: `${id}@example.org`,
        email_verified: id !== 'unverified',
      }),
    }),
    cookies: { keys: ['softland-test-cookie-key'] },
  });
  return issuer;
}

// A small cookie jar: name → value, from every response's Set-Cookie headers.
function jar() {
  const cookies = new Map();
  return {
    take(res) {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        cookies.set(pair.slice(0, i), pair.slice(i + 1));
      }
    },
    header() {
      return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    },
  };
}

// Follows an authorization request as `user`'s browser would — the login and consent forms,
// cookies — until the provider redirects to a URI starting with `until`; returns that URL.
async function authorize(start, user, until) {
  const cookies = jar();
  let url = start;
  for (let hop = 0; hop < 12; hop += 1) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: cookies.header() } });
    cookies.take(res);
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.toString().startsWith(until)) return next;
      url = next.toString();
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!prompt || !action) throw new Error(`unexpected page ${res.status}: ${html.slice(0, 300)}`);
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', user);
      form.set('password', 'any');
    }
    const submitted = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    cookies.take(submitted);
    url = new URL(submitted.headers.get('location'), url).toString();
  }
  throw new Error('too many redirects');
}

async function login(user) {
  const base = `http://127.0.0.1:${port}`;
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(`${base}/auth`);
  auth.search = new URLSearchParams({
    client_id: CLIENT.id,
    response_type: 'code',
    scope: 'openid email',
    redirect_uri: CLIENT.redirect,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: crypto.randomBytes(8).toString('hex'),
    nonce: crypto.randomBytes(8).toString('hex'),
  });
  const back = await authorize(auth.toString(), user, CLIENT.redirect);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back}`);
  const token = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirect, code_verifier: verifier,
    }),
  });
  const body = await token.json();
  if (!body.id_token) throw new Error(`token endpoint: ${JSON.stringify(body)}`);
  return { id_token: body.id_token };
}

async function sign({ claims, alg = 'RS256', kid, key = 'current' }) {
  const now = Math.floor(Date.now() / 1000);
  const body = {
    iss: `http://127.0.0.1:${port}`, aud: CLIENT.id, iat: now, exp: now + 300, ...claims,
  };
  if (key === 'none') {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc({ alg: 'none', typ: 'JWT', kid: kid ?? keys[0].kid })}.${enc(body)}.`;
  }
  if (key === 'hs256-public') {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk(keys[0])));
    return new jose.SignJWT(body).setProtectedHeader({ alg: 'HS256', kid: kid ?? keys[0].kid }).sign(secret);
  }
  const signing = await jose.importJWK(keys[0], 'RS256');
  return new jose.SignJWT(body).setProtectedHeader({ alg, kid: kid ?? keys[0].kid }).sign(signing);
}

const issuer = start();
const control = http.createServer(async (req, res) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const body = raw ? JSON.parse(raw) : {};
  try {
    let out;
    switch (req.url) {
      case '/login': out = await login(body.user); break;
      case '/sign': out = { token: await sign(body) }; break;
      case '/client': redirects.push(body.redirect); start(); out = {}; break;
      case '/browse': out = { location: (await authorize(body.url, body.user, body.until)).toString() }; break;
      case '/rotate': keys = [await newKey(`k${keys.length + 1}`), ...keys]; start(); out = { kid: keys[0].kid }; break;
      case '/retire': keys = [keys[0]]; start(); out = { kid: keys[0].kid }; break;
      default: res.writeHead(404).end(); return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e.stack ?? e));
  }
});
control.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer, control: `http://127.0.0.1:${control.address().port}` })}\n`);
});
