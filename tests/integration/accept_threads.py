"""Threads blocking in accept on one listener, watched through /proc: which
of them sleep in a system call, and whose voluntary context switches moved
(woken). Shared by accept_calls.py and accept_herd.py, which import it from
their own directory (python puts a script's directory first on sys.path)."""
import queue
import socket
import sys
import threading
import time

# x86_64 system calls a thread blocking in accept may sleep in: accept,
# accept4, poll, ppoll, epoll_wait, epoll_pwait, epoll_pwait2.
WAITS = {43, 288, 7, 271, 232, 281, 441}


def task(tid, name):
    with open("/proc/self/task/%d/%s" % (tid, name)) as f:
        return f.read()


def switches(tid):
    """The thread's count of voluntary context switches."""
    for line in task(tid, "status").splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise RuntimeError("no voluntary_ctxt_switches for task %d" % tid)


def asleep(tid):
    """True if the thread sleeps in one of WAITS."""
    state = task(tid, "stat").rsplit(")", 1)[1].split()[0]
    call = task(tid, "syscall").split()[0]
    return state == "S" and call.isdigit() and int(call) in WAITS


def listener(port, backlog):
    """A listener on 0.0.0.0:PORT; prints "listen IP:PORT"."""
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", port))
    lsock.listen(backlog)
    print("listen %s:%d" % lsock.getsockname(), flush=True)
    return lsock


class Acceptors:
    """N daemon threads blocking in accept on lsock. Each connection goes
    to `accepted` as (thread id, socket, peer, monotonic ms when taken);
    the thread then waits for resume(its id) before accepting again."""

    def __init__(self, lsock, n):
        self.n = n
        self.accepted = queue.Queue()
        self.tids = []
        self._resume = {}
        for _ in range(n):
            threading.Thread(target=self._serve, args=(lsock,), daemon=True).start()

    def _serve(self, lsock):
        me = threading.get_native_id()
        go = threading.Event()
        self._resume[me] = go
        self.tids.append(me)
        while True:
            c, peer = lsock.accept()
            self.accepted.put((me, c, peer, time.monotonic() * 1000.0))
            go.wait()
            go.clear()

    def resume(self, tid):
        self._resume[tid].set()

    def all_asleep(self, who):
        """Waits (at most 10 s; else exits naming `who`) until every thread
        sleeps in accept; returns their switch counts {tid: count}."""
        deadline = time.monotonic() + 10
        while len(self.tids) < self.n or not all(asleep(t) for t in self.tids):
            if time.monotonic() > deadline:
                sys.exit("%s: the threads did not all block in accept" % who)
            time.sleep(0.01)
        return {t: switches(t) for t in self.tids}

    def woken(self, base, takers):
        """How many threads other than takers switched since base."""
        return sum(1 for t in self.tids if t not in takers and switches(t) != base[t])
