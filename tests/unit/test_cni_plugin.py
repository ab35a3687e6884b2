#!/usr/bin/env python3
"""The CNI plugin (cni/) run as a runtime runs it, with no router: VERSION,
and every error that needs none (bad JSON, unsupported version, missing
environment, missing prevResult on ADD, no router), each a CNI error object
on stdout with the right code, a non-empty msg and a non-zero exit; DEL
without a router is success with nothing printed.

usage: test_cni_plugin.py PLUGIN"""
import json
import os
import socket
import subprocess
import sys
import tempfile

PLUGIN = sys.argv[1]
FAILURES = []
CHECKS = 0
HEX_ID = "4f3a9c0b1d2e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"


def run(command, stdin, **env):
    """Runs the plugin with only the given CNI_* variables; returns
    (exit code, stdout, stderr)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("CNI_")}
    if command is not None:
        e["CNI_COMMAND"] = command
    e.update({k: v for k, v in env.items() if v is not None})
    p = subprocess.run([PLUGIN], input=stdin.encode(), env=e, capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def check(what, ok, detail=""):
    global CHECKS
    CHECKS += 1
    if ok:
        print("ok: " + what)
    else:
        print("FAIL: %s %s" % (what, detail))
        FAILURES.append(what)


def conf(version="1.0.0", **extra):
    c = {"cniVersion": version, "name": "slimnet", "type": "slim"}
    c.update(extra)
    return json.dumps(c)


def expect_error(what, code, version, command, stdin, **env):
    """The plugin fails with a CNI error object of this code and version."""
    rc, out, err = run(command, stdin, **env)
    check(what + ": exit non-zero", rc != 0, "exit %d, stdout %r" % (rc, out))
    try:
        d = json.loads(out)
    except ValueError:
        check(what + ": stdout is JSON", False, repr(out))
        return
    check(what + ": code %d" % code, d.get("code") == code, repr(d))
    check(what + ": msg non-empty", isinstance(d.get("msg"), str) and d["msg"] != "", repr(d))
    check(what + ": cniVersion %s" % version, d.get("cniVersion") == version, repr(d))
    check(what + ": only the CNI error keys", set(d) <= {"cniVersion", "code", "msg", "details"},
          repr(d))
    print("   msg: %s" % d.get("msg"))


PREV = {
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"},
                   {"name": "veth1", "mac": "aa:bb:cc:dd:ee:02"},
                   {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/run/netns/x"}],
    "ips": [{"address": "10.244.1.7/24", "gateway": "10.244.1.1", "interface": 2}],
}


def main():
    tmp = tempfile.mkdtemp(prefix="slim-cni-unit.")
    nosock = os.path.join(tmp, "nothing.sock")
    # A socket file nobody listens on: connect() is refused.
    dead = os.path.join(tmp, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(dead)
    s.close()
    full = {"CNI_CONTAINERID": HEX_ID, "CNI_NETNS": "/run/netns/x", "CNI_IFNAME": "eth0",
            "CNI_PATH": "/usr/lib/cni"}
    try:
        # VERSION
        for stdin, want in (("", "1.0.0"), ('{"cniVersion":"0.4.0"}', "0.4.0"),
                            (conf("1.0.0"), "1.0.0")):
            rc, out, _ = run("VERSION", stdin)
            check("VERSION (stdin %r): exit 0" % stdin, rc == 0, "exit %d" % rc)
            try:
                d = json.loads(out)
            except ValueError:
                d = None
            check("VERSION (stdin %r): %s" % (stdin, want),
                  d == {"cniVersion": want, "supportedVersions": ["0.4.0", "1.0.0"]}, repr(out))

        # Bad input.
        expect_error("ADD with bad JSON", 6, "1.0.0", "ADD", '{"cniVersion":', **full)
        expect_error("ADD with data after the JSON", 6, "1.0.0", "ADD", conf() + " {}", **full)
        expect_error("ADD with a JSON array", 6, "1.0.0", "ADD", "[1]", **full)
        expect_error("VERSION with bad JSON", 6, "1.0.0", "VERSION", "{nope")
        expect_error("ADD with cniVersion 0.2.0", 1, "1.0.0", "ADD", conf("0.2.0"), **full)
        expect_error("ADD without cniVersion", 7, "1.0.0", "ADD",
                     json.dumps({"name": "n", "type": "slim"}), **full)
        expect_error("ADD without name", 7, "0.4.0", "ADD",
                     json.dumps({"cniVersion": "0.4.0", "type": "slim"}), **full)
        expect_error("ADD with a numeric socket", 7, "1.0.0", "ADD", conf(socket=7), **full)
        expect_error("ADD with a prevResult that is no object", 7, "1.0.0", "ADD",
                     conf(prevResult=[1]), **full)

        # Environment.
        expect_error("no CNI_COMMAND", 4, "1.0.0", None, conf(), **full)
        expect_error("CNI_COMMAND=FROB (unknown)", 4, "1.0.0", "FROB", conf(), **full)
        for var in ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"):
            env = dict(full)
            del env[var]
            expect_error("ADD without " + var, 4, "1.0.0", "ADD",
                         conf(socket=nosock, prevResult=PREV), **env)
            rc, out, _ = run("ADD", conf(socket=nosock, prevResult=PREV), **env)
            check("ADD without %s: msg names it" % var, var in out, out)
        env = dict(full, CNI_CONTAINERID="x" * 128)
        expect_error("ADD with a 128-character CNI_CONTAINERID", 4, "1.0.0", "ADD",
                     conf(socket=nosock, prevResult=PREV), **env)
        expect_error("ADD with CNI_CONTAINERID a/b", 4, "1.0.0", "ADD",
                     conf(socket=nosock, prevResult=PREV), **dict(full, CNI_CONTAINERID="a/b"))

        # ADD: what it needs from prevResult.
        expect_error("ADD without prevResult", 7, "1.0.0", "ADD", conf(socket=nosock), **full)
        v6 = {"cniVersion": "1.0.0", "ips": [{"address": "fd00::7/64"}]}
        expect_error("ADD with an IPv6-only prevResult", 7, "0.4.0", "ADD",
                     conf("0.4.0", socket=nosock, prevResult=v6), **full)
        two = {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.1/24"},
                                              {"address": "10.0.0.2/24"}]}
        expect_error("ADD with two IPv4 addresses on no interface", 7, "1.0.0", "ADD",
                     conf(socket=nosock, prevResult=two), **full)
        old = dict(PREV, cniVersion="0.2.0")
        expect_error("ADD with a 0.2.0 prevResult", 1, "1.0.0", "ADD",
                     conf(socket=nosock, prevResult=old), **full)

        # No router: try again later (a 64-hex-digit id is a valid name).
        expect_error("ADD with no router socket", 11, "1.0.0", "ADD",
                     conf(socket=nosock, prevResult=PREV), **full)
        expect_error("ADD with a refused router socket (0.4.0)", 11, "0.4.0", "ADD",
                     conf("0.4.0", socket=dead, prevResult=PREV), **full)
        expect_error("CHECK with no router socket", 11, "1.0.0", "CHECK",
                     conf(socket=nosock, prevResult=PREV), **full)
        expect_error("CHECK without prevResult", 7, "1.0.0", "CHECK", conf(socket=nosock),
                     **full)

        # DEL is idempotent: no router is success, with nothing printed,
        # also without prevResult, CNI_NETNS or CNI_IFNAME.
        for sock in (nosock, dead):
            rc, out, err = run("DEL", conf(socket=sock), CNI_CONTAINERID=HEX_ID)
            check("DEL with no router at %s: exit 0, no output" % os.path.basename(sock),
                  rc == 0 and out == "" and err == "", "exit %d, %r %r" % (rc, out, err))
        rc, out, _ = run("DEL", conf("0.4.0", socket=nosock, prevResult=PREV), **full)
        check("DEL (0.4.0, with prevResult) with no router: exit 0, no output",
              rc == 0 and out == "", "exit %d, %r" % (rc, out))
        expect_error("DEL without CNI_CONTAINERID", 4, "1.0.0", "DEL", conf(socket=nosock))
    finally:
        for f in (dead,):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(tmp)
    if FAILURES:
        print("FAIL: test_cni_plugin: %d of %d checks failed: %s"
              % (len(FAILURES), CHECKS, "; ".join(FAILURES)))
        sys.exit(1)
    print("PASS: test_cni_plugin (%d checks)" % CHECKS)


main()
