#!/usr/bin/python3
"""The smoke test's strict client: every REST body and WebSocket frame it sees
is parsed with json.loads, refusing duplicate keys and non-JSON constants
(NaN, Infinity), the way a strict client in any language would.

  scripts/smoke_client.py PORT      exits 0, or 1 naming the first bad text
"""
import asyncio
import json
import sys
import zlib
from decimal import Decimal
import urllib.error
import urllib.request

import websockets  # Debian: python3-websockets

FRAME_TYPES = {"subscribed", "unsubscribed", "tick", "ticker", "top", "book_snapshot",
               "book_update", "candle", "status", "heartbeat", "pong", "error"}


def strict(text, where):
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate key in {keys}")
        return dict(pairs)

    def no_constant(name):
        raise ValueError(f"non-JSON constant {name}")

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except ValueError as e:
        sys.exit(f"smoke_client: {where}: not strict JSON ({e}): {text[:300]!r}")


def book_checksum(bids, asks):
    """README "Book checksum": bids and asks are [[price, qty], ...], best first."""
    def digits(decimal):  # "0.0500" -> "500"
        return decimal.replace(".", "").lstrip("0") or "0"
    text = "".join(digits(p) + digits(q) for p, q in asks[:10] + bids[:10])
    return zlib.crc32(text.encode())


class BookCopy:
    """A client's copy of one book subscription: snapshot, then updates whose
    seq continues (`merged` seqs at once) and whose checksum matches."""

    def __init__(self):
        self.bids, self.asks, self.seq, self.updates = {}, {}, None, 0

    def apply(self, frame):
        if frame["type"] == "book_snapshot":
            self.bids, self.asks = dict(frame["bids"]), dict(frame["asks"])
        else:
            if self.seq is None or frame["seq"] - frame.get("merged", 1) != self.seq:
                sys.exit(f"smoke_client: book gap after {self.seq}: {frame}")
            for side, price, qty in frame["changes"]:
                levels = self.bids if side == "buy" else self.asks
                if Decimal(qty) == 0:
                    levels.pop(price, None)
                else:
                    levels[price] = qty
            self.updates += 1
        self.seq = frame["seq"]
        bids = sorted(self.bids.items(), key=lambda l: -Decimal(l[0]))
        asks = sorted(self.asks.items(), key=lambda l: Decimal(l[0]))
        if book_checksum(bids, asks) != frame["checksum"]:
            sys.exit(f"smoke_client: checksum mismatch at seq {self.seq}: {frame}")


def rest(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=body.encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    doc = strict(text, f"{method} {path} ({status})")
    if status >= 400 and set(doc) != {"error"}:
        sys.exit(f"smoke_client: {method} {path}: error body without 'error': {text}")
    return status, doc


async def websocket(port):
    seen = set()

    async def read(ws, until, seconds):
        async def loop():
            while True:
                frame = strict(await ws.recv(), "ws frame")
                if frame.get("type") not in FRAME_TYPES:
                    sys.exit(f"smoke_client: unknown frame type: {frame}")
                seen.add(frame["type"])
                if frame["type"] == until:
                    return frame
        return await asyncio.wait_for(loop(), seconds)

    uri = f"ws://127.0.0.1:{port}/ws"
    async with websockets.connect(uri) as ws, websockets.connect(uri) as idle:
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "symbols": ["BTC-USD"],
                                  "channels": ["ticker", "trades", "top", "book"]}))
        await read(ws, "book_snapshot", 10)
        await read(ws, "tick", 20)
        await read(ws, "book_update", 10)
        await ws.send(json.dumps({"type": "ping", "id": 2}))
        await read(ws, "pong", 10)
        await ws.send('{"type":"nope \\"quoted\\""}')
        await read(ws, "error", 10)
        await ws.send(json.dumps({"type": "unsubscribe", "id": 3, "symbols": ["BTC-USD"],
                                  "channels": ["ticker", "trades", "top", "book"]}))
        await read(ws, "unsubscribed", 10)
        await read(idle, "heartbeat", 10)  # after 5 s of silence
    await verify_books(uri, 10_000)
    missing = {"subscribed", "unsubscribed", "tick", "ticker", "top", "book_snapshot",
               "book_update", "pong", "error", "heartbeat"} - seen
    if missing:
        sys.exit(f"smoke_client: never saw {sorted(missing)}")


async def verify_books(uri, updates):
    """Issue 17: copies of every symbol's book, one uncapped and one at
    max_hz 10, checked at every frame until `updates` updates went by; and
    the candles channel's frames."""
    symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "AAPL", "MSFT", "ES.Z26", "XAU-USD"]
    full, capped, candles = {}, {}, 0
    async with websockets.connect(uri) as a, websockets.connect(uri) as b:
        await a.send(json.dumps({"type": "subscribe", "channels": ["book", "candles:1s"],
                                 "symbols": symbols, "depth": 50}))
        await b.send(json.dumps({"type": "subscribe", "channels": ["book"], "symbols": symbols,
                                 "max_hz": 10}))

        async def follow(ws, copies, until):
            nonlocal candles
            while sum(c.updates for c in copies.values()) < until:
                frame = strict(await ws.recv(), "ws frame")
                if frame["type"] in ("book_snapshot", "book_update"):
                    copies.setdefault(frame["symbol"], BookCopy()).apply(frame)
                elif frame["type"] == "candle":
                    candles += 1
        await asyncio.wait_for(asyncio.gather(follow(a, full, updates), follow(b, capped, 100)),
                               120)
    if candles == 0:
        sys.exit("smoke_client: no candle frame")
    print(f"smoke_client: {sum(c.updates for c in full.values())} book updates and "
          f"{sum(c.updates for c in capped.values())} at max_hz 10 verified, {candles} candles")


def main():
    port = int(sys.argv[1])
    base = f"http://127.0.0.1:{port}"
    for path in ("/healthz", "/readyz", "/api/v1/symbols", "/api/v1/symbols/BTC-USD/ticker",
                 "/api/v1/symbols/BTC-USD/top", "/api/v1/symbols/BTC-USD/depth?levels=5",
                 "/api/v1/symbols/NOPE/top", "/api/v1/nope",
                 "/api/v1/symbols/BTC-USD/depth?levels=0"):
        rest(base, "GET", path)
    status, order = rest(base, "POST", "/api/v1/symbols/BTC-USD/orders",
                         '{"side":"buy","qty":"0.01","price":"1.00","client_order_id":"s\\"1"}')
    if status != 201:
        sys.exit(f"smoke_client: order placed with {status}: {order}")
    rest(base, "GET", f"/api/v1/symbols/BTC-USD/orders/{order['order_id']}")
    rest(base, "DELETE", f"/api/v1/symbols/BTC-USD/orders/{order['order_id']}")
    rest(base, "POST", "/api/v1/ingest",
         '{"type":"tick","symbol":"SMOKE","price":"1","size":"1","side":"buy"}\n{"bad\n')
    rest(base, "POST", "/api/v1/symbols/BTC-USD/orders", "{nope")
    asyncio.run(websocket(port))
    print("smoke_client: every body and frame was strict JSON")


if __name__ == "__main__":
    main()
