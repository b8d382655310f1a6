#!/usr/bin/python3
"""Crash consistency (issue 16): drives a real marketd with API orders,
cancels and ingested L3 events, kill -9's it at random moments, starts it
again on the same data directory, and checks that what it recovered is
exactly what it acknowledged.

  scripts/crash_client.py MARKETD KILLS FSYNC [SEED]

Every change is sent one at a time and recorded when its answer arrives.
A reference marketd without a journal receives the acknowledged changes
only. After each restart the recovered marketd must equal the reference —
depth (every level) and book seq of each symbol, every acknowledged
resting order with its remaining quantity — or equal it once the single
change in flight at the kill is applied too (a change may be durable and
unanswered; never half applied). Order ids must never repeat, across kills.
Exits 0, or 1 with what differed; one line per kill.
"""
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

VENUE = "CRASH-V"
MIRROR = "CRASH-M"
SYMBOLS = [f"{VENUE}:0.01:1:venue", f"{MIRROR}:0.01:1:mirror"]


class Marketd:
    """One marketd process on a free port, with its log in a temp file."""

    def __init__(self, binary, data_dir, fsync, log_path):
        self.log_path = log_path
        args = [binary, "--listen", "127.0.0.1:0", "--no-simulator", "--data-dir", data_dir,
                "--fsync", fsync, "--symbols", *SYMBOLS, "--rate-limit", "0"]
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.port = self._port()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _port(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"event=serving listen=127\.0\.0\.1:(\d+)", f.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"marketd exited at start:\n{open(self.log_path).read()}")
            time.sleep(0.05)
        raise RuntimeError("marketd did not start serving")

    def request(self, method, path, body=None):
        """(status, parsed JSON body); raises OSError/HTTPException when the process is gone."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.conn.request(method, path, body=data)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.log.close()
        if code != 0:
            raise RuntimeError(f"marketd exited {code} on SIGTERM")


class Workload:
    """Random changes, and what they did: ids seen, resting orders acknowledged."""

    def __init__(self, rng):
        self.rng = rng
        self.upstream_next = 1
        self.client_ids = 0
        self.mirror_live = []  # upstream ids believed resting on the mirror
        self.resting = {}  # real order id -> reference order id (acknowledged, maybe resting)
        self.seen_ids = set()

    def next_change(self):
        r = self.rng.random()
        if r < 0.5:
            side = self.rng.choice(["buy", "sell"])
            price = f"{self.rng.randint(95, 105)}.00"
            order = {"side": side, "type": "limit", "price": price, "qty": str(self.rng.randint(1, 5))}
            if self.rng.random() < 0.15:
                order["tif"] = "ioc"
            if self.rng.random() < 0.2:
                # Never reused: a durable, unanswered order must not make a later one a repeat.
                self.client_ids += 1
                order["client_order_id"] = f"c{self.client_ids}"
            return ("order", order)
        if r < 0.65 and self.resting:
            return ("cancel", self.rng.choice(list(self.resting)))
        lines = []
        for _ in range(self.rng.randint(1, 6)):
            if self.mirror_live and self.rng.random() < 0.4:
                oid = self.rng.choice(self.mirror_live)
                kind = self.rng.choice(["cancel", "reduce", "execute"])
                e = {"type": kind, "symbol": MIRROR, "order_id": oid}
                if kind != "cancel":
                    e["qty"] = "1"
            else:
                oid = f"u{self.upstream_next}"
                self.upstream_next += 1
                e = {"type": "add", "symbol": MIRROR, "order_id": oid,
                     "side": self.rng.choice(["buy", "sell"]),
                     "price": f"{self.rng.randint(90, 110)}.00", "qty": str(self.rng.randint(1, 4))}
                self.mirror_live.append(oid)
            lines.append(json.dumps(e))
        return ("ingest", ("\n".join(lines) + "\n").encode())


def send(server, change, id_map):
    """Sends one change; returns (status, body). Cancels use the server's own id for the order."""
    kind, arg = change
    if kind == "order":
        return server.request("POST", f"/api/v1/symbols/{VENUE}/orders", arg)
    if kind == "cancel":
        return server.request("DELETE", f"/api/v1/symbols/{VENUE}/orders/{id_map(arg)}")
    return server.request("POST", "/api/v1/ingest", arg)


