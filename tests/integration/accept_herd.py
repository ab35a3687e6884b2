"""Threads blocking in accept on one listener, and how many of them each
connection wakes (for test_accept_wakeups.sh).
Usage:
    accept_herd.py PORT THREADS
        THREADS threads block in accept on a listener on 0.0.0.0:PORT.
        Prints "listen IP:PORT", then "ready N" (N: 1, 2, ...) whenever
        every thread sleeps in a system call; for each connection,
        "accepted PEER_IP:PORT woken K", K being how many of the other
        threads were woken (their voluntary context switches moved) in
        the 300 ms after it, then echoes what the client sends.
A thread woken for a connection another thread took goes back to sleep:
it is seen only by its count of context switches."""
import os
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
    for line in task(tid, "status").splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    raise RuntimeError("no voluntary_ctxt_switches for task %d" % tid)


def asleep(tid):
    """True if the thread sleeps in one of WAITS."""
    state = task(tid, "stat").rsplit(")", 1)[1].split()[0]
    call = task(tid, "syscall").split()[0]
    return state == "S" and call.isdigit() and int(call) in WAITS


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", port))
    lsock.listen(16)
    print("listen %s:%d" % lsock.getsockname(), flush=True)
    accepted = queue.Queue()
    tids = []
    resume = {}

    def serve():
        me = threading.get_native_id()
        go = threading.Event()
        resume[me] = go
        tids.append(me)
        while True:
            c, peer = lsock.accept()
            accepted.put((me, c, peer))
            go.wait()
            go.clear()

    for _ in range(n):
        threading.Thread(target=serve, daemon=True).start()
    rounds = 0
    while True:
        deadline = time.monotonic() + 10
        while len(tids) < n or not all(asleep(t) for t in tids):
            if time.monotonic() > deadline:
                sys.exit("accept_herd: the threads did not all block in accept")
            time.sleep(0.01)
        base = {t: switches(t) for t in tids}
        rounds += 1
        print("ready %d" % rounds, flush=True)
        me, c, peer = accepted.get()
        time.sleep(0.3)
        woken = sum(1 for t in tids if t != me and switches(t) != base[t])
        print("accepted %s:%d woken %d" % (peer[0], peer[1], woken), flush=True)
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
        c.close()
        resume[me].set()


main()
