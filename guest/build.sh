#!/usr/bin/env bash
# Build the Virtus default guest from Debian bookworm packages only:
#   OUT/Image               riscv64 Linux 6.1 kernel (tinyconfig + kernel.fragment)
#   OUT/initramfs.cpio.gz   static busybox (defconfig + busybox.fragment), rootfs/, speedtest1
#   OUT/bench/speedtest1    sqlite's speedtest1, static riscv64
#   OUT/kernel.config, OUT/busybox.config, OUT/versions.txt, OUT/SHA256SUMS
#
# usage: guest/build.sh OUT_DIR        (run as root; needs network for apt)
#
# Environment:
#   SKIP_APT=1     do not touch apt (no deb-src setup, update or install); the
#                  packages and deb-src entries must already be there
#   BUILD_DIR=DIR  scratch directory (default: a new one under $TMPDIR or /tmp);
#                  unpacked sources in it are reused, build trees are rebuilt
#   KEEP_BUILD=1   keep the scratch directory after a successful build
#   JOBS=N         parallel make jobs (default: nproc)
#   PARTS_CACHE=DIR  reuse and keep the built kernel, busybox and speedtest1 in
#                  DIR/<part>-<hash>/, each hash covering the files that part
#                  is built from (kernel.sh + kernel.fragment, busybox.sh +
#                  busybox.fragment, speedtest1.sh; and lib.sh): a change to
#                  rootfs/ then only re-assembles the initramfs
#   PROGRESS_EVERY=S  seconds between progress lines (default 15)
#
# Progress lines (`==> ...`, and `    ... step: N s (last log line)` at least
# every PROGRESS_EVERY seconds) go to stderr; tool output goes to log files in
# the scratch directory, and the tail of the failing log is printed on error.
# Exit 1: the build failed; exit 2: this machine cannot build it as it is
# (not root, no apt, no space), with one `error:` line that says what to do.
set -euo pipefail
umask 022
export LC_ALL=C TZ=UTC DEBIAN_FRONTEND=noninteractive

RECIPE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
JOBS=${JOBS:-$(nproc)}

if [[ -n ${BUILD_DIR:-} ]]; then
  mkdir -p "$BUILD_DIR"
  TMP_BUILD=0
else
  BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virtus-guest.XXXXXX")
  TMP_BUILD=1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
LOGS=$BUILD_DIR/logs
rm -rf "$LOGS"
mkdir -p "$LOGS" "$BUILD_DIR/src"
STEP=start
START=$SECONDS
# shellcheck source=lib.sh
source "$RECIPE/lib.sh"
# shellcheck source=kernel.sh
source "$RECIPE/kernel.sh"
# shellcheck source=busybox.sh
source "$RECIPE/busybox.sh"
# shellcheck source=speedtest1.sh
source "$RECIPE/speedtest1.sh"

progress_ticker "${PROGRESS_EVERY:-15}" &
TICKER=$!

on_exit() {
  local rc=$?
  kill "$TICKER" 2>/dev/null
  if ((rc != 0)); then
    printf 'guest build FAILED (exit %d) while %s\n' "$rc" "$STEP" >&2
    printf 'scratch directory kept: %s (logs in %s)\n' "$BUILD_DIR" "$LOGS" >&2
  elif ((TMP_BUILD)) && [[ ${KEEP_BUILD:-0} != 1 ]]; then
    rm -rf "$BUILD_DIR"
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------- apt
mapfile -t PACKAGES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$RECIPE/packages.txt")

have_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    if grep -qE '^[[:space:]]*deb-src[[:space:]]|^[[:space:]]*Types:.*[[:space:]]deb-src([[:space:]]|$)' "$f"; then
      return 0
    fi
  done
  return 1
}

