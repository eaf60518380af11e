#!/usr/bin/env bash
# Installs what sluice needs on Debian 12 (as root), builds it, and runs it or its tests.
#   bash deploy/dev.sh run [sluice args...]   build, then run sluice (default: embedded config)
#   bash deploy/dev.sh test                   build, then run every test (ctest)
#   bash deploy/dev.sh build                  install and build only
#   bash deploy/dev.sh sanitize               every test against an address, undefined-behaviour
#                                             and leak sanitized build (build-asan/; slower)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libuv1-dev libsimdjson-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
  librdkafka-dev libonig-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev systemd-journal-remote
  python3 python3-msgpack python3-fluent-logger python3-yaml kcat logrotate openssl procps zstd
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  install_packages
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build -j"$(nproc)"
}

sanitize() {
  install_packages
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
  ninja -C build-asan -j"$(nproc)"
  cd build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    exec ctest --output-on-failure -j"$(nproc)" --timeout 600
}

cmd="${1:-run}"
shift || true
case "$cmd" in
  run)   build; exec ./build/sluice "$@" ;;
  test)  build; cd build && exec ctest --output-on-failure -j"$(nproc)" --timeout 300 ;;
  build) build ;;
  sanitize) sanitize ;;
  *) echo "usage: $0 run|test|build|sanitize" >&2; exit 2 ;;
esac
