"""rtmon serve scraped by a real Prometheus (Debian's prometheus, started here on a free loopback
port with its storage in a temporary folder and a 1 s scrape interval). The truth comes from the
targets: testprog/go/servego's own counts and GODEBUG=gctrace=1's line per GC cycle, and
testprog/nthreads.c's "created K joined K". Values are asked from Prometheus's /api/v1/query,
polled until they arrive (a scrape a second), and must then be exact."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import RTMON, Tracer, tp

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
N_GC = 4
M_GOROUTINES = 25
K_THREADS = 17
SCRAPES = 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_addr(tracer):
    for line in tracer.stderr_lines:
        m = re.match(r"rtmon serve: serving http://(127\.0\.0\.1:\d+)/metrics", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no 'serving' line: {tracer.stderr_lines}")


def get(url, method="GET", headers=None):
    """(status, content type, body) of one request."""
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


class Prometheus:
    """A Prometheus server scraping one target every second."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="rtmon-prom-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: rtmon\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "log"), "w"))
        self.wait_for(lambda: get(self.url + "/-/ready")[0] == 200, "Prometheus ready")

    def wait_for(self, cond, what, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if cond():
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert self.proc.poll() is None, open(os.path.join(self.dir, "log")).read()
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")

    def query(self, expr):
        """The value of expr's single series, or None when it has none."""
        q = urllib.parse.urlencode({"query": expr})
        _, _, body = get(f"{self.url}/api/v1/query?{q}")
        res = json.loads(body)["data"]["result"]
        assert len(res) <= 1, res
        return float(res[0]["value"][1]) if res else None

    def expect(self, expected):
        """Polls until every expr in expected has its value (the last scrape may lag)."""
        got = {}

        def all_there():
            got.update({e: self.query(e) for e in expected})
            return got == expected
        try:
            self.wait_for(all_there, "values")
        except AssertionError:
            raise AssertionError(f"expected {expected}, Prometheus has {got}")

    def close(self):
        self.proc.terminate()
        self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


def promtool_accepts(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_go_gc_and_goroutines_through_prometheus():
    """N forced GC cycles and M goroutines: Prometheus holds exactly what the program did; 100 scrapes
    while it works are all answered and nothing is lost; promtool accepts the exposition."""
    target = subprocess.Popen([tp("go/servego"), str(N_GC), str(M_GOROUTINES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, GODEBUG="gctrace=1"))
    prom = tracer = None
    try:
        ready = target.stdout.readline()
        assert ready == f"ready {target.pid}\n"
        tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "-p", str(target.pid)])
        addr = serve_addr(tracer)
        labels = f'pid="{target.pid}",runtime="go"'
        prom = Prometheus(addr)
        prom.expect({f"rtmon_goroutines{{{labels}}}": 0.0})
        target.stdin.write("\n")
        target.stdin.flush()
        assert target.stdout.readline() == f"started {M_GOROUTINES}\n"
        # all M are alive and blocked: the gauge says so
        prom.expect({f"rtmon_goroutines{{{labels}}}": float(M_GOROUTINES)})
        target.stdin.write("\n")
        target.stdin.flush()
        # scrapes while the goroutines exit and the cycles run
        answers = [get(f"http://{addr}/metrics") for _ in range(SCRAPES)]
        assert [a[0] for a in answers] == [200] * SCRAPES
        out, err = target.communicate(timeout=60)
        assert target.returncode == 0, err
        assert out == f"done goroutines={M_GOROUTINES} gcs={N_GC}\n"
        # gctrace's own line per cycle; the first is the runtime.GC() before "ready"
        cycles = len(re.findall(r"^gc \d+ @", err, re.M)) - 1
        assert cycles == N_GC, err
        prom.expect({
            f"rtmon_gc_cycles_total{{{labels}}}": float(cycles),
            # two stop-the-world pauses per Go cycle: sweep termination and mark termination
            f"rtmon_gc_pause_seconds_count{{{labels}}}": float(2 * cycles),
            f'rtmon_gc_pause_seconds_bucket{{{labels},le="+Inf"}}': float(2 * cycles),
            f"rtmon_goroutines_created_total{{{labels}}}": float(M_GOROUTINES),
            f"rtmon_goroutines_exited_total{{{labels}}}": float(M_GOROUTINES),
            f"rtmon_goroutine_lifetime_seconds_count{{{labels}}}": float(M_GOROUTINES),
            f"rtmon_goroutines{{{labels}}}": 0.0,
            f"sum(rtmon_lost_events_total{{{labels}}})": 0.0,
        })
        status, ctype, text = get(f"http://{addr}/metrics")
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
        promtool_accepts(text)
        assert f'exe="{os.path.realpath(tp("go/servego"))}"' in text
        for family in ["rtmon_gc_cycles_total", "rtmon_gc_pause_seconds",
                       "rtmon_threads_created_total", "rtmon_thread_lifetime_seconds",
                       "rtmon_goroutines_created_total", "rtmon_goroutines",
                       "rtmon_goroutine_lifetime_seconds", "rtmon_lost_events_total",
                       "rtmon_probe_hits_total", "process_cpu_seconds_total",
                       "process_resident_memory_bytes"]:
            assert f"# HELP {family} " in text and f"# TYPE {family} " in text, family
        status, ctype, om = get(f"http://{addr}/metrics",
                                headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert status == 200 and ctype.startswith("application/openmetrics-text")
        assert om.endswith("# EOF\n") and "# TYPE rtmon_gc_cycles counter\n" in om
        exe = os.path.realpath(tp("go/servego"))
        assert (f'rtmon_gc_cycles_total{{pid="{target.pid}",exe="{exe}",runtime="go"}} {cycles}\n'
                in om)
        rc, _, stderr = tracer.stop()
        tracer = None
        assert rc == 0, stderr
        served = int(re.search(r"rtmon serve: (\d+) requests answered", stderr).group(1))
        assert served >= SCRAPES + 3
    finally:
        if target.poll() is None:
            target.kill()
        if tracer:
            tracer.stop()
        if prom:
            prom.close()


def test_threads_of_a_c_program_through_prometheus():
    """K threads created and joined by a C program (-- CMD): created K, exited K + its main thread,
    K lifetimes; no GC families for a native program."""
    tracer = Tracer(["serve", "--listen", ":0", "--", tp("nthreads"), str(K_THREADS)])
    prom = None
    try:
        addr = serve_addr(tracer)
        prom = Prometheus(addr)
        labels = 'runtime="native"'
        prom.expect({
            f"rtmon_threads_created_total{{{labels}}}": float(K_THREADS),
            f"rtmon_threads_exited_total{{{labels}}}": float(K_THREADS + 1),
            f"rtmon_thread_lifetime_seconds_count{{{labels}}}": float(K_THREADS),
            f"sum(rtmon_lost_events_total{{{labels}}})": 0.0,
        })
        text = get(f"http://{addr}/metrics")[2]
        promtool_accepts(text)
        assert "rtmon_gc_" not in text and "rtmon_goroutine" not in text
        rc, out, err = tracer.stop()
        tracer = None
        assert rc == 0, err
        assert f"created {K_THREADS} joined {K_THREADS}\n" in out  # the program's own count
    finally:
        if tracer:
            tracer.stop()
        if prom:
            prom.close()


def test_bad_requests():
    """Unknown path 404, other methods 405, pprof paths: a bad request 400, heap of a program that
    is not Go 400 (all 404 with --no-pprof); one line each. test_serve_pprof.py has the pprof paths' other answers."""
    for extra, pprof_status in (([], (400, 400, 400)), (["--no-pprof"], (404, 404, 404))):
        tracer = Tracer(["serve", "--listen", "127.0.0.1:0"] + extra + ["--", tp("nthreads"), "1"])
        try:
            addr = serve_addr(tracer)
            for path, method, status in [("/nope", "GET", 404), ("/", "GET", 404),
                                         ("/metrics", "POST", 405), ("/metrics", "DELETE", 405),
                                         ("/metrics", "HEAD", 200),
                                         ("/debug/pprof/profile?seconds=0", "GET",
                                          pprof_status[0]),
                                         ("/debug/pprof/heap", "GET", pprof_status[1]),
                                         ("/debug/pprof/goroutine?debug=3", "GET",
                                          pprof_status[2])]:
                got, _, body = get(f"http://{addr}{path}", method=method)
                assert got == status, (path, method, got, body)
                if status != 200:
                    assert body.count("\n") == 1 and body.endswith("\n"), body
            rc, _, err = tracer.stop()
            assert rc == 0, err
        finally:
            tracer.stop()


def test_port_in_use_and_bad_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([RTMON, "serve", "--listen", f"127.0.0.1:{port}", "--", "/bin/true"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert r.stderr == (f"rtmon serve: cannot listen on 127.0.0.1:{port}: Address already in "
                            "use; give another port with --listen ADDR:PORT\n")
    for bad in ["127.0.0.1:99999", "127.0.0.1:", "nohost.invalid:80", "1.2.3.4:x"]:
        r = subprocess.run([RTMON, "serve", "--listen", bad, "--", "/bin/true"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (bad, r.stderr)
        assert r.stderr.startswith(f"rtmon serve: bad --listen address '{bad}'")
        assert r.stderr.count("\n") == 1
