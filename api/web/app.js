// marketd's built-in page (README "The page", ADR 027): the symbols, a live
// candlestick chart, the top of the book, a depth ladder whose checksum is
// verified after every frame, and the recent trades, from the REST API and
// one WebSocket (/ws), as API.md and docs/api-notes.md describe them.
// Plain DOM and canvas, no library. Prices and quantities stay the decimal
// strings the server sent; only the chart turns them into numbers, to draw.
'use strict';

(() => {
  const API = '/api/v1';
  const MAX_TRADES = 30;
  const MAX_CANDLES = 500;
  const CHECKSUM_LEVELS = 10; // per side (docs/api-notes.md "Book checksum")
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = 'marketd.key';
  // A server started with --api-keys wants a key: open the page as /#key=KEY.
  // The fragment never reaches the server or its logs; the key is kept for
  // this tab only (sessionStorage) and taken off the address bar.
  const apiKey = (() => {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
    if (fromHash) {
      sessionStorage.setItem(KEY_STORE, fromHash);
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(KEY_STORE);
  })();

  const page = {
    symbols: [], // GET /symbols, as received (state and last_price kept current)
    symbol: null, // the chosen one
    interval: '1m', // candles: 1s or 1m
    depth: 10, // book window: 10 or 20
    candles: new Map(), // start -> candle, as received
    candlesLive: null, // candles:I streams (true), is refused and polled over REST (false)
    trades: new Map(), // seq -> trade
    top: null, // the last `top` frame
    book: null, // {seq, bids: Map(price -> qty), asks} from a snapshot on
    bookRequest: 0, // id of the last book subscribe; its frames count once it is answered
    bookAnswered: false,
    checksum: 'pending', // ok | mismatch | pending
    verified: 0, // book updates whose checksum matched, for the chosen symbol
    mismatches: 0,
    drawn: 0, // candles on the canvas at the last draw
  };

  // ---- decimal strings ----------------------------------------------------------

  const decimals = (s) => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);
  const isZero = (s) => !/[1-9]/.test(s);

  /** Compares two non-negative decimal strings exactly. */
  function compareDecimals(a, b) {
    const [ai, af = ''] = a.split('.');
    const [bi, bf = ''] = b.split('.');
    const ia = ai.replace(/^0+(?=\d)/, '');
    const ib = bi.replace(/^0+(?=\d)/, '');
    if (ia.length !== ib.length) return ia.length - ib.length;
    if (ia !== ib) return ia < ib ? -1 : 1;
    const n = Math.max(af.length, bf.length);
    const fa = af.padEnd(n, '0');
    const fb = bf.padEnd(n, '0');
    return fa === fb ? 0 : fa < fb ? -1 : 1;
  }

  /** a − b, exact, at the larger scale of the two. */
  function subtractDecimals(a, b) {
    const scale = Math.max(decimals(a), decimals(b));
    const units = (s) => BigInt(s.replace('.', '') + '0'.repeat(scale - decimals(s)));
    let d = units(a) - units(b);
    const sign = d < 0n ? '-' : '';
    if (d < 0n) d = -d;
    const digits = d.toString().padStart(scale + 1, '0');
    return sign + (scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits);
  }

  // ---- book checksum (docs/api-notes.md: Kraken's CRC32 of the best 10 per side) ----

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  /** CRC32 (IEEE 802.3, zlib's crc32) of an ASCII string. */
  function crc32(text) {
    let c = 0xffffffff;
    for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  /** A side's prices, best first: asks lowest first, bids highest first. */
  const bestFirst = (levels, side) =>
    [...levels.keys()].sort((a, b) => (side === 'asks' ? 1 : -1) * compareDecimals(a, b));

  function bookChecksum(book) {
    // Each level: price then qty, as sent, the '.' deleted and leading zeros stripped.
    const digits = (s) => s.replace('.', '').replace(/^0+/, '');
    let text = '';
    for (const side of ['asks', 'bids']) {
      for (const price of bestFirst(book[side], side).slice(0, CHECKSUM_LEVELS)) {
        text += digits(price) + digits(book[side].get(price));
      }
    }
    return crc32(text);
  }

  // ---- REST -----------------------------------------------------------------------

  async function getJson(path) {
    const headers = { Accept: 'application/json' };
    if (apiKey) headers['X-Api-Key'] = apiKey;
    const res = await fetch(API + path, { headers, cache: 'no-store' });
    const body = await res.json().catch(() => null);
    if (res.status === 401) {
      throw new Error(apiKey ? 'the API key was refused (open /#key=KEY with another)'
                             : 'this marketd needs an API key: open /#key=KEY');
    }
    if (!res.ok) {
      const error = body && body.error;
      throw new Error(error ? `${error.code}: ${error.message}` : `HTTP ${res.status}`);
    }
    return body;
  }

  const symbolPath = (symbol) => `/symbols/${encodeURIComponent(symbol)}`;

  async function loadSymbols() {
    try {
      const body = await getJson('/symbols');
      page.symbols = body.symbols;
      if (!page.symbols.some((s) => s.symbol === page.symbol)) {
        const wanted = new URLSearchParams(location.search).get('symbol');
        const pick = page.symbols.find((s) => s.symbol === wanted) || page.symbols[0];
        if (wanted && pick && pick.symbol !== wanted && !page.symbol) notify(`no symbol ${wanted}`);
        if (pick) choose(pick.symbol);
      }
      dirty('symbols');
    } catch (e) {
      notify(`symbols: ${e.message}`);
    }
  }

  async function loadCandles(limit) {
    const { symbol, interval } = page;
    try {
      const body = await getJson(`${symbolPath(symbol)}/candles?interval=${interval}&limit=${limit}`);
      if (symbol !== page.symbol || interval !== page.interval) return;
      for (const candle of body.candles) mergeCandle(candle);
      dirty('chart');
    } catch (e) {
      notify(`candles: ${e.message}`);
    }
  }

  async function loadTrades() {
    const { symbol } = page;
    try {
      const body = await getJson(`${symbolPath(symbol)}/trades?limit=${MAX_TRADES}`);
      if (symbol !== page.symbol) return;
      for (const trade of body.trades) page.trades.set(trade.seq, trade);
      trimTrades();
      dirty('trades');
    } catch (e) {
      notify(`trades: ${e.message}`);
    }
  }

  /** A candle replaces the one of the same start unless it has seen fewer trades. */
  function mergeCandle(c) {
    const held = page.candles.get(c.start);
    if (held && held.trades > c.trades) return;
    page.candles.set(c.start, c);
    if (page.candles.size > MAX_CANDLES) {
      const oldest = [...page.candles.keys()].sort().slice(0, page.candles.size - MAX_CANDLES);
      for (const start of oldest) page.candles.delete(start);
    }
  }

  function trimTrades() {
    const seqs = [...page.trades.keys()].sort((a, b) => b - a);
    for (const seq of seqs.slice(MAX_TRADES)) page.trades.delete(seq);
  }

  // ---- WebSocket ------------------------------------------------------------------

  let socket = null;
  let nextId = 1;
  const requests = new Map(); // id -> what it asked: feed | book | candles | unsubscribe
  let backoffMs = 500;
  let connectedOnce = false;

  function connect() {
    setConnection('connecting', 'connecting…');
    const query = apiKey ? `?key=${encodeURIComponent(apiKey)}` : '';
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${query}`);
    socket = ws;
    ws.onopen = () => {
      backoffMs = 500;
      setConnection('open', 'live');
      subscribeAll();
      // What went by while the socket was down.
      if (connectedOnce && page.symbol) reloadHistory();
      connectedOnce = true;
    };
    ws.onmessage = (event) => {
      if (ws === socket) onMessage(event.data);
    };
    ws.onerror = () => {}; // a close follows; reconnecting is onclose's
    ws.onclose = (event) => {
      if (ws !== socket) return;
      socket = null;
      requests.clear();
      page.book = null;
      page.bookAnswered = false;
      page.checksum = 'pending';
      dirty('book');
      const waitMs = Math.round(backoffMs * (0.75 + Math.random() / 2));
      backoffMs = Math.min(backoffMs * 2, 15000);
      setConnection('reconnecting', `closed (${event.code}); again in ${(waitMs / 1000).toFixed(1)} s`);
      setTimeout(connect, waitMs);
    };
  }

  const isOpen = () => socket !== null && socket.readyState === WebSocket.OPEN;

  function send(type, channels, what, extra = {}) {
    if (!isOpen()) return 0;
    const id = nextId++;
    requests.set(id, what);
    socket.send(JSON.stringify({ type, id, channels, symbols: [page.symbol], ...extra }));
    return id;
  }

  // One subscribe per part: a channel this marketd does not serve refuses only its own.
  function subscribeAll() {
    if (!page.symbol) return;
    send('subscribe', ['trades', 'top'], 'feed');
    subscribeBook();
    subscribeCandles();
  }

  /** A fresh snapshot: frames count from the answer to this subscribe on. */
  function subscribeBook() {
    page.book = null;
    page.bookAnswered = false;
    page.bookRequest = send('subscribe', ['book'], 'book', { depth: page.depth });
    dirty('book');
  }

  function subscribeCandles() {
    send('subscribe', [`candles:${page.interval}`], 'candles');
  }

  function unsubscribeAll() {
    const channels = ['trades', 'top', 'book'];
    if (page.candlesLive) channels.push(`candles:${page.interval}`);
    send('unsubscribe', channels, 'unsubscribe');
  }

  function onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      notify('the server sent a frame that is not JSON');
      return;
    }
    switch (m.type) {
      case 'subscribed':
        onSubscribed(m);
        break;
      case 'tick':
        onTick(m);
        break;
      case 'top':
        if (m.symbol === page.symbol) {
          page.top = m;
          dirty('top');
        }
        break;
      case 'book_snapshot':
      case 'book_update':
        onBook(m);
        break;
      case 'candle':
        if (m.symbol === page.symbol && m.interval === page.interval) {
          mergeCandle(m);
          dirty('chart');
        }
        break;
      case 'status':
        onStatus(m);
        break;
      case 'error':
        onError(m);
        break;
      default: // unsubscribed, heartbeat, pong, and whatever a newer marketd adds
        break;
    }
  }

  function onSubscribed(m) {
    const what = requests.get(m.id);
    requests.delete(m.id);
    if (what === 'book' && m.id === page.bookRequest) page.bookAnswered = true;
    if (what === 'candles') {
      page.candlesLive = true;
      dirty('chart');
    }
  }

  function onError(m) {
    const what = requests.get(m.id);
    requests.delete(m.id);
    if (what === 'candles' && m.code === 'unknown_channel') {
      page.candlesLive = false; // a marketd without candles:I: REST is polled instead
      dirty('chart');
      return;
    }
    if (what === 'unsubscribe') return;
    if (m.code === 'unknown_symbol' && what === undefined) loadSymbols(); // it was deleted
    notify(`server: ${m.code}: ${m.message}`);
  }

  function onTick(m) {
    const listed = page.symbols.find((s) => s.symbol === m.symbol);
    if (listed) {
      listed.last_price = m.price;
      dirty('symbols');
    }
    if (m.symbol !== page.symbol) return;
    page.trades.set(m.seq, m);
    trimTrades();
    dirty('trades');
  }

  function onStatus(m) {
    const listed = page.symbols.find((s) => s.symbol === m.symbol);
    if (listed) {
      listed.state = m.state;
      dirty('symbols');
    }
  }

  /** Applies a book frame and verifies the copy against its checksum. */
  function onBook(m) {
    if (m.symbol !== page.symbol || !page.bookAnswered) return; // an earlier subscription's
    if (m.type === 'book_snapshot') {
      page.book = { seq: m.seq, bids: new Map(m.bids), asks: new Map(m.asks) };
    } else {
      const book = page.book;
      if (!book) return;
      // docs/api-notes.md "Book sequence": seq − merged is the previous frame's seq.
      if (m.seq - (m.merged || 1) !== book.seq) {
        resync(`a gap (seq ${m.seq} after ${book.seq})`);
        return;
      }
      for (const [side, price, qty] of m.changes) {
        const levels = side === 'buy' ? book.bids : book.asks;
        if (isZero(qty)) levels.delete(price);
        else levels.set(price, qty);
      }
      book.seq = m.seq;
    }
    if (bookChecksum(page.book) !== m.checksum) {
      page.checksum = 'mismatch';
      page.mismatches++;
      resync(`checksum mismatch at seq ${m.seq}`);
      return;
    }
    page.checksum = 'ok';
    if (m.type === 'book_update') page.verified++;
    dirty('book');
  }

  function resync(why) {
    notify(`book: ${why}; subscribing again`);
    subscribeBook();
  }

  // ---- choosing ---------------------------------------------------------------------

  function reloadHistory() {
    loadCandles(MAX_CANDLES);
    loadTrades();
  }

  function choose(symbol) {
    if (symbol === page.symbol) return;
    if (page.symbol) unsubscribeAll();
    page.symbol = symbol;
    const url = new URL(location.href);
    url.searchParams.set('symbol', symbol);
    history.replaceState(null, '', url);
    page.candles.clear();
    page.trades.clear();
    page.top = null;
    page.checksum = 'pending';
    page.verified = 0;
    subscribeAll();
    reloadHistory();
    dirty('symbols', 'top', 'book', 'chart', 'trades');
  }

  function chooseInterval(interval) {
    if (interval === page.interval) return;
    if (page.candlesLive) send('unsubscribe', [`candles:${page.interval}`], 'unsubscribe');
    page.interval = interval;
    page.candles.clear();
    subscribeCandles();
    loadCandles(MAX_CANDLES);
    dirty('chart');
  }

  function chooseDepth(depth) {
    if (depth === page.depth) return;
    page.depth = depth;
    page.checksum = 'pending';
    subscribeBook();
  }

  // ---- drawing ----------------------------------------------------------------------

  const dirtyParts = new Set();
  let frameAsked = false;

  function dirty(...parts) {
    for (const part of parts) dirtyParts.add(part);
    if (!frameAsked) {
      frameAsked = true;
      requestAnimationFrame(render);
    }
  }

  function render() {
    frameAsked = false;
    const parts = new Set(dirtyParts);
    dirtyParts.clear();
    if (parts.has('symbols')) renderSymbols();
    if (parts.has('top')) renderTop();
    if (parts.has('book')) renderBook();
    if (parts.has('chart')) renderChart();
    if (parts.has('trades')) renderTrades();
  }

  /** An element with text, and a class when given. */
  function make(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // Updated in place: a button replaced under the pointer would lose its click.
  function renderSymbols() {
    const list = $('symbols');
    const names = page.symbols.map((s) => s.symbol).join(' ');
    if (list.dataset.names !== names) {
      list.dataset.names = names;
      list.replaceChildren(
        ...page.symbols.map((s) => {
          const button = make('button');
          button.type = 'button';
          button.dataset.symbol = s.symbol;
          button.append(make('span', s.symbol, 'name'), make('span', '', 'price'), make('span', '', 'state'));
          const item = make('li');
          item.append(button);
          return item;
        }),
      );
    }
    page.symbols.forEach((s, i) => {
      const button = list.children[i].firstChild;
      button.setAttribute('aria-current', String(s.symbol === page.symbol));
      button.querySelector('.price').textContent = s.last_price ?? '—';
      const state = button.querySelector('.state');
      state.textContent = s.state;
      state.dataset.state = s.state;
    });
    $('title').textContent = page.symbol ?? '';
    document.title = page.symbol ? `${page.symbol} · marketd` : 'marketd';
  }

  function renderTop() {
    const t = page.top;
    const side = (price, qty) => (price === null ? '—' : `${qty} @ ${price}`);
    $('bid').textContent = t ? side(t.bid, t.bid_qty) : '—';
    $('ask').textContent = t ? side(t.ask, t.ask_qty) : '—';
    $('spread').textContent = t && t.bid !== null && t.ask !== null ? subtractDecimals(t.ask, t.bid) : '—';
  }

  function renderBook() {
    const book = page.book;
    const rows = (side, className) => {
      if (!book) return [];
      const prices = bestFirst(book[side], side).slice(0, page.depth);
      const most = Math.max(1e-300, ...prices.map((p) => Number(book[side].get(p))));
      return prices.map((price) => {
        const qty = book[side].get(price);
        const row = make('tr', undefined, className);
        row.style.setProperty('--fill', `${((100 * Number(qty)) / most).toFixed(1)}%`);
        row.append(make('td', price), make('td', qty));
        return row;
      });
    };
    $('asks').replaceChildren(...rows('asks', 'ask').reverse());
    $('bids').replaceChildren(...rows('bids', 'bid'));
    let mid = 'waiting for the snapshot…';
    if (book) {
      const ask = bestFirst(book.asks, 'asks')[0];
      const bid = bestFirst(book.bids, 'bids')[0];
      mid = ask && bid ? `spread ${subtractDecimals(ask, bid)} · seq ${book.seq}` : `seq ${book.seq}`;
    }
    $('mid').textContent = mid;
    const check = $('checksum');
    check.dataset.checksum = page.checksum;
    check.dataset.verified = String(page.verified);
    check.textContent =
      page.checksum === 'ok'
        ? `checksum ok · ${page.verified} updates verified`
        : page.checksum === 'mismatch'
          ? `checksum mismatch (${page.mismatches}) · resubscribed`
          : 'checksum …';
    for (const button of $('depths').querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(Number(button.dataset.depth) === page.depth));
    }
  }

  function renderTrades() {
    const trades = [...page.trades.values()].sort((a, b) => b.seq - a.seq);
    $('trades').replaceChildren(
      ...trades.map((t) => {
        const row = make('tr');
        row.append(make('td', t.ts.slice(11, 23)), make('td', t.side, t.side), make('td', t.price, t.side), make('td', t.size));
        return row;
      }),
    );
  }

  const COLORS = { up: '#26a69a', down: '#ef5350', grid: '#232a33', text: '#7d8794', last: '#4ea1ff' };

  function renderChart() {
    for (const button of $('intervals').querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(button.dataset.interval === page.interval));
    }
    const source = $('candle-source');
    source.textContent = page.candlesLive === true ? 'live' : page.candlesLive === false ? 'polled' : '';
    source.title =
      page.candlesLive === false ? 'this marketd has no candles channel: REST is asked every second' : '';

    const canvas = $('chart');
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    g.textBaseline = 'middle';

    const axis = 78; // price labels, right
    const footer = 18; // time labels, bottom
    const slot = 9; // px per candle
    const plotWidth = width - axis;
    const priceHeight = (height - footer) * 0.8;
    const volumeTop = priceHeight + 8;
    const volumeHeight = height - footer - volumeTop;
    const starts = [...page.candles.keys()].sort();
    const shown = starts.slice(-Math.max(1, Math.floor(plotWidth / slot))).map((s) => page.candles.get(s));
    page.drawn = shown.length;
    canvas.dataset.candles = String(shown.length);

    const latest = shown[shown.length - 1];
    $('ohlc').textContent = latest
      ? `O ${latest.open} H ${latest.high} L ${latest.low} C ${latest.close} V ${latest.volume} · ${latest.trades} trades`
      : '';
    if (!latest || plotWidth <= 0 || priceHeight <= 0) {
      g.fillStyle = COLORS.text;
      g.fillText(page.symbol ? 'no trades yet in this interval' : '', 12, height / 2);
      return;
    }

    const bars = shown.map((c) => ({ o: +c.open, h: +c.high, l: +c.low, c: +c.close, v: +c.volume }));
    let low = Math.min(...bars.map((b) => b.l));
    let high = Math.max(...bars.map((b) => b.h));
    const pad = (high - low || Math.abs(high) * 0.001 || 1) * 0.08;
    low -= pad;
    high += pad;
    const y = (price) => 6 + ((high - price) / (high - low)) * (priceHeight - 12);
    const places = decimals(latest.close);
    const lastY = Math.round(y(bars[bars.length - 1].c)) + 0.5;

    // Grid and price labels.
    g.strokeStyle = COLORS.grid;
    g.fillStyle = COLORS.text;
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const price = low + ((high - low) * (i + 0.5)) / 5;
      const yy = Math.round(y(price)) + 0.5;
      g.beginPath();
      g.moveTo(0, yy);
      g.lineTo(plotWidth, yy);
      g.stroke();
      if (Math.abs(yy - lastY) > 14) g.fillText(price.toFixed(places), plotWidth + 6, yy);
    }

    // Candles, the newest at the right edge, and their volume below.
    const mostVolume = Math.max(...bars.map((b) => b.v)) || 1;
    const left = plotWidth - shown.length * slot;
    const labelEvery = Math.max(1, Math.ceil(70 / slot));
    shown.forEach((candle, i) => {
      const b = bars[i];
      const x = Math.round(left + i * slot + slot / 2) + 0.5;
      const color = b.c >= b.o ? COLORS.up : COLORS.down;
      g.strokeStyle = color;
      g.fillStyle = color;
      g.beginPath();
      g.moveTo(x, y(b.h));
      g.lineTo(x, y(b.l));
      g.stroke();
      const top = y(Math.max(b.o, b.c));
      g.fillRect(x - (slot - 3) / 2, top, slot - 3, Math.max(1, y(Math.min(b.o, b.c)) - top));
      g.globalAlpha = 0.45;
      const v = (b.v / mostVolume) * volumeHeight;
      g.fillRect(x - (slot - 3) / 2, volumeTop + volumeHeight - v, slot - 3, v);
      g.globalAlpha = 1;
      if ((shown.length - 1 - i) % labelEvery === 0) {
        g.fillStyle = COLORS.text;
        g.textAlign = 'center';
        g.fillText(candle.start.slice(11, page.interval === '1s' ? 19 : 16), x, height - footer / 2);
        g.textAlign = 'left';
      }
    });

    // The last price.
    g.strokeStyle = COLORS.last;
    g.setLineDash([3, 3]);
    g.beginPath();
    g.moveTo(0, lastY);
    g.lineTo(plotWidth, lastY);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = COLORS.last;
    g.fillRect(plotWidth + 2, lastY - 8, axis - 2, 16);
    g.fillStyle = '#0b0e12';
    g.fillText(latest.close, plotWidth + 6, lastY);
  }

  // ---- status line ------------------------------------------------------------------

  let noticeTimer = 0;

  function notify(text) {
    $('notice').textContent = `${new Date().toISOString().slice(11, 19)} ${text}`;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      $('notice').textContent = '';
    }, 15000);
  }

  function setConnection(state, text) {
    const node = $('connection');
    node.dataset.state = state;
    node.textContent = text;
  }

  // ---- start ------------------------------------------------------------------------

  $('symbols').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-symbol]');
    if (button) choose(button.dataset.symbol);
  });
  $('intervals').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-interval]');
    if (button) chooseInterval(button.dataset.interval);
  });
  $('depths').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-depth]');
    if (button) chooseDepth(Number(button.dataset.depth));
  });
  new ResizeObserver(() => dirty('chart')).observe($('chart'));

  // For people and the browser test (scripts/browser_test.sh).
  window.marketdPage = Object.freeze({
    symbols: () => page.symbols.map((s) => s.symbol),
    symbol: () => page.symbol,
    candleCount: () => page.drawn,
    checksum: () => page.checksum,
    verifiedUpdates: () => page.verified,
    mismatches: () => page.mismatches,
    tradeCount: () => page.trades.size,
  });

  connect();
  loadSymbols();
  setInterval(loadSymbols, 3000); // states and last prices of every symbol, new symbols
  setInterval(() => {
    // A marketd without the candles channel: the chart is kept from REST.
    if (page.candlesLive === false && page.symbol) loadCandles(5);
  }, 1000);
  dirty('symbols', 'top', 'book', 'chart', 'trades');
})();
