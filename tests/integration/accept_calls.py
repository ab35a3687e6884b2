"""A merged listener's blocking accept (for test_accept_calls.sh): the
listener's SO_RCVTIMEO as the app sets it, and threads that take
connections arriving two at a time. Usage:
    accept_calls.py timeo PORT
        listens on 0.0.0.0:PORT ("listen IP:PORT"), then, each step on a
        line of its own:
          "accepted 1"      a blocking accept, no timeout, took a client
          "timeout fd MS"   SO_RCVTIMEO 300 ms set on the listener after
                            that: accept failed with EAGAIN after MS ms
          "blocking"        SO_RCVTIMEO off again; a blocking accept waits
          "accepted 2"      ... and takes the next client
          "timeout dup MS"  SO_RCVTIMEO 400 ms set through a dup of the
                            listener (libc's dup and setsockopt, which
                            libslim sees): accept on the original fd
          "timeout copy MS" ... and on the dup
          then execs itself ("timeo-exec FD") with the listener inherited:
          "timeout exec MS" the new program's accept keeps the 400 ms
          "accepted 3"      SO_RCVTIMEO off; the next client is taken
        Any other outcome: "error STEP ERRNO_NAME" and exit 1.
    accept_calls.py pairs PORT THREADS
        THREADS threads block in accept on 0.0.0.0:PORT; "ready N" (N: 1,
        2, ...) whenever every thread sleeps in a system call; then waits
        (at most 5 s) for two connections and prints "pair N gap MS woken
        K": MS between the two accepts, K the other threads whose voluntary
        context switches moved meanwhile (woken for nothing); or "lost N"
        if the second did not come. Echoes one line on each.
    accept_calls.py pair DST PORT
        two connections started together (non-blocking connects), one
        line sent and echoed on each: "ok MS" or "error ERRNO_NAME"."""
import ctypes
import errno
import os
import queue
import selectors
import socket
import struct
import sys
import time

# No __pycache__ left in the checkout by the import below.
sys.dont_write_bytecode = True
from accept_threads import Acceptors, listener  # noqa: E402

LIBC = ctypes.CDLL(None, use_errno=True)


def now_ms():
    return time.monotonic() * 1000.0


def error(step, e):
    print("error %s %s" % (step, errno.errorcode.get(e, str(e))), flush=True)
    sys.exit(1)


def set_timeo(fd, ms):
    """SO_RCVTIMEO through libc's setsockopt (the one libslim hooks)."""
    tv = struct.pack("ll", ms // 1000, (ms % 1000) * 1000)
    if LIBC.setsockopt(fd, socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv, len(tv)) != 0:
        error("setsockopt", ctypes.get_errno())


def accept_one(lsock, step):
    """A blocking accept that takes a client and echoes its line."""
    try:
        c, _ = lsock.accept()
    except OSError as e:
        error(step, e.errno)
    with c:
        c.settimeout(5)
        c.sendall(c.recv(64))


def expect_timeout(lsock, step):
    """A blocking accept that must fail with EAGAIN: prints how long it took."""
    t0 = now_ms()
    try:
        c, _ = lsock.accept()
    except BlockingIOError:
        print("timeout %s %d" % (step, now_ms() - t0), flush=True)
        return
    except OSError as e:
        error(step, e.errno)
    c.close()
    error(step, 0)


def timeo(port):
    lsock = listener(port, 8)
    accept_one(lsock, "accept-1")
    print("accepted 1", flush=True)
    fd = lsock.fileno()
    set_timeo(fd, 300)
    expect_timeout(lsock, "fd")
    set_timeo(fd, 0)
    print("blocking", flush=True)
    accept_one(lsock, "accept-2")
    print("accepted 2", flush=True)
    d = LIBC.dup(fd)
    if d < 0:
        error("dup", ctypes.get_errno())
    set_timeo(d, 400)
    expect_timeout(lsock, "dup")
    copy = socket.socket(fileno=d)
    expect_timeout(copy, "copy")
    copy.close()
    os.set_inheritable(fd, True)
    os.execv(sys.executable, [sys.executable, __file__, "timeo-exec", str(fd)])


def timeo_exec(fd):
    lsock = socket.socket(fileno=fd)
    expect_timeout(lsock, "exec")
    set_timeo(fd, 0)
    accept_one(lsock, "accept-3")
    print("accepted 3", flush=True)


def pairs(port, n):
    acceptors = Acceptors(listener(port, 16), n)
    rounds = 0
    while True:
        base = acceptors.all_asleep("accept_calls")
        rounds += 1
        print("ready %d" % rounds, flush=True)
        first = acceptors.accepted.get()
        try:
            second = acceptors.accepted.get(timeout=5)
        except queue.Empty:
            print("lost %d" % rounds, flush=True)
            sys.exit(1)
        time.sleep(0.2)
        takers = {first[0], second[0]}
        woken = acceptors.woken(base, takers)
        print("pair %d gap %d woken %d" % (rounds, second[3] - first[3], woken), flush=True)
        for me, c, _, _ in (first, second):
            with c:
                c.settimeout(5)
                c.sendall(c.recv(64))
            acceptors.resume(me)


def pair(dst, port):
    t0 = now_ms()
    socks = []
    try:
        for _ in range(2):
            s = socket.socket()
            s.setblocking(False)
            if s.connect_ex((dst, port)) not in (0, errno.EINPROGRESS):
                raise OSError(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "connect")
            socks.append(s)
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_WRITE)
        pending = set(socks)
        while pending:
            ready = sel.select(timeout=max(0.0, 5 - (now_ms() - t0) / 1000))
            if not ready:
                raise OSError(errno.ETIMEDOUT, "connect")
            for key, _ in ready:
                s = key.fileobj
                e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if e:
                    raise OSError(e, "connect")
                sel.unregister(s)
                pending.discard(s)
        for i, s in enumerate(socks):
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(b"pair-%d\n" % i)
        for i, s in enumerate(socks):
            if s.recv(64) != b"pair-%d\n" % i:
                raise OSError(errno.EPROTO, "echo")
    except OSError as e:
        print("error %s" % errno.errorcode.get(e.errno, str(e.errno)), flush=True)
        return
    finally:
        for s in socks:
            s.close()
    print("ok %d" % (now_ms() - t0), flush=True)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "timeo" and len(sys.argv) == 3:
        timeo(int(sys.argv[2]))
    elif mode == "timeo-exec" and len(sys.argv) == 3:
        timeo_exec(int(sys.argv[2]))
    elif mode == "pairs" and len(sys.argv) == 4:
        pairs(int(sys.argv[2]), int(sys.argv[3]))
    elif mode == "pair" and len(sys.argv) == 4:
        pair(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)


main()
