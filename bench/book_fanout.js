'use strict';
// Book fan-out at a max rate (issue 17): N WebSocket clients, each
// subscribed to `book` (depth 10) on K symbols with `max_hz`, against a
// marketd whose simulator changes every book fast. Checks every stream's seq
// continuity (`seq - merged` = the previous seq) and the rate each stream
// actually gets, and prints ONE line:
//
//   BOOKHZ clients=N streams=N max_hz=N delivered_per_s=N
//     stream_max_per_s=N gaps=N closed=N server_cpu_pct=N client_cpu_pct=N
//
//   stream_max_per_s  the most book_update messages one stream received in
//                     any whole second of the window (max_hz caps it)
//   server_cpu_pct    --server-pid's CPU in the window (100 = one core)
//
// Uses the node-ws peer's `ws` and lib.js (bench/book_fanout.sh installs them).
//   node bench/book_fanout.js --url ws://127.0.0.1:18097/ws --clients 1000
//        --per-client 10 --max-hz 10 --warmup 2 --duration 10 --server-pid PID
const path = require('path');
const peer = path.join(__dirname, '..', '..', 'shared', 'peers', 'node-ws');
const WebSocket = require(path.join(peer, 'node_modules', 'ws'));
const { makeRng, parseArgs, procCpuSeconds } = require(path.join(peer, 'lib.js'));

const opts = parseArgs(process.argv.slice(2), {
  url: 'ws://127.0.0.1:18097/ws', clients: 1000, 'per-client': 10, 'max-hz': 10, warmup: 2,
  duration: 10, seed: 42, 'server-pid': 0, channel: 'book',
  'subscribe-timeout': 60,
});

async function symbols() {
  const base = opts.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
  const res = await fetch(base + '/api/v1/symbols');
  return (await res.json()).symbols.map((s) => s.symbol);
}

async function main() {
  const universe = await symbols();
  const rng = makeRng(opts.seed);
  let counting = false, delivered = 0, gaps = 0, closed = 0, subscribed = 0, errors = 0;
  let firstError = '', opened = 0;
  const streams = [];
  const clients = [];
  for (let c = 0; c < opts.clients; c++) {
    const mine = new Set();
    while (mine.size < Math.min(opts['per-client'], universe.length)) {
      mine.add(universe[Math.floor(rng() * universe.length)]);
    }
    const state = new Map();  // symbol -> {seq, perSecond: Map<second, count>}
    for (const s of mine) {
      const st = { seq: -1, perSecond: new Map() };
      state.set(s, st);
      streams.push(st);
    }
    const ws = new WebSocket(opts.url);
    clients.push(ws);
    ws.on('open', () => opened++ && false || ws.send(JSON.stringify({
      type: 'subscribe', channels: [opts.channel], symbols: [...mine],
      ...(opts.channel === 'book' ? { depth: 10 } : {}),
      ...(opts['max-hz'] > 0 ? { max_hz: opts['max-hz'] } : {}),
    })));
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'subscribed') { subscribed++; return; }
      if (m.type === 'error') { errors++; if (!firstError) firstError = JSON.stringify(m); return; }
      const st = state.get(m.symbol);
      if (!st) return;
      if (m.type === 'book_snapshot') { st.seq = m.seq; return; }
      if (m.type !== 'book_update') return;
      if (m.seq - (m.merged || 1) !== st.seq) gaps++;
      st.seq = m.seq;
      if (!counting) return;
      delivered++;
      const second = Math.floor(Date.now() / 1000);
      st.perSecond.set(second, (st.perSecond.get(second) || 0) + 1);
    });
    ws.on('close', () => { if (!stopping) closed++; });
    ws.on('error', () => {});
  }
  let stopping = false;
  const deadline = Date.now() + opts['subscribe-timeout'] * 1000;
  while (subscribed < opts.clients && Date.now() < deadline) await sleep(50);
  await sleep(opts.warmup * 1000);
  const cpu0 = opts['server-pid'] ? procCpuSeconds(opts['server-pid']) : 0;
  const me0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  counting = true;
  await sleep(opts.duration * 1000);
  counting = false;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = opts['server-pid'] ? procCpuSeconds(opts['server-pid']) : 0;
  const me = process.cpuUsage(me0);
  // The busiest stream: its most in one wall-clock second as received (which
  // the client's own lag can bunch), and its mean over the whole window.
  let streamMax = 0, streamMeanMax = 0;
  const first = Math.floor(Date.now() / 1000) - Math.floor(secs) + 1;  // whole seconds only
  for (const st of streams) {
    let total = 0;
    for (const [second, n] of st.perSecond) {
      total += n;
      if (second >= first) streamMax = Math.max(streamMax, n);
    }
    streamMeanMax = Math.max(streamMeanMax, total / secs);
  }
  stopping = true;
  for (const ws of clients) ws.terminate();
  const line = [
    'BOOKHZ', `clients=${opts.clients}`, `streams=${streams.length}`, `max_hz=${opts['max-hz']}`,
    `opened=${opened}`, `subscribed=${subscribed}`, `delivered_per_s=${Math.round(delivered / secs)}`,
    `stream_max_per_s=${streamMax}`, `stream_mean_max_per_s=${streamMeanMax.toFixed(1)}`, `gaps=${gaps}`, `closed=${closed}`, `errors=${errors}`,
    `server_cpu_pct=${Math.round((100 * (cpu1 - cpu0)) / secs)}`,
    `client_cpu_pct=${Math.round((me.user + me.system) / 1e4 / secs)}`,
  ];
  console.log(line.join(' '));
  if (firstError) console.error('first error: ' + firstError);
  process.exit(subscribed === opts.clients && gaps === 0 && closed === 0 && errors === 0 ? 0 : 1);
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

main().catch((e) => { console.error(e); process.exit(1); });
