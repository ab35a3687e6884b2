"""A long-lived client for test_router_restart.sh, so that one process's
libslim lives through router restarts and outages. Usage:
    long_client.py DST PORT FLAG MSG1 MSG2 [MSG3...]
Connects to DST:PORT and echoes MSG1; then, for each further MSGn, waits
(bounded) until the file FLAG.n exists and does it again with MSGn. Prints
"local IP:PORT" and "echo TEXT" for a connection that worked, "failed N
ERROR" for one that did not, and "waiting N" before each wait. Exit 0 when
the first and the last connection both echoed their message whole (those in
between may fail: the router of this host may be down then)."""
import os
import socket
import sys
import time


def once(dst, port, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect((dst, port))
        print("local %s:%d" % s.getsockname(), flush=True)
        s.sendall(msg.encode())
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    finally:
        s.close()
    print("echo", data.decode(), flush=True)
    return data.decode() == msg


def main():
    dst, port, flag, msgs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    if len(msgs) < 2:
        print("usage: long_client.py DST PORT FLAG MSG1 MSG2 [MSG3...]", file=sys.stderr)
        return 2
    if not once(dst, port, msgs[0]):
        return 1
    ok = True
    for n, msg in enumerate(msgs[1:], start=2):
        print("waiting", n, flush=True)
        for _ in range(300):  # at most 30 s
            if os.path.exists("%s.%d" % (flag, n)):
                break
            time.sleep(0.1)
        else:
            print("flag %s.%d never appeared" % (flag, n), file=sys.stderr)
            return 1
        try:
            ok = once(dst, port, msg)
        except OSError as e:
            print("failed", n, e.strerror, flush=True)
            ok = False
    return 0 if ok else 1


sys.exit(main())
