// rtmon gc's Node.js test program: allocation that makes V8 collect by itself (scavenges, or minor
// mark collections with --minor-mc / --minor-ms), then exactly FULL gc() calls (mark-compact,
// reason "testing") and MINOR gc({type: "minor"}) calls (the young generation, reason "testing").
// Run it with --expose-gc; the tests add --trace-gc, node's own line per collection, to compare.
//
// Usage: node --expose-gc nodegc.js [FULL [MINOR [MB [WORKER]]]]. MB: megabytes of short-lived
// objects allocated first. WORKER 1: the same work in a worker_threads thread too (its own
// isolate and heap). Prints "ready", then waits for one line on stdin (EOF starts it at once), like
// testprog/tp_gate.h; prints "done" at the end.
'use strict';
const fs = require('fs');
const { Worker, isMainThread, workerData } = require('worker_threads');

function work(full, minor, mb) {
  let keep = [];
  // About 64 bytes an object: MB megabytes in all, only the last thousand kept alive.
  for (let i = 0; i < mb * 16384; i++) {
    keep.push({ i, s: 'x' + i });
    if (keep.length > 1000) keep = [];
  }
  for (let i = 0; i < full; i++) gc();
  for (let i = 0; i < minor; i++) gc({ type: 'minor' });
  return keep.length;
}

if (!isMainThread) {
  work(workerData.full, workerData.minor, workerData.mb);
} else {
  const [full, minor, mb, worker] = [3, 2, 8, 0].map((d, i) => {
    const v = process.argv[2 + i];
    return v === undefined ? d : Number(v);
  });
  fs.writeSync(1, 'ready\n');
  try {
    fs.readSync(0, Buffer.alloc(1), 0, 1, null);
  } catch (e) {
    // stdin closed or not readable: start at once
  }
  work(full, minor, mb);
  const finish = () => {
    fs.writeSync(1, 'done\n');
    process.exit(0);
  };
  if (worker) {
    new Worker(__filename, { workerData: { full, minor, mb } }).on('exit', finish);
  } else {
    finish();
  }
}
