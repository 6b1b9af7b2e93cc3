// jwtcraft.js - forge ID tokens for tests/pam/faults.sh.
//
//   node jwtcraft.js DIR init
//       new keys in DIR/keys.json; DIR/jwks.json publishes rsa (kid
//       k-rsa, 2048 bits), ec (k-ec, P-256), ed (k-ed, Ed25519) and
//       small (k-small, RSA 1024); DIR/jwks-small.json only small.
//       "imposter" is an RSA key with kid k-rsa that is not published.
//   node jwtcraft.js DIR sign ALG KEY HEADER PAYLOAD [SIGMODE]
//       print a compact JWS.  HEADER is merged over
//       {"alg":ALG,"kid":<kid of KEY>,"typ":"JWT"} (null deletes).
//       ALG RS256/384/512, PS256/384/512, ES256, EdDSA: signed with KEY.
//       ALG HS256/384/512: HMAC keyed with KEY's public key in the
//       encoding SIGMODE: pem (SPKI PEM), pkcs1 (RSA PEM), der, jwk (the
//       JWK JSON), n (the raw modulus), x (the JWK's n or x text).
//       Any other ALG (none, NONE, ...): empty signature.
//       SIGMODE for signed tokens: zero (all-zero signature of the right
//       length), short (one byte less), long (one byte more), der
//       (ECDSA in DER instead of R||S).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const [dir, cmd, ...args] = process.argv.slice(2);
const b64u = (b) => Buffer.from(b).toString('base64url');

function merge(base, over) {
  const o = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete o[k]; else o[k] = v;
  }
  return o;
}

function pub(k) {
  const j = crypto.createPublicKey(k).export({ format: 'jwk' });
  return j;
}

if (cmd === 'init') {
  const gen = (type, opt) => crypto.generateKeyPairSync(type, opt).privateKey
    .export({ format: 'pem', type: 'pkcs8' });
  const keys = {
    rsa: { kid: 'k-rsa', pem: gen('rsa', { modulusLength: 2048 }) },
    ec: { kid: 'k-ec', pem: gen('ec', { namedCurve: 'P-256' }) },
    ed: { kid: 'k-ed', pem: gen('ed25519') },
    small: { kid: 'k-small', pem: gen('rsa', { modulusLength: 1024 }) },
    imposter: { kid: 'k-rsa', pem: gen('rsa', { modulusLength: 2048 }) },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify(keys));
  const jwk = (name) => ({ ...pub(keys[name].pem), kid: keys[name].kid, use: 'sig' });
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({
    keys: [jwk('rsa'), jwk('ec'), jwk('ed'), jwk('small')],
  }));
  fs.writeFileSync(path.join(dir, 'jwks-small.json'), JSON.stringify({ keys: [jwk('small')] }));
  process.exit(0);
}

if (cmd !== 'sign') {
  process.stderr.write('usage: jwtcraft.js DIR init | DIR sign ALG KEY HEADER PAYLOAD [SIGMODE]\n');
  process.exit(2);
}
const keys = JSON.parse(fs.readFileSync(path.join(dir, 'keys.json'), 'utf8'));
const [alg, keyName, hdrJson, payJson, sigmode = ''] = args;
const key = keys[keyName];
const header = merge({ alg, kid: key.kid, typ: 'JWT' }, JSON.parse(hdrJson || '{}'));
// The payload is used as given (text), so tests can send exact JSON.
const input = `${b64u(JSON.stringify(header))}.${b64u(payJson)}`;
const priv = crypto.createPrivateKey(key.pem);
let sig;
const hashOf = (a) => 'sha' + a.slice(2);
if (/^(RS|PS)(256|384|512)$/.test(alg)) {
  sig = crypto.sign(hashOf(alg), Buffer.from(input), {
    key: priv,
    padding: alg[0] === 'P' ? crypto.constants.RSA_PKCS1_PSS_PADDING : crypto.constants.RSA_PKCS1_PADDING,
    saltLength: alg[0] === 'P' ? Number(alg.slice(2)) / 8 : undefined,
  });
} else if (alg === 'ES256') {
  sig = crypto.sign('sha256', Buffer.from(input), {
    key: priv, dsaEncoding: sigmode === 'der' ? 'der' : 'ieee-p1363',
  });
} else if (alg === 'EdDSA') {
  sig = crypto.sign(null, Buffer.from(input), priv);
} else if (/^HS(256|384|512)$/.test(alg)) {
  const pk = crypto.createPublicKey(priv);
  const j = pk.export({ format: 'jwk' });
  let secret;
  switch (sigmode) {
    case 'pem': secret = pk.export({ format: 'pem', type: 'spki' }); break;
    case 'pkcs1': secret = pk.export({ format: 'pem', type: 'pkcs1' }); break;
    case 'der': secret = pk.export({ format: 'der', type: 'spki' }); break;
    case 'jwk': secret = JSON.stringify({ ...j, kid: key.kid, use: 'sig' }); break;
    case 'n': secret = Buffer.from(j.n || j.x, 'base64url'); break;
    case 'x': secret = j.n || j.x; break;
    default: throw new Error('HS needs an encoding');
  }
  sig = crypto.createHmac(hashOf(alg), secret).update(input).digest();
} else {
  sig = Buffer.alloc(0);
}
if (sigmode === 'zero') sig = Buffer.alloc(sig.length);
if (sigmode === 'short') sig = sig.subarray(0, sig.length - 1);
if (sigmode === 'long') sig = Buffer.concat([sig, Buffer.from([0])]);
process.stdout.write(`${input}.${b64u(sig)}`);
