# Shared set-up for the project's scripts: sourced, not run.
# Creates the Python 3.8 venv from the committed constraints and starts PostgreSQL and Redis
# when they are not running, so a fresh machine works.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-saleor_subscriptions.host.settings}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/saleor_subscriptions}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export SECRET_KEY="${SECRET_KEY:-dev-only-not-secret}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python38() {
  local candidate
  for candidate in "${PYTHON38:-}" python3.8 /root/.pyenv/versions/3.8*/bin/python3.8 \
      "$HOME"/.pyenv/versions/3.8*/bin/python3.8 /usr/local/bin/python3.8 /usr/bin/python3.8; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 8)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local v; v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.8' | tail -n1 || true)
    if [ -n "$v" ]; then echo "$(pyenv root)/versions/$v/bin/python3.8"; return 0; fi
  fi
  return 1
}

ensure_venv() {
  local stamp="$VENV/.constraints.sha" want
  want=$(cat "$ROOT/requirements/constraints.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)
  if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  local py38; py38=$(find_python38) || { echo "Python 3.8 is required (pyenv install 3.8.18)" >&2; exit 1; }
  log "Creating the venv with $py38"
  [ -x "$PY" ] || "$py38" -m venv "$VENV"
  "$PY" -m pip install -q --disable-pip-version-check 'pip<24.1' 'setuptools>=64,<70' wheel
  "$PY" -m pip install -q --disable-pip-version-check -c "$ROOT/requirements/constraints.txt" -e "$ROOT[test]"
  echo "$want" > "$stamp"
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  case "${DATABASE_URL}" in *127.0.0.1*|*localhost*) ;; *) return 0 ;; esac
  log "Starting PostgreSQL"
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    local conf; conf=$(ls -d /etc/postgresql/*/main | head -n1)
    sed -i 's/^\(host.*\)scram-sha-256$/\1trust/; s/^\(host.*\)md5$/\1trust/; s/^\(local.*\)peer$/\1trust/' "$conf/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  echo "PostgreSQL did not start" >&2; exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return 0; fi
  case "${CELERY_BROKER_URL}" in *127.0.0.1*|*localhost*) ;; *) return 0 ;; esac
  log "Starting Redis"
  if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0; sleep 1; done
  echo "Redis did not start" >&2; exit 1
}

# The staff console's browser tests drive Debian's Chromium headless (Playwright's own browser
# download needs the internet); CHROMIUM points elsewhere when set.
ensure_chromium() {
  export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$CHROMIUM" ]; then return 0; fi
  log "Installing Chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  [ -x "$CHROMIUM" ] || { echo "Chromium is not at $CHROMIUM" >&2; exit 1; }
}

ensure_database() {
  "$PY" - <<'PYEOF'
import os, psycopg2, dj_database_url
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
conn = psycopg2.connect(dbname="postgres", user=cfg["USER"] or "postgres", password=cfg["PASSWORD"] or None,
                        host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
    if not cur.fetchone():
        cur.execute('CREATE DATABASE "%s"' % cfg["NAME"])
PYEOF
}

# The benchmarks' own database (DATABASE_URL as the benchmark set it), dropped, made, migrated.
fresh_bench_database() {
  "$PY" - <<'PYEOF'
import os, psycopg2, dj_database_url
cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
conn = psycopg2.connect(dbname="postgres", user=cfg["USER"] or "postgres",
                        host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute('DROP DATABASE IF EXISTS "%s"' % cfg["NAME"])
    cur.execute('CREATE DATABASE "%s"' % cfg["NAME"])
PYEOF
  "$PY" -m django migrate -v0
}

ensure_all() {
  ensure_venv
  ensure_postgres
  ensure_redis
}
