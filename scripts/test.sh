#!/usr/bin/env bash
# The whole test suite on a fresh machine: venv, services, lint, migrations and schema checks, pytest.
source "$(dirname "$0")/env.sh"
ensure_all
ensure_chromium
cd "$ROOT"
log "ruff"
"$VENV/bin/ruff" check saleor_subscriptions tests $(ls -d bench 2>/dev/null)
ensure_database
log "migrations are current"
"$PY" -m django makemigrations saleor_subscriptions --check --dry-run >/dev/null \
  || { echo "Model changes without a migration: run make migrations" >&2; exit 1; }
log "GraphQL schema snapshot is current"
"$PY" -m django print_subscriptions_schema --check schema.graphql
log "pytest"
ensure_database
bash "$ROOT/scripts/pytest.sh" "$@"
