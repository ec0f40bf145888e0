#!/usr/bin/env python3
"""http_probe.py - raw-socket probes of `hetcomp serve` for tests/cli/test_serve_cli.sh.

  keepalive PORT N       N GETs of /healthz on one connection: every answer 200, none says
                         "Connection: close", the socket never changes
  limit PORT N           N idle connections, then a request on one more (its status), then
                         the N closed and a request again: prints "BUSY_STATUS AFTER_STATUS"
  slow PORT N SECONDS    N connections from 127.0.0.1 that send an unfinished request and a
                         header line every second, for SECONDS; meanwhile requests from
                         127.0.0.2 must be answered 200 within 2 s; then one from 127.0.0.1.
                         Prints "held H good G/T after STATUS"
  trickle PORT N SOURCES BOUND
                         N connections spread over the addresses 127.0.0.2.. (SOURCES of
                         them) that send a request one byte a second and never finish it;
                         meanwhile a GET from 127.0.0.1 every 0.25 s (2 s timeout), until
                         every slow connection is closed by the server or BOUND seconds pass.
                         Prints "opened O closed C first F median M last L normal G/T
                         max_ms X" (F, M, L: seconds from connect to close)
  paced PORT N GAP WAIT  N GETs on one connection GAP seconds apart (each must be 200 on the
                         same socket), then at most WAIT seconds for the server to close it:
                         prints "ok closed_after S" (S: seconds after the last answer, or
                         "never")
Every socket has a timeout; loopback addresses only. Exit 1 on a failed check.
"""
import http.client
import resource
import selectors
import socket
import statistics
import sys
import time


def get(port, path="/healthz", source="127.0.0.1", timeout=2.0):
    """One GET on a new connection from source; returns the status (0: no answer)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    except OSError:
        return 0
    finally:
        c.close()


def keepalive(port, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    sock = None
    for j in range(n):
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        assert (r.getheader("Connection") or "").lower() != "close", "Connection: close"
        if sock is None:
            sock = c.sock
        assert c.sock is sock, "request %d came on a new connection" % j
    c.close()
    print("ok")


def limit(port, n):
    idle = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.append(s)
    time.sleep(0.3)  # the server counts them
    busy = get(port)
    for s in idle:
        s.close()
    time.sleep(0.3)
    print(busy, get(port))


def slow(port, n, seconds):
    held = []
    t_connect = time.time() + 3.0  # bounded: the rest of the phase runs whatever was opened
    for _ in range(n):
        if time.time() > t_connect:
            break
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            pass
    good = tries = 0
    t_end = time.time() + seconds
    while time.time() < t_end:
        for s in list(held):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:  # closed by the server (limit or timeout)
                held.remove(s)
                s.close()
        tries += 1
        good += get(port, source="127.0.0.2") == 200
        time.sleep(1.0)
    n_held = len(held)
    for s in held:
        s.close()
    time.sleep(0.3)
    print("held %d good %d/%d after %d" % (n_held, good, tries, get(port)))


def timed_get(port, lat):
    """A GET from 127.0.0.1; its latency in ms goes to lat; 1 if it answered 200."""
    t = time.monotonic()
    ok = get(port) == 200
    lat.append(1000.0 * (time.monotonic() - t))
    return ok


def open_slow(port, n, sources, sel):
    """n connections over sources addresses, each having sent its first byte."""
    opened = 0
    for j in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1,
                                         source_address=("127.0.0.%d" % (2 + j % sources), 0))
            s.sendall(b"G")
        except OSError:
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [time.monotonic(), 1])
        opened += 1
    return opened


# the slow request: a header that never ends, one byte of it a second
SLOW_REQ = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000


def trickle(port, n, sources, bound):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    opened = open_slow(port, n, sources, sel)
    closed, lat, good, tries = [], [], 0, 0
    t_end = time.monotonic() + bound
    t_byte = time.monotonic() + 1.0
    while sel.get_map() and time.monotonic() < t_end:
        for key, _ in sel.select(timeout=0.25):
            try:
                gone = key.fileobj.recv(64) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:
                closed.append(time.monotonic() - key.data[0])
                sel.unregister(key.fileobj)
                key.fileobj.close()
        if time.monotonic() >= t_byte:  # the next byte of every slow request
            t_byte += 1.0
            for key in list(sel.get_map().values()):
                try:
                    key.fileobj.send(SLOW_REQ[key.data[1]:key.data[1] + 1])
                    key.data[1] += 1
                except OSError:
                    pass  # closed: the read side reports it
        tries += 1
        good += timed_get(port, lat)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    closed.sort()
    f = "%.2f %s %.2f %s %.2f" % (closed[0], "median", statistics.median(closed), "last",
                                   closed[-1]) if closed else "- median - last -"
    print("opened %d closed %d first %s normal %d/%d max_ms %.1f" %
          (opened, len(closed), f, good, tries, max(lat) if lat else -1.0))


def paced(port, n, gap, wait):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    sock = None
    for j in range(n):
        if j:
            time.sleep(gap)
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        sock = sock or c.sock
        assert c.sock is sock, "request %d came on a new connection" % j
    t = time.monotonic()
    sock.settimeout(wait)
    try:
        gone = sock.recv(1) == b""
    except socket.timeout:
        gone = False
    except OSError:
        gone = True
    print("ok closed_after %s" % ("%.2f" % (time.monotonic() - t) if gone else "never"))
    c.close()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "keepalive":
        keepalive(port, int(sys.argv[3]))
    elif cmd == "limit":
        limit(port, int(sys.argv[3]))
    elif cmd == "slow":
        slow(port, int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "trickle":
        trickle(port, int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "paced":
        paced(port, int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit("unknown probe " + cmd)


if __name__ == "__main__":
    main()
