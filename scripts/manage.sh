#!/usr/bin/env bash
# Django's manage.py for this checkout: the project's venv, host settings
# (DJANGO_SETTINGS_MODULE=saleor_subscriptions.host.settings) and the demo's database
# (DEMO_DATABASE_URL, else DATABASE_URL), e.g. `scripts/manage.sh renew_subscriptions`.
source "$(dirname "$0")/env.sh"
export DATABASE_URL="${DEMO_DATABASE_URL:-$DATABASE_URL}"
exec "$PY" -m django "$@"
