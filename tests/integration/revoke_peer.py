"""The two ends of test_revoke.sh.

revoke_peer.py server PORT OTHER_IP OTHER_PORT GO_FILE: listens on PORT,
takes one connection and an unconnected socket, and once GO_FILE exists
(the test deleted the container meanwhile) tries each: recv and send on the
connection, connect of the spare socket to OTHER_IP:OTHER_PORT (a server
that listens), accept on the listener. Prints one line per try: "NAME ok ..." or "NAME err ERRNO".

revoke_peer.py client IP PORT GO_FILE: connects, sends "hi", and once
GO_FILE exists tries a recv.
"""
import errno
import os
import socket
import sys
import time


def wait_for(path, secs=30):
    deadline = time.monotonic() + secs
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            print("no go file", flush=True)
            sys.exit(2)
        time.sleep(0.05)


def attempt(name, f):
    try:
        print(name, "ok", f(), flush=True)
    except OSError as e:
        print(name, "err", errno.errorcode.get(e.errno, e.errno), flush=True)


def server(port, other_ip, other_port, go):
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("0.0.0.0", port))
    lst.listen(8)
    spare = socket.socket()
    print("listen 0.0.0.0:%d" % port, flush=True)
    conn, peer = lst.accept()
    print("accepted %s:%d %r" % (peer[0], peer[1], conn.recv(2)), flush=True)
    wait_for(go)
    attempt("recv", lambda: conn.recv(10))
    attempt("send", lambda: conn.send(b"x"))
    spare.settimeout(2)
    attempt("connect", lambda: spare.connect((other_ip, other_port)))
    lst.settimeout(1)
    attempt("accept", lambda: lst.accept())


def client(ip, port, go):
    s = socket.create_connection((ip, port), timeout=10)
    s.sendall(b"hi")
    print("connected", flush=True)
    wait_for(go)
    s.settimeout(5)
    attempt("recv", lambda: s.recv(10))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
