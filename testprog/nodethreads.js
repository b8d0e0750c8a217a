// rtmon thr's Node.js test program: node's own threads (V8's platform workers, --v8-pool-size of
// them; libuv's thread pool, UV_THREADPOOL_SIZE, started by the first fs call; the inspector's I/O
// thread; V8's delayed task scheduler) and one worker_threads thread. While they all run it prints
// each thread's tid and name as the kernel has them (/proc/self/task/TID/comm), one JSON line, then
// ends the worker and exits.
'use strict';
const fs = require('fs');
const { Worker, isMainThread, parentPort } = require('worker_threads');

if (!isMainThread) {
  parentPort.postMessage('up');
  setInterval(() => {}, 1000);
} else {
  fs.readFile(__filename, () => {
    const w = new Worker(__filename);
    w.on('message', () => {
      const names = {};
      for (const tid of fs.readdirSync('/proc/self/task')) {
        names[tid] = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      }
      fs.writeSync(1, JSON.stringify({ pid: process.pid, threads: names }) + '\n');
      w.terminate().then(() => process.exit(0));
    });
  });
}
