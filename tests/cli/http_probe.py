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
Every socket has a timeout; loopback addresses only. Exit 1 on a failed check.
"""
import http.client
import socket
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


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "keepalive":
        keepalive(port, int(sys.argv[3]))
    elif cmd == "limit":
        limit(port, int(sys.argv[3]))
    elif cmd == "slow":
        slow(port, int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("unknown probe " + cmd)


if __name__ == "__main__":
    main()
