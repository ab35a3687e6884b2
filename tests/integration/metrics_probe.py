"""Hostile and slow clients for the router's --metrics listener
(test_metrics.sh). Runs inside the host namespace.

  metrics_probe.py garbage HOST PORT    send 64 KiB of non-HTTP bytes; print
                                        the status line answered, or "closed"
  metrics_probe.py nul HOST PORT        a request line with a NUL in it
  metrics_probe.py hold HOST PORT N S   open N connections that send nothing,
                                        print "held N", keep them S seconds
"""
import socket
import sys
import time


def status_line(s):
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    return line if line else "closed"


def main():
    what, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if what in ("garbage", "nul"):
        s = socket.create_connection((host, port), timeout=10)
        # garbage: 64 KiB with no NUL and no blank line (a request head
        # that never ends); nul: a complete head with a NUL in it.
        payload = bytes(range(1, 256)) * 257 if what == "garbage" else \
            b"GET /metrics\x00 HTTP/1.1\r\n\r\n"
        try:
            s.sendall(payload)
        except OSError:
            pass
        print(status_line(s))
        s.close()
    elif what == "hold":
        n, secs = int(sys.argv[4]), float(sys.argv[5])
        held = [socket.create_connection((host, port), timeout=5) for _ in range(n)]
        print("held", len(held), flush=True)
        time.sleep(secs)
        for s in held:
            s.close()
    else:
        sys.exit("unknown probe " + what)


main()