# Adds a separate deb-src list mirroring the Debian binary sources (the
# distribution's own files are left alone).
enable_deb_src() {
  local d=/etc/apt/sources.list.d
  if [[ -f $d/debian.sources ]]; then
    sed -E 's/^Types:.*/Types: deb-src/' "$d/debian.sources" >"$d/virtus-deb-src.sources"
    say "enabled deb-src: wrote $d/virtus-deb-src.sources"
  elif grep -qE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list 2>/dev/null; then
    sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list >"$d/virtus-deb-src.list"
    say "enabled deb-src: wrote $d/virtus-deb-src.list"
  else
    die_env "no Debian apt sources found to derive deb-src entries from: add deb-src lines for Debian 12 to /etc/apt/sources.list"
  fi
}

# Retries while another apt/dpkg process holds the locks.
apt_retry() {
  local i
  for i in $(seq 1 30); do
    if "$@" -o DPkg::Lock::Timeout=600; then return 0; fi
    echo "attempt $i failed; retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

if [[ ${SKIP_APT:-0} != 1 ]]; then
  command -v apt-get >/dev/null || die_env "apt-get not found: the guest is built from Debian 12 packages; build it on Debian 12 (or set SKIP_APT=1 with the packages installed)"
  [[ $(id -u) == 0 ]] || die_env "installing the build packages needs root: run as root (sudo), or install them and set SKIP_APT=1"
  step "installing Debian packages"
  have_deb_src || enable_deb_src
  run apt apt_retry apt-get update
  run apt apt_retry apt-get install -y --no-install-recommends "${PACKAGES[@]}"
fi

# ---------------------------------------------------------------- components
component kernel "$RECIPE/kernel.sh" "$RECIPE/lib.sh" "$RECIPE/kernel.fragment"
component busybox "$RECIPE/busybox.sh" "$RECIPE/lib.sh" "$RECIPE/busybox.fragment"
component speedtest1 "$RECIPE/speedtest1.sh" "$RECIPE/lib.sh"
PARTS=$BUILD_DIR/parts
install -m 0644 "$PARTS/kernel/Image" "$PARTS/kernel/kernel.config" "$PARTS/busybox/busybox.config" "$OUT/"
mkdir -p "$OUT/bench"
install -m 0755 "$PARTS/speedtest1/speedtest1" "$OUT/bench/speedtest1"

# ---------------------------------------------------------------- initramfs
step "assembling initramfs"
ROOT=$BUILD_DIR/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,etc,mnt,proc,root,sys,tmp}
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cp -R "$RECIPE/rootfs/." "$ROOT/"
# Modes from the recipe's executable bits only, whatever the checkout's umask.
find "$ROOT" -type f -perm -u+x -exec chmod 0755 {} +
find "$ROOT" -type f ! -perm -u+x -exec chmod 0644 {} +
install -m 0755 "$PARTS/busybox/busybox" "$ROOT/bin/busybox"
while read -r applet; do
  [[ -z $applet || $applet == /bin/busybox ]] && continue
  mkdir -p "$ROOT$(dirname "$applet")"
  [[ -e $ROOT$applet ]] || ln -s /bin/busybox "$ROOT$applet"
done <"$PARTS/busybox/busybox.links"
install -m 0755 "$OUT/bench/speedtest1" "$ROOT/bin/speedtest1"
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --reproducible --quiet) |
  gzip -9 -n >"$OUT/initramfs.cpio.gz"

# ---------------------------------------------------------------- record
{
  echo "# Debian packages and sources this guest was built from"
  dpkg-query -W -f '${Package} ${Version}\n' gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
    binutils-riscv64-linux-gnu tcl
  cat "$PARTS"/{kernel,busybox,speedtest1}/versions.txt
} >"$OUT/versions.txt"
(cd "$OUT" && sha256sum Image initramfs.cpio.gz bench/speedtest1 >SHA256SUMS)

STEP=finishing
say "guest built in $((SECONDS - START)) s: $OUT"
(cd "$OUT" && ls -l Image initramfs.cpio.gz bench/speedtest1) >&2
