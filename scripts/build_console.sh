#!/usr/bin/env bash
# Rebuilds the staff console's shipped chart library from console/package-lock.json:
# `npm ci` installs exactly the locked versions, then the minified UMD bundle and its licence are
# copied into the Python package (saleor_subscriptions/console/static/console/vendor/), which is
# committed: installing or running the console needs neither npm nor the internet.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/saleor_subscriptions/console/static/console/vendor"
cd "$ROOT/console"
npm ci --ignore-scripts --no-audit --no-fund
mkdir -p "$VENDOR"
cp node_modules/chart.js/dist/chart.umd.min.js "$VENDOR/chart.umd.min.js"
cp node_modules/chart.js/LICENSE.md "$VENDOR/chart.js.LICENSE.md"
version=$(node -p 'require("./node_modules/chart.js/package.json").version')
echo "$version" > "$VENDOR/chart.js.VERSION"
echo "chart.js $version -> $VENDOR"
