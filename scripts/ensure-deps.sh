#!/usr/bin/env bash
# Makes sure Node is new enough and node_modules matches package-lock.json, installing only when needed,
# so `npm start` / `npm test` work on a fresh clone and stay fast on every later run.
#
# Run it (bash scripts/ensure-deps.sh) or source it (. scripts/ensure-deps.sh). When sourced, the work
# happens in a subshell function: the caller's shell options and cwd stay untouched, and a failure
# returns non-zero instead of closing an interactive shell.

_runline_ensure_deps() (
  set -euo pipefail
  # Explicit exits below: errexit is void if a caller sources this inside `if` or `||`.
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || exit 1
  cd "$root" || exit 1

  # The node version is checked before npm runs: an old Node fails later with obscure syntax errors.
  if ! command -v node >/dev/null 2>&1; then
    echo "runline: Node.js is not installed. Install Node.js 20 or newer: 'nvm install 20', or see" >&2
    echo "         https://nodejs.org/en/download (Debian/Ubuntu: https://github.com/nodesource/distributions)." >&2
    exit 1
  fi
  major="$(node -p 'process.versions.node.split(".")[0]')" || exit 1
  if [ "$major" -lt 20 ]; then
    echo "runline: Node.js $(node -v) is too old; Runline needs 20 or newer. Fix: 'nvm install 20 && nvm use 20'," >&2
    echo "         or install a current release from https://nodejs.org/en/download." >&2
    exit 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "runline: npm is missing (Debian/Ubuntu ship it separately: 'sudo apt-get install npm', or use nvm)." >&2
    exit 1
  fi

  # npm writes node_modules/.package-lock.json after every install; a lockfile newer than that means
  # someone pulled or changed dependencies since the last install.
  if [ -f package-lock.json ]; then
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "runline: installing dependencies (npm ci)" >&2
      npm ci --no-audit --no-fund || exit 1
    fi
  elif [ ! -d node_modules ]; then
    echo "runline: installing dependencies (npm install)" >&2
    npm install --no-audit --no-fund || exit 1
  fi
)

# Strict mode for the caller's shell only when we are the whole program, never when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then set -euo pipefail; fi
# Called plainly (not `|| return`, which would switch off errexit inside it); its status is the file's.
_runline_ensure_deps
