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
# exec: with-services.sh exits with jest's own exit code.
exec bash "$ROOT/scripts/with-services.sh" npx jest --config jest.config.cjs "$@"
