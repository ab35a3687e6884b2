"""Connections for the membership tests (test_etcd.sh, test_cluster_reload.sh),
run under slim-run in a container. Usage:
    conn_tool.py server PORT
        echo server, one thread per connection; prints "listen PORT" once
        it listens and "accept IP:PORT" per connection.
    conn_tool.py hold DST PORT DIR
        one connection kept open: echoes "hold-0" at once, then for n = 1,
        2, ... waits (bounded) for the file DIR/n and echoes "hold-n" over
        the same connection; DIR/end ends it. Prints "echo hold-n" for each
        echo and "failed n ERROR" if one fails.
    conn_tool.py connect DST PORT
        one connection and one echo; prints "ok MS" or "error ERRNO_NAME MS"
        (MS: how long the connect took, in milliseconds). Exit 0 either way
        unless the arguments are wrong."""
import errno
import os
import socket
import sys
import threading
import time


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    print("listen %d" % port, flush=True)

    def one(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)

    while True:
        c, peer = s.accept()
        print("accept %s:%d" % peer, flush=True)
        threading.Thread(target=one, args=(c,), daemon=True).start()


def echo(s, msg):
    s.sendall(msg.encode())
    got = b""
    while len(got) < len(msg):
        d = s.recv(4096)
        if not d:
            raise OSError(errno.ECONNRESET, "closed by the peer")
        got += d
    if got.decode() != msg:
        raise OSError(errno.EPROTO, "echo mismatch")


def hold(dst, port, flagdir):
    s = socket.create_connection((dst, port), timeout=10)
    echo(s, "hold-0")
    print("echo hold-0", flush=True)
    n = 1
    deadline = time.time() + 100
    while time.time() < deadline:
        if os.path.exists(os.path.join(flagdir, "end")):
            break
        if not os.path.exists(os.path.join(flagdir, str(n))):
            time.sleep(0.05)
            continue
        try:
            echo(s, "hold-%d" % n)
            print("echo hold-%d" % n, flush=True)
        except OSError as e:
            print("failed %d %s" % (n, errno.errorcode.get(e.errno, str(e))), flush=True)
            return 1
        n += 1
    s.close()
    return 0


def connect(dst, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    t0 = time.monotonic()
    try:
        s.connect((dst, port))
        echo(s, "once")
        print("ok %d" % ((time.monotonic() - t0) * 1000), flush=True)
    except socket.timeout:
        print("error TIMEOUT %d" % ((time.monotonic() - t0) * 1000), flush=True)
    except OSError as e:
        print("error %s %d" % (errno.errorcode.get(e.errno, str(e)),
                               (time.monotonic() - t0) * 1000), flush=True)
    finally:
        s.close()
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "server":
        serve(int(a[1]))
    elif len(a) == 4 and a[0] == "hold":
        return hold(a[1], int(a[2]), a[3])
    elif len(a) == 3 and a[0] == "connect":
        return connect(a[1], int(a[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
