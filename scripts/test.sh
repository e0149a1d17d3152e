#!/usr/bin/env bash
# npm test: install dependencies if needed, make sure Redis and Postgres are there, then run jest.
# Extra arguments go to jest, e.g. `npm test -- --selectProjects unit` or `npm test -- cancel`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/ensure-deps.sh"
cd "$ROOT"
# --ci: never write new snapshots in CI, where nobody would review them.
case "${CI:-}" in
  true | 1) set -- --ci "$@" ;;
esac
# Jest prints its own summary after every reporter; our reporter leaves the closing
# "N passed, N failed" line in a file so it can be the very last line of the run.
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
status=0
RUNLINE_TEST_SUMMARY_FILE="$summary" bash "$ROOT/scripts/with-services.sh" npx jest --config jest.config.cjs "$@" || status=$?
if [ -s "$summary" ]; then
  cat "$summary"
else
  echo "0 passed, 1 failed"
  echo "runline: jest ended (exit $status) without reporting results" >&2
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
