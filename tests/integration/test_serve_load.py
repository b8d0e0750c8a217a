"""rtmon serve under load: 100 scrapes a second while testprog/go/gochurn churns goroutines. Every
scrape is answered (200), nothing is lost (rtmon_lost_events_total 0, and the goroutine counters
equal the program's own "created N"), and rtmon's resident memory stays flat (VmRSS from
/proc/PID/status after warm-up and at the end).

RTMON_SERVE_LOAD_S sets how long it runs: 10 s in `make test`, 60 s in `make bench`'s serve
section (tests/bench/run.sh, BENCH_ONLY=serve)."""
import os
import re
import subprocess
import time

from conftest import Tracer, tp
from test_serve import get, serve_addr

SECONDS = float(os.environ.get("RTMON_SERVE_LOAD_S", "10"))
RATE = 100
# How much rtmon's RSS may grow over the run: a leak of 200 bytes per scrape over 10 s (1000
# scrapes) passes this only just, over 60 s not at all.
RSS_GROWTH_KB = 512


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def value(text, expr):
    m = re.search(rf"^{expr} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_100_scrapes_a_second_while_goroutines_churn():
    target = subprocess.Popen([tp("go/gochurn")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    tracer = None
    try:
        ready = target.stdout.readline()
        assert ready == f"ready {target.pid}\n"
        # Under AddressSanitizer (make test SANITIZE=1) freed memory would sit in its quarantine
        # and count in VmRSS: without one, a leak still shows.
        asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0"]))
        tracer = Tracer(["serve", "--listen", "127.0.0.1:0", "-p", str(target.pid)],
                        env={"ASAN_OPTIONS": asan})
        addr = serve_addr(tracer)
        url = f"http://{addr}/metrics"
        target.stdin.write("\n")
        target.stdin.flush()
        # warm-up: the allocator's arenas of the HTTP thread and the loop settle
        for _ in range(RATE):
            assert get(url)[0] == 200
        rss_start = vmrss_kb(tracer.proc.pid)
        n = int(SECONDS * RATE)
        statuses = []
        start = time.monotonic()
        for i in range(n):
            delay = start + i / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            statuses.append(get(url)[0])
        rss_end = vmrss_kb(tracer.proc.pid)
        assert statuses == [200] * n
        target.stdin.write("\n")
        target.stdin.flush()
        created = int(re.fullmatch(r"created (\d+)\n", target.stdout.readline()).group(1))
        labels = f'pid="{target.pid}",exe="{os.path.realpath(tp("go/gochurn"))}",runtime="go"'
        end = time.monotonic() + 30
        while True:
            text = get(url)[2]
            got = (value(text, re.escape(f"rtmon_goroutines_created_total{{{labels}}}")),
                   value(text, re.escape(f"rtmon_goroutines_exited_total{{{labels}}}")))
            if got == (created, created) or time.monotonic() > end:
                break
            time.sleep(0.1)
        assert got == (created, created), (got, created)
        lost = [float(v) for v in re.findall(r"^rtmon_lost_events_total\{.*\} (\S+)$", text,
                                              re.M)]
        assert lost and sum(lost) == 0, lost
        assert rss_end - rss_start <= RSS_GROWTH_KB, (rss_start, rss_end)
        print(f"{n} scrapes in {time.monotonic() - start:.1f} s, {created} goroutines, "
              f"rtmon VmRSS {rss_start} -> {rss_end} kB")
        target.stdin.close()
        assert target.wait(10) == 0
        rc, _, err = tracer.stop()
        tracer = None
        assert rc == 0, err
    finally:
        if target.poll() is None:
            target.kill()
        if tracer:
            tracer.stop()
