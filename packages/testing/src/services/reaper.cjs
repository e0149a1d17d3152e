// Watchdog for private test servers. The test process sends it JSON lines ({"op":"+"|"-", "server": pid} or
// {"op":"+"|"-", "dir": path, "pidFile"?: path}) on stdin. When stdin ends, the test process is gone - even
// SIGKILLed, when no 'exit' handler ran - so it SIGKILLs the servers still registered (with every process they
// started) and removes the dirs.
// Plain CommonJS so it runs with bare `node`, outside jest and tsx.
"use strict";
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");
const { signalTree } = require("./proc-tree.cjs");

const servers = new Set();
const dirs = new Map(); // dir -> postmaster.pid path or null

let buffer = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf("\n")) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    if (msg.server !== undefined) msg.op === "+" ? servers.add(msg.server) : servers.delete(msg.server);
    if (msg.dir !== undefined) msg.op === "+" ? dirs.set(msg.dir, msg.pidFile ?? null) : dirs.delete(msg.dir);
  }
});
process.stdin.on("end", () => {
  for (const pid of servers) signalTree(pid, "SIGKILL");
  for (const [dir, pidFile] of dirs) {
    if (pidFile) dropSysvSegment(pidFile);
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  process.exit(0);
});

// A SIGKILLed postmaster leaves its small SysV segment behind; line 7 of postmaster.pid is "key shmid".
function dropSysvSegment(pidFile) {
  try {
    const shmid = fs.readFileSync(pidFile, "utf8").split("\n")[6]?.trim().split(/\s+/)[1];
    if (shmid && /^\d+$/.test(shmid)) spawnSync("ipcrm", ["-m", shmid], { stdio: "ignore" });
  } catch {
    /* no pid file: clean shutdown */
  }
}
