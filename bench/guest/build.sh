#!/usr/bin/env bash
# Build the benchmark initramfs: the default guest's initramfs (busybox,
# /init, speedtest1) followed by a second cpio with third-party programs
# cross-built from Debian bookworm sources (parts/*.sh) and the workloads'
# scripts (rootfs/). Linux unpacks both archives, so the result boots like the
# default guest, with /bench added.
#   OUT/initramfs.cpio.gz   the bootable initramfs (BASE ++ bench.cpio.gz)
#   OUT/bench.cpio.gz       the added archive alone
#   OUT/versions.txt, OUT/SHA256SUMS
#
# usage: bench/guest/build.sh OUT_DIR [BASE_INITRAMFS]   (default: $BASE_INITRAMFS)
#
# Environment (as for guest/build.sh, whose lib.sh this uses):
#   BUILD_DIR=DIR    scratch directory (default: a new one, removed after success)
#   PARTS_CACHE=DIR  keep and reuse each built program in DIR/<part>-<hash>/
#   JOBS=N           parallel make jobs (default: 1; the machine is shared)
#   PROGRESS_EVERY=S seconds between progress lines (default 15)
# Needs deb-src entries for `apt-get source`; as root they are added when missing
# (as guest/build.sh does). Exit 1: the build failed; exit 2: this machine
# cannot build it as it is, with one `error:` line that says what to do.
set -euo pipefail
umask 022
export LC_ALL=C TZ=UTC DEBIAN_FRONTEND=noninteractive

RECIPE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_RECIPE=$(cd "$RECIPE/../../guest" && pwd)
BASE=${2:-${BASE_INITRAMFS:-}}
if [[ $# -lt 1 || $# -gt 2 || -z $1 || ! -f $BASE ]]; then
  echo "usage: $0 OUT_DIR [BASE_INITRAMFS] (the default guest's initramfs.cpio.gz; default: \$BASE_INITRAMFS)" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
BASE=$(cd "$(dirname "$BASE")" && pwd)/$(basename "$BASE")
JOBS=${JOBS:-1}

if [[ -n ${BUILD_DIR:-} ]]; then
  mkdir -p "$BUILD_DIR"
  TMP_BUILD=0
else
  BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virtus-bench-guest.XXXXXX")
  TMP_BUILD=1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
LOGS=$BUILD_DIR/logs
rm -rf "$LOGS"
mkdir -p "$LOGS" "$BUILD_DIR/src"
STEP=start
START=$SECONDS
# shellcheck source=../../guest/lib.sh
source "$GUEST_RECIPE/lib.sh"
PARTS=(gzip bzip2 xz lua mawk kissfft)
for part in common "${PARTS[@]}"; do
  # shellcheck source=/dev/null
  source "$RECIPE/parts/$part.sh"
done

progress_ticker "${PROGRESS_EVERY:-15}" &
TICKER=$!
on_exit() {
  local rc=$?
  kill "$TICKER" 2>/dev/null
  if ((rc != 0)); then
    printf 'benchmark initramfs build FAILED (exit %d) while %s\n' "$rc" "$STEP" >&2
    printf 'scratch directory kept: %s (logs in %s)\n' "$BUILD_DIR" "$LOGS" >&2
  elif ((TMP_BUILD)) && [[ ${KEEP_BUILD:-0} != 1 ]]; then
    rm -rf "$BUILD_DIR"
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------- deb-src
if ! grep -qsE '^[[:space:]]*deb-src[[:space:]]|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*; then
  [[ $(id -u) == 0 && -f /etc/apt/sources.list.d/debian.sources ]] ||
    die_env "no deb-src entries for apt-get source: run this once as root, or add deb-src lines for Debian 12"
  step "enabling deb-src"
  sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    >/etc/apt/sources.list.d/virtus-deb-src.sources
  run apt apt-get update -o DPkg::Lock::Timeout=600
fi

# ---------------------------------------------------------------- parts
for part in "${PARTS[@]}"; do
  component "$part" "$RECIPE/parts/$part.sh" "$RECIPE/parts/common.sh" "$GUEST_RECIPE/lib.sh"
done

# ---------------------------------------------------------------- initramfs
step "assembling the benchmark initramfs"
ROOT=$BUILD_DIR/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT/bench/bin"
cp -R "$RECIPE/rootfs/." "$ROOT/"
find "$ROOT" -type f -perm -u+x -exec chmod 0755 {} +
find "$ROOT" -type f ! -perm -u+x -exec chmod 0644 {} +
for part in "${PARTS[@]}"; do
  find "$BUILD_DIR/parts/$part" -maxdepth 1 -type f -perm -u+x -exec install -m 0755 {} "$ROOT/bench/bin/" \;
done
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --reproducible --quiet) |
  gzip -9 -n >"$OUT/bench.cpio.gz"
cat "$BASE" "$OUT/bench.cpio.gz" >"$OUT/initramfs.cpio.gz"

{
  echo "# Debian sources of the benchmark programs; the base initramfs's sha256"
  for part in "${PARTS[@]}"; do cat "$BUILD_DIR/parts/$part/versions.txt"; done
  dpkg-query -W -f '${Package} ${Version}\n' gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
  echo "base $(sha256sum "$BASE" | cut -d' ' -f1)"
} >"$OUT/versions.txt"
(cd "$OUT" && sha256sum initramfs.cpio.gz bench.cpio.gz >SHA256SUMS)
STEP=finishing
say "benchmark initramfs built in $((SECONDS - START)) s: $OUT"
(cd "$ROOT/bench/bin" && ls -l) >&2
