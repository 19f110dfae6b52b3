#!/usr/bin/env bash
# The test command: everything CI checks, runnable on a fresh machine with only the Rust
# toolchain. It installs what is missing (Chromium and chromedriver for the browser tests,
# PostgreSQL; as root with apt-get), starts a throwaway PostgreSQL server for the
# database-backed tests and stops it whatever happens.
#
#   scripts/test.sh            every check
#
# Exits non-zero on the first failing step and prints the test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

# The test command builds everything once: incremental caches would only take disk (2.8 of
# 7.1 GB of a clean build's target/). Set CARGO_INCREMENTAL=1 to keep them while iterating.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    fail "need root to run: $*"; fi
}

apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# cargo-nextest, or plain `cargo test` where it is missing.
run_tests() { # run_tests <nextest filterset>
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --profile ci --no-tests=warn --ignore-default-filter -E "$1"
  else
    fail "cargo-nextest is not installed (cargo install cargo-nextest --locked)"
  fi
}

step "cargo fmt --check"
cargo fmt --all --check || fail "formatting (run cargo fmt --all)"

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings || fail "clippy"

step "gatehouse-compliance depends on nothing of the web, ORM, GraphQL or async world"
forbidden=$(cargo tree -p gatehouse-compliance -e normal,build --prefix none --quiet \
  | awk '{print $1}' | sort -u \
  | grep -E '^(axum|axum-core|async-graphql|sea-orm|sea-query|sqlx|sqlx-core|reqwest|tokio|hyper|handlebars)$' || true)
[ -z "$forbidden" ] || fail "gatehouse-compliance depends on: $forbidden"
echo "ok"

step "gatehouse-core depends on no HTTP server, GraphQL or templates"
forbidden=$(cargo tree -p gatehouse-core -e normal,build --prefix none --quiet \
  | awk '{print $1}' | sort -u \
  | grep -E '^(axum|axum-core|axum-extra|async-graphql|async-graphql-axum|async-graphql-parser|handlebars|synchro-sim|gatehouse)$' || true)
[ -z "$forbidden" ] || fail "gatehouse-core depends on: $forbidden"
echo "ok"

step "no import cycle between the top-level modules of a crate"
for src in compliance/src core/src api/src migrations/src simulator/src tests/src; do
  python3 scripts/module-cycles.py "$src" || fail "module cycle in $src (see the edges above)"
done

step "the committed GraphQL schema matches the code"
schema_now="$(mktemp)"
cargo run --quiet -p gatehouse -- export-schema > "$schema_now"
diff -u api/schema.graphql "$schema_now" \
  || fail "api/schema.graphql drifted: run cargo run -p gatehouse -- export-schema > api/schema.graphql"
echo "ok"

step "tests on SQLite"
run_tests 'not test(/(^|::)postgres::/) and not binary(browser)'

step "Chromium and chromedriver: install if absent"
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  apt_install chromium chromium-driver
fi
command -v chromedriver >/dev/null || fail "chromedriver not found on PATH after installing"
command -v chromium >/dev/null || fail "chromium not found on PATH after installing"
chromedriver --version | head -n 1

step "browser tests: headless Chromium over WebDriver (SQLite; screenshots in tests/screenshots/)"
run_tests 'binary(browser)'

step "PostgreSQL: install if absent, start a throwaway server"
pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && pg_bin="$dir"; done
if [ -z "$pg_bin" ]; then
  apt_install postgresql
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && pg_bin="$dir"; done
fi
[ -n "$pg_bin" ] || fail "PostgreSQL binaries not found after installing"
id postgres >/dev/null 2>&1 || as_root useradd --system --no-create-home postgres

pg_dir=$(mktemp -d /tmp/gatehouse-pg.XXXXXX)
chown postgres "$pg_dir" 2>/dev/null || as_root chown postgres "$pg_dir"
run_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi; }
stop_pg() {
  run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT

port=""
for candidate in $(seq 54329 54399); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || fail "no free port for PostgreSQL"
run_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null \
  || { cat "$pg_dir/server.log" >&2; fail "PostgreSQL did not start"; }
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
export GATEHOUSE_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"

step "tests on PostgreSQL"
run_tests 'test(/(^|::)postgres::/)'

step "all checks passed"
