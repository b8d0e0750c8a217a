"""rtmon thr on Node.js: node's own threads and a worker_threads thread, seen by the scheduler's
tracepoints like any program's (testprog/nodethreads.js). Truth from outside rtmon: the pool sizes
node is told (--v8-pool-size, UV_THREADPOOL_SIZE), and each thread's name as the program itself
reads it from /proc/self/task/TID/comm while all of them run."""
import json
import os

import pytest

from conftest import BUILD, json_lines, run

SCRIPT = os.path.abspath("testprog/nodethreads.js")
NODES = {
    "node20": "/usr/bin/node",
    "node22": os.path.join(BUILD, "node-fixtures", "node22", "bin", "node"),
}
V8_POOL, UV_POOL = 3, 2


def kind(start):
    """What node runs on a thread, from its start routine's symbol."""
    if start is None:
        return None
    if "PlatformWorkerThread(" in start:
        return "v8-platform"
    if start == "worker":  # libuv's thread pool (deps/uv/src/threadpool.c)
        return "libuv-pool"
    if "node::worker::Worker::StartThread" in start:
        return "worker_threads"
    if "DelayedTaskScheduler" in start:
        return "delayed-tasks"
    if "inspector" in start:
        return "inspector-io"
    return start


@pytest.mark.parametrize("name", sorted(NODES))
def test_node_threads_with_their_names(name):
    node = NODES[name]
    if not os.path.exists(node):
        pytest.skip(f"{node} not here (tests/integration/fetch-node-fixtures.sh BUILD)")
    r = run(["thr", "--json", "--", node, f"--v8-pool-size={V8_POOL}", SCRIPT],
            env={"UV_THREADPOOL_SIZE": str(UV_POOL)})
    assert r.returncode == 0, r.stderr
    # With --json the command's own stdout goes to stderr.
    own = [json.loads(l) for l in r.stderr.splitlines() if l.startswith('{"pid"')]
    assert len(own) == 1, r.stderr
    pid, names = own[0]["pid"], {int(t): n for t, n in own[0]["threads"].items()}
    lines = json_lines(r.stdout)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["lost"] == 0 and summary["target_exit"] == 0
    events = [o for o in lines if o["type"] == "thread" and o["pid"] == pid]
    creates = {e["tid"]: e for e in events if e["event"] == "create"}
    exits = {e["tid"]: e for e in events if e["event"] == "exit"}
    # Every thread the program saw, rtmon saw created (all after -- CMD's first instruction) and end,
    # under the name the kernel had for it.
    assert set(names) - {pid} <= set(creates)
    assert set(names) <= set(exits)
    for tid, comm in names.items():
        assert exits[tid]["name"] == comm, (tid, comm, exits[tid])
    kinds = [kind(creates[t]["start"]) for t in names if t != pid]
    assert kinds.count("v8-platform") == V8_POOL
    assert kinds.count("libuv-pool") == UV_POOL
    assert kinds.count("worker_threads") == 1
    assert kinds.count("delayed-tasks") == 1
    if name == "node22":  # libuv 1.50 names its pool's threads, node 22 its scheduler's
        assert {names[t] for t in names if kind(creates.get(t, {}).get("start")) == "libuv-pool"} == \
            {"libuv-worker"}
        assert {names[t] for t in names if kind(creates.get(t, {}).get("start")) == "delayed-tasks"} == \
            {"DelayedTaskSche"}
