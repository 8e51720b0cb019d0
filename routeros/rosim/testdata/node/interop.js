// Drives failwatch's RouterOS emulator with node-routeros, an independent
// client: login, a print with a query, a set, and a log follow that is
// cancelled. Prints one JSON line per step; the Go test checks them.
'use strict';
const { RouterOSAPI } = require('node-routeros');

const [host, port] = process.argv[2].split(':');
const out = (step, data) => console.log(JSON.stringify({ step, data }));

(async () => {
  const conn = new RouterOSAPI({ host, port: Number(port), user: 'admin', password: '', timeout: 5 });
  await conn.connect();
  out('login', 'ok');

  const recs = await conn.write('/ip/dns/static/print', ['?comment=Server Public']);
  out('print', recs);

  await conn.write('/ip/dns/static/set', ['=.id=' + recs[0]['.id'], '=disabled=yes']);
  const disabled = await conn.write('/ip/dns/static/print', ['=.proplist=.id', '?disabled=true']);
  out('set', disabled.map((r) => r['.id']));

  const lines = await new Promise((resolve, reject) => {
    const got = [];
    const stream = conn.stream(['/log/print', '=follow-only='], (err, packet) => {
      if (err) return reject(err);
      if (!packet) return;
      got.push(packet.message);
      stream.stop().then(() => resolve(got), reject);
    });
    setTimeout(() => {
      conn.write('/ip/dns/static/enable', ['=.id=' + recs[0]['.id']]).catch(reject);
    }, 200);
  });
  out('follow', lines);

  const after = await conn.write('/system/identity/print');
  out('after-cancel', after);
  conn.close();
})().catch((e) => {
  console.error('interop failed:', e && e.message ? e.message : e);
  process.exit(1);
});
