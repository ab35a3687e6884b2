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
import sys
import time

# No __pycache__ left in the checkout by the import below.
sys.dont_write_bytecode = True
from accept_threads import Acceptors, listener  # noqa: E402


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    lsock = listener(port, 16)
    acceptors = Acceptors(lsock, n)
    rounds = 0
    while True:
        base = acceptors.all_asleep("accept_herd")
        rounds += 1
        print("ready %d" % rounds, flush=True)
        me, c, peer, _ = acceptors.accepted.get()
        time.sleep(0.3)
        woken = acceptors.woken(base, {me})
        print("accepted %s:%d woken %d" % (peer[0], peer[1], woken), flush=True)
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
        c.close()
        acceptors.resume(me)


main()
