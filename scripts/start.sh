#!/usr/bin/env bash
# npm start: install dependencies if needed, make sure Redis and Postgres are there, then run Runline.
# Arguments are passed to the entry point, e.g. `npm start -- --role api` (or set RUNLINE_ROLE).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/ensure-deps.sh"
# The entry point path is relative to the repo root, whatever directory we were started from.
cd "$ROOT"
# Invoked through bash, so a checkout that lost the executable bits still works.
exec bash "$ROOT/scripts/with-services.sh" npx tsx apps/runline/src/main.ts "$@"
