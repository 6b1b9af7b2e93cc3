// faultsrv.js - hostile servers for tests/pam/faults.sh, on 127.0.0.1 only.
//
//   node faultsrv.js sink COUNTFILE
//       TCP: accept connections and never answer; COUNTFILE holds the
//       number of connections so far (and of bytes received after it,
//       as "N connections, M bytes").  A listener that never answers, a
//       redirect target or a proxy that must stay untouched.
//   node faultsrv.js trickle CERT KEY MS BODYFILE
//       HTTPS: answer every request with a 200 whose every byte, headers
//       included, comes MS milliseconds after the one before.
//   node faultsrv.js raw CERT KEY BODYFILE [chunked]
//       HTTPS: answer every request with 200, Content-Type
//       application/json and exactly the bytes of BODYFILE (with
//       Content-Length, or chunked).
//
// Prints "READY <port>" on stdout once listening.  SIGTERM ends it.
'use strict';
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const [mode, ...args] = process.argv.slice(2);
process.on('SIGTERM', () => process.exit(0));

function ready(server) {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`READY ${server.address().port}\n`);
  });
}

// Read one HTTP request head (we do not care about its body), then go.
function onRequest(sock, fn) {
  let buf = '';
  let done = false;
  sock.on('data', (d) => {
    if (done) return;
    buf += d.toString('latin1');
    if (buf.includes('\r\n\r\n')) { done = true; fn(); }
  });
  sock.on('error', () => {});
}

if (mode === 'sink') {
  const file = args[0];
  let conns = 0;
  let bytes = 0;
  const save = () => fs.writeFileSync(file, `${conns} connections, ${bytes} bytes\n`);
  save();
  const held = [];
  const server = net.createServer((sock) => {
    conns++;
    save();
    held.push(sock);
    sock.on('data', (d) => { bytes += d.length; save(); });
    sock.on('error', () => {});
  });
  ready(server);
} else if (mode === 'trickle') {
  const [cert, key, ms, bodyFile] = args;
  const body = fs.readFileSync(bodyFile);
  const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (sock) => {
    onRequest(sock, () => {
      const resp = Buffer.concat([Buffer.from(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`),
      body]);
      let i = 0;
      const t = setInterval(() => {
        if (sock.destroyed || i >= resp.length) { clearInterval(t); return; }
        sock.write(resp.subarray(i, i + 1));
        i++;
      }, Number(ms));
      sock.on('close', () => clearInterval(t));
    });
  });
  server.on('tlsClientError', () => {});
  ready(server);
} else if (mode === 'raw') {
  const [cert, key, bodyFile, chunked] = args;
  const body = fs.readFileSync(bodyFile);
  const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (sock) => {
    onRequest(sock, () => {
      if (chunked) {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
          'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
        for (let i = 0; i < body.length; i += 65536) {
          const part = body.subarray(i, i + 65536);
          sock.write(part.length.toString(16) + '\r\n');
          sock.write(part);
          sock.write('\r\n');
        }
        sock.end('0\r\n\r\n');
      } else {
        sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        sock.end(body);
      }
    });
  });
  server.on('tlsClientError', () => {});
  ready(server);
} else {
  process.stderr.write('usage: faultsrv.js sink|trickle|raw ...\n');
  process.exit(2);
}
