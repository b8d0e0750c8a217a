// rtmon gc's Node.js test program: allocation that makes V8 collect by itself (scavenges, or minor
// mark collections with --minor-mc / --minor-ms), then exactly FULL gc() calls (mark-compact,
// reason "testing") and MINOR gc({type: "minor"}) calls (the young generation, reason "testing").
// Run it with --expose-gc; the tests add --trace-gc, node's own line per collection, to compare.
//
// Usage: node --expose-gc nodegc.js [NAME=VALUE]... with (defaults in brackets)
//   full=N [3], minor=N [2]   the gc() and gc({type: "minor"}) calls
//   mb=N [8]                  megabytes of short-lived objects allocated first (scavenges)
//   retain=N [0]              megabytes kept alive before the gc() calls: the old generation grows
//                             until V8 marks it incrementally and finishes with a mark-compact
//   snapshots=N [0]           heap snapshots taken (v8.getHeapSnapshot: reason "heap profiler")
//   worker=1 [0]              the same work in a worker_threads thread too (its own isolate and
//                             heap), after the main thread's
// Prints "ready", then waits for one line on stdin (EOF starts it at once), like testprog/tp_gate.h;
// prints "done" at the end.
'use strict';
const fs = require('fs');
const v8 = require('v8');
const { Worker, isMainThread, workerData } = require('worker_threads');

function work(o) {
  let keep = [];
  // About 64 bytes an object: mb megabytes in all, only the last thousand alive at any time.
  for (let i = 0; i < o.mb * 16384; i++) {
    keep.push({ i, s: 'x' + i });
    if (keep.length > 1000) keep = [];
  }
  // Snapshots first, while the heap is small: each walks all of it.
  for (let i = 0; i < o.snapshots; i++) v8.getHeapSnapshot().resume();
  const retained = [];
  for (let i = 0; i < o.retain * 16384; i++) retained.push({ i });
  for (let i = 0; i < o.full; i++) gc();
  for (let i = 0; i < o.minor; i++) gc({ type: 'minor' });
  return keep.length + retained.length;
}

function options(argv) {
  const o = { full: 3, minor: 2, mb: 8, retain: 0, snapshots: 0, worker: 0 };
  for (const a of argv) {
    const [k, v] = a.split('=');
    if (!(k in o) || v === undefined || isNaN(Number(v))) throw new Error(`bad argument ${a}`);
    o[k] = Number(v);
  }
  return o;
}

if (!isMainThread) {
  work(workerData);
} else {
  const o = options(process.argv.slice(2));
  fs.writeSync(1, 'ready\n');
  try {
    fs.readSync(0, Buffer.alloc(1), 0, 1, null);
  } catch (e) {
    // stdin closed or not readable: start at once
  }
  work(o);
  const finish = () => {
    fs.writeSync(1, 'done\n');
    process.exit(0);
  };
  if (o.worker) {
    new Worker(__filename, { workerData: o }).on('exit', finish);
  } else {
    finish();
  }
}
