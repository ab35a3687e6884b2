"""TCP behaviours for test_mixed_client.sh, run once over the plain
container network and once from a slim client, whose outputs must match.
Usage:
    mixed_peer.py server PORT
        serves connections one after the other; the first line a client
        sends says what to do:
          "bulk N"   reads N bytes, answers with their SHA-256, then sends N
                     bytes of its own pattern and closes
          "halfclose" reads until the client's FIN, then answers
                     "after-eof BYTES" on the half-open connection and closes
          "reset"    closes at once with SO_LINGER 0 (a RST)
        prints "listen PORT" once, and "accept IP:PORT" per connection.
    mixed_peer.py client DST PORT bulk N | halfclose | reset
        does its part of one of the above and prints one line per fact
        (no addresses: the outputs of two paths are compared)."""
import hashlib
import socket
import struct
import sys


def pattern(n, seed):
    """n bytes of a repeatable pattern (not compressible, not all zero)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def read_line(c):
    line = b""
    while not line.endswith(b"\n"):
        d = c.recv(1)
        if not d:
            break
        line += d
    return line.decode().strip()


def read_n(c, n):
    h = hashlib.sha256()
    got = 0
    while got < n:
        d = c.recv(min(65536, n - got))
        if not d:
            break
        h.update(d)
        got += len(d)
    return got, h.hexdigest()


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    print("listen %d" % port, flush=True)
    while True:
        c, peer = s.accept()
        print("accept %s:%d" % peer, flush=True)
        with c:
            what = read_line(c).split()
            if not what:
                continue
            if what[0] == "bulk":
                n = int(what[1])
                got, digest = read_n(c, n)
                c.sendall(("%d %s\n" % (got, digest)).encode())
                c.sendall(pattern(n, 2))
            elif what[0] == "halfclose":
                total = 0
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    total += len(d)
                c.sendall(b"after-eof %d\n" % total)
            elif what[0] == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def client(dst, port, what, args):
    s = socket.create_connection((dst, port), timeout=10)
    if what == "bulk":
        n = int(args[0])
        data = pattern(n, 1)
        s.sendall(("bulk %d\n" % n).encode())
        s.sendall(data)
        print("server got %s" % read_line(s))
        print("sent %d %s" % (n, hashlib.sha256(data).hexdigest()))
        got, digest = read_n(s, n)
        want = hashlib.sha256(pattern(n, 2)).hexdigest()
        print("received %d %s" % (got, "intact" if digest == want else "CORRUPT"))
        print("then eof %s" % (s.recv(1) == b""))
    elif what == "halfclose":
        s.sendall(b"halfclose\nsome bytes before the FIN")
        s.shutdown(socket.SHUT_WR)
        print("reply %s" % read_line(s))
        print("then eof %s" % (s.recv(1) == b""))
    elif what == "reset":
        s.sendall(b"reset\n")
        try:
            d = s.recv(10)
            # A RST may race with nothing to read: the next call reports it.
            if d == b"":
                d = s.recv(10)
            print("recv returned %r" % d)
        except OSError as e:
            print("recv failed %s" % (e.strerror or e))
        try:
            s.send(b"x")
            s.send(b"x")
            print("send ok")
        except OSError as e:
            print("send failed %s" % (e.strerror or e))
    s.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
    else:
        sys.exit(__doc__)
