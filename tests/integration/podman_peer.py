"""Both ends of the podman test's exchanges, run inside the containers.

  podman_peer.py server PORT [--drop UID]
      listens on 0.0.0.0:PORT (after switching to UID and its group, when
      given: a server that drops privileges before it opens its socket);
      prints "listening uid N", then for each connection "accepted IP:PORT",
      sends "hello IP:PORT" back and closes when the client does.
  podman_peer.py client IP PORT [--hold FILE]
      connects, prints "client OWN_IP:PORT PEER_IP:PORT" and "got LINE";
      with --hold keeps the connection open until FILE exists (20 s at most).
"""
import os
import socket
import sys
import time


def name(addr):
    return "%s:%d" % addr[:2]


def server(port, drop):
    if drop is not None:
        os.setgroups([])
        os.setgid(drop)
        os.setuid(drop)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    print("listening uid %d" % os.getuid(), flush=True)
    while True:
        c, peer = s.accept()
        print("accepted %s" % name(peer), flush=True)
        c.sendall(("hello %s\n" % name(peer)).encode())
        c.settimeout(30)
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass
        c.close()


def client(ip, port, hold):
    c = socket.create_connection((ip, port), timeout=10)
    print("client %s %s" % (name(c.getsockname()), name(c.getpeername())), flush=True)
    line = c.makefile().readline().strip()
    print("got %s" % line, flush=True)
    if hold:
        deadline = time.monotonic() + 20
        while not os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.05)
    c.close()


def main(argv):
    if len(argv) >= 2 and argv[0] == "server":
        drop = int(argv[3]) if len(argv) == 4 and argv[2] == "--drop" else None
        server(int(argv[1]), drop)
    elif len(argv) >= 3 and argv[0] == "client":
        hold = argv[4] if len(argv) == 5 and argv[3] == "--hold" else None
        client(argv[1], int(argv[2]), hold)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
