"""A long-lived client for test_router_restart.sh: connects to DST:PORT and
echoes MSG1, waits (bounded) until FLAG exists, then does it again with MSG2,
in the same process, so that its libslim talks to a router that was restarted
in between. Prints "local IP:PORT" and "echo TEXT" per connection and
"waiting" while it waits. Exit 0 only if both echoes came back whole."""
import os
import socket
import sys
import time


def once(dst, port, msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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
    s.close()
    print("echo", data.decode(), flush=True)
    return data.decode() == msg


def main():
    dst, port, flag, msg1, msg2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if not once(dst, port, msg1):
        return 1
    print("waiting", flush=True)
    for _ in range(200):  # at most 20 s
        if os.path.exists(flag):
            break
        time.sleep(0.1)
    else:
        print("flag %s never appeared" % flag, file=sys.stderr)
        return 1
    return 0 if once(dst, port, msg2) else 1


sys.exit(main())