def acknowledged(status, body, change):
    kind = change[0]
    if kind == "ingest":
        return status == 200 and not any(e["code"] == "unavailable" for e in body["errors"])
    return status in (200, 201, 404, 400, 409, 403)  # a verdict: applied, or refused unchanged


def state(server):
    """What must survive: depth and seq of both symbols."""
    out = {}
    for sym in (VENUE, MIRROR):
        status, body = server.request("GET", f"/api/v1/symbols/{sym}/depth?levels=1000")
        if status != 200:
            raise RuntimeError(f"depth of {sym}: {status} {body}")
        out[sym] = (body["seq"], body["bids"], body["asks"])
    return out


def main():
    binary, kills, fsync = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="marketd-crash-")
    print(f"crash: seed {seed}, {kills} kills, --fsync {fsync}, in {work}")
    ref = Marketd(binary, "", "never", os.path.join(work, "reference.log"))
    real = Marketd(binary, os.path.join(work, "data"), fsync, os.path.join(work, "real.log"))
    load = Workload(rng)
    changes_total = 0
    try:
        for k in range(kills):
            # Drive changes until the kill lands, at a random moment.
            delay = rng.uniform(0.05, 0.6)
            timer = threading.Timer(delay, real.kill)
            timer.start()
            in_flight = None
            changes = 0
            while True:
                change = load.next_change()
                try:
                    status, body = send(real, change, lambda rid: rid)
                except (OSError, http.client.HTTPException):
                    in_flight = change
                    break
                if not acknowledged(status, body, change):
                    raise RuntimeError(f"unexpected answer {status} {body} to {change}")
                # The reference takes exactly what was acknowledged.
                rs, rb = send(ref, change, lambda rid: load.resting[rid])
                changes += 1
                if change[0] == "order":
                    if rs != status:
                        raise RuntimeError(f"order: marketd {status} {body}, reference {rs} {rb}")
                    if status == 201:
                        oid = body["order_id"]
                        if oid in load.seen_ids:
                            raise RuntimeError(f"order id {oid} was handed out twice")
                        load.seen_ids.add(oid)
                        if body["remaining_qty"] != "0":
                            load.resting[oid] = rb["order_id"]
                elif change[0] == "cancel":
                    if rs != status:
                        raise RuntimeError(f"cancel: marketd {status} {body}, reference {rs} {rb}")
                    load.resting.pop(change[1], None)
            timer.join()
            changes_total += changes

            real = Marketd(binary, os.path.join(work, "data"), fsync,
                           os.path.join(work, f"real-{k + 1}.log"))
            got, want = state(real), state(ref)
            applied_in_flight = False
            if got != want and in_flight is not None:
                # Durable but unanswered: it must then be there whole.
                rs, rb = send(ref, in_flight, lambda rid: load.resting[rid])
                applied_in_flight = True
                if in_flight[0] == "cancel" and rs == 200:
                    load.resting.pop(in_flight[1], None)
                want = state(ref)
            if got != want:
                raise RuntimeError(f"kill {k + 1}: recovered {got}\n  acknowledged {want}")
            # Every acknowledged resting order is still its owner's, as the reference has it.
            for rid, fid in list(load.resting.items()):
                s1, b1 = real.request("GET", f"/api/v1/symbols/{VENUE}/orders/{rid}")
                s2, b2 = ref.request("GET", f"/api/v1/symbols/{VENUE}/orders/{fid}")
                if s1 != s2 or (s1 == 200 and b1["remaining_qty"] != b2["remaining_qty"]):
                    raise RuntimeError(f"kill {k + 1}: order {rid}: {s1} {b1} vs reference {s2} {b2}")
                if s1 == 404:
                    del load.resting[rid]
            print(f"crash: kill {k + 1}/{kills} after {delay:.2f} s, {changes} changes "
                  f"acknowledged, in flight: {in_flight[0] if in_flight else 'none'}"
                  f"{' (applied)' if applied_in_flight else ''}; recovered state equal")
        real.stop()
        ref.stop()
        print(f"crash: ok ({kills} kills, {changes_total} acknowledged changes, seed {seed})")
        shutil.rmtree(work)
        return 0
    except Exception as e:  # noqa: BLE001 - report and keep the evidence
        print(f"crash: FAILED (seed {seed}): {e}\n  logs in {work}", file=sys.stderr)
        for p in (real, ref):
            try:
                p.proc.kill()
            except Exception:  # noqa: BLE001
                pass
        return 1


if __name__ == "__main__":
    sys.exit(main())
