// Finding and signalling every process of a private server. Plain CommonJS, shared by the TypeScript side and by
// reaper.cjs (which runs under bare node).
//
// A process group is not enough: every Postgres backend and auxiliary process calls setsid(), so the postmaster's
// group holds the postmaster alone. Its children are found by parent pid instead; group members are added too
// (a Redis fork for an AOF rewrite whose parent already died).
"use strict";
const fs = require("node:fs");

/** pid -> { ppid, pgrp, state } for every process, or null without procfs (not Linux). */
function readProcs() {
  let entries;
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return null;
  }
  const procs = new Map();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = statOf(Number(entry));
    if (info) procs.set(Number(entry), info);
  }
  return procs;
}

function statOf(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null; // exited while we looked
  }
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'.
  const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

/** Live pids below `root` (transitively, by parent) or in its process group; `root` itself excluded. */
function membersOf(root) {
  const procs = readProcs();
  if (!procs) return [];
  const children = new Map();
  const found = new Set();
  for (const [pid, p] of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(pid);
    if (p.pgrp === root && pid !== root) found.add(pid);
  }
  const seen = new Set([root]);
  const stack = [root, ...found];
  while (stack.length) {
    for (const child of children.get(stack.pop()) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.add(child);
      stack.push(child);
    }
  }
  return [...found];
}

/**
 * Sends `signal` to `root` and all its members; returns the members signalled. For SIGKILL and SIGSTOP the root is
 * frozen first, so that it cannot fork replacements or start crash recovery while its children go down.
 */
function signalTree(root, signal) {
  if (signal === "SIGKILL" || signal === "SIGSTOP") send(root, "SIGSTOP");
  const members = membersOf(root);
  for (const pid of members) send(pid, signal);
  send(root, signal);
  send(-root, signal); // the group too: the whole answer without procfs, a no-op otherwise
  return members;
}

/** True while `pid` runs. Zombies do not count: they hold no port and no shared memory, only a pid-table slot. */
function isLive(pid) {
  const info = statOf(pid);
  if (info) return info.state !== "Z" && info.state !== "X";
  if (fs.existsSync("/proc/self")) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function send(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

module.exports = { membersOf, signalTree, isLive };
