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
#
# Progress lines (`==> ...`) go to stderr; tool output goes to log files in the
# scratch directory, and the tail of the failing log is printed on error.
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
CROSS=riscv64-linux-gnu-

# Fixed build identity and dates: the same recipe and packages give the same bytes.
export KBUILD_BUILD_USER=virtus KBUILD_BUILD_HOST=virtus KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export SOURCE_DATE_EPOCH=1767225600

if [[ -n ${BUILD_DIR:-} ]]; then
  mkdir -p "$BUILD_DIR"
  TMP_BUILD=0
else
  BUILD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virtus-guest.XXXXXX")
  TMP_BUILD=1
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
LOGS=$BUILD_DIR/logs
mkdir -p "$LOGS" "$BUILD_DIR/src"
STEP=start
START=$SECONDS

say() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
step() {
  STEP=$1
  say "$1"
}

on_exit() {
  local rc=$?
  if ((rc != 0)); then
    printf 'guest build FAILED (exit %d) while %s\n' "$rc" "$STEP" >&2
    printf 'scratch directory kept: %s (logs in %s)\n' "$BUILD_DIR" "$LOGS" >&2
  elif ((TMP_BUILD)) && [[ ${KEEP_BUILD:-0} != 1 ]]; then
    rm -rf "$BUILD_DIR"
  fi
}
trap on_exit EXIT

# run LOG CMD...: run one simple command with its output appended to
# $LOGS/LOG.log; on failure print the tail of that log and stop.
run() {
  local log=$LOGS/$1.log
  shift
  printf '+ %s\n' "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    printf 'command failed: %s\n--- last 40 lines of %s ---\n' "$*" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------- apt
PACKAGES=(
  build-essential bc bison flex libssl-dev libelf-dev cpio gzip xz-utils dpkg-dev tcl
  gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1
)

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
    die "no Debian apt sources found to derive deb-src entries from"
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
  [[ $(id -u) == 0 ]] || die "must run as root to install packages (or set SKIP_APT=1)"
  step "installing Debian packages"
  have_deb_src || enable_deb_src
  run apt apt_retry apt-get update
  run apt apt_retry apt-get install -y --no-install-recommends "${PACKAGES[@]}"
fi

# ---------------------------------------------------------------- sources
step "unpacking sources (linux-source-6.1, apt-get source busybox sqlite3)"
cd "$BUILD_DIR/src"
if ! compgen -G 'busybox-1.*/' >/dev/null || ! compgen -G 'sqlite3-3.*/' >/dev/null; then
  rm -rf busybox* sqlite3*
  if ! apt-get source busybox sqlite3 >>"$LOGS/sources.log" 2>&1; then
    tail -n 20 "$LOGS/sources.log" >&2
    die "apt-get source failed: deb-src entries missing or not fetched (run without SKIP_APT=1 as root)"
  fi
fi
if [[ ! -d linux-source-6.1 ]]; then
  [[ -f /usr/src/linux-source-6.1.tar.xz ]] || die "/usr/src/linux-source-6.1.tar.xz missing (apt-get install linux-source-6.1)"
  run sources tar -xf /usr/src/linux-source-6.1.tar.xz
fi
KSRC=$BUILD_DIR/src/linux-source-6.1
BB_SRC=$(compgen -G "$BUILD_DIR/src/busybox-1.*/" | head -n 1)
SQ_SRC=$(compgen -G "$BUILD_DIR/src/sqlite3-3.*/" | head -n 1)
BB_SRC=${BB_SRC%/}
SQ_SRC=${SQ_SRC%/}
cd "$BUILD_DIR"
rm -rf kbuild bbbuild sqbuild rootfs

# ---------------------------------------------------------------- config fragments
# Only `CONFIG_X=value` and `# CONFIG_X is not set` lines count.
fragment_lines() {
  grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$1"
}

# apply_fragment FRAGMENT CONFIG: replace or add each option of FRAGMENT in CONFIG.
apply_fragment() {
  fragment_lines "$1" >"$2.fragment"
  awk 'NR == FNR { match($0, /CONFIG_[A-Za-z0-9_]+/); want[substr($0, RSTART, RLENGTH)] = 1; next }
       match($0, /CONFIG_[A-Za-z0-9_]+/) && (substr($0, RSTART, RLENGTH) in want) { next }
       { print }' "$2.fragment" "$2" >"$2.new"
  cat "$2.fragment" >>"$2.new"
  mv "$2.new" "$2"
  rm "$2.fragment"
}

# check_fragment FRAGMENT CONFIG: fail listing every option that did not stick.
check_fragment() {
  local bad=0 line sym
  while IFS= read -r line; do
    if [[ $line == "# "* ]]; then
      sym=${line#\# }
      sym=${sym%% *}
      if grep -q "^$sym=" "$2"; then
        printf '  wanted "%s", got "%s"\n' "$line" "$(grep "^$sym=" "$2")" >&2
        bad=1
      fi
    elif ! grep -qxF -- "$line" "$2"; then
      sym=${line%%=*}
      printf '  wanted "%s", got "%s"\n' "$line" "$(grep -E "^(# )?$sym[= ]" "$2" || echo unset)" >&2
      bad=1
    fi
  done < <(fragment_lines "$1")
  return "$bad"
}

# ---------------------------------------------------------------- kernel
step "configuring kernel (tinyconfig + kernel.fragment)"
KOUT=$BUILD_DIR/kbuild
KMAKE=(make -C "$KSRC" O="$KOUT" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
run kernel "${KMAKE[@]}" tinyconfig
# Twice: an option can become visible only once another one is on.
for _ in 1 2; do
  apply_fragment "$RECIPE/kernel.fragment" "$KOUT/.config"
  run kernel "${KMAKE[@]}" olddefconfig
done
check_fragment "$RECIPE/kernel.fragment" "$KOUT/.config" || die "kernel.fragment options did not stick (see above)"

step "building kernel Image"
t0=$SECONDS
run kernel "${KMAKE[@]}" Image
say "kernel Image built in $((SECONDS - t0)) s"
install -m 0644 "$KOUT/arch/riscv/boot/Image" "$OUT/Image"
install -m 0644 "$KOUT/.config" "$OUT/kernel.config"

# ---------------------------------------------------------------- busybox
step "building static busybox"
t0=$SECONDS
BBOUT=$BUILD_DIR/bbbuild
mkdir -p "$BBOUT"
BBMAKE=(make -C "$BB_SRC" O="$BBOUT" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
run busybox "${BBMAKE[@]}" defconfig
apply_fragment "$RECIPE/busybox.fragment" "$BBOUT/.config"
# busybox's kconfig has no olddefconfig: answer every new question with its default.
run busybox bash -c 'yes "" | "$@" oldconfig' bash "${BBMAKE[@]}"
check_fragment "$RECIPE/busybox.fragment" "$BBOUT/.config" || die "busybox.fragment options did not stick (see above)"
run busybox "${BBMAKE[@]}" busybox busybox.links
say "busybox built in $((SECONDS - t0)) s"
install -m 0644 "$BBOUT/.config" "$OUT/busybox.config"

# ---------------------------------------------------------------- speedtest1
step "building sqlite3 amalgamation and speedtest1"
t0=$SECONDS
SQB=$BUILD_DIR/sqbuild
mkdir -p "$SQB" "$OUT/bench"
cd "$SQB"
run sqlite "$SQ_SRC/configure" --disable-tcl
run sqlite make -j"$JOBS" sqlite3.c
cd "$BUILD_DIR"
run sqlite "${CROSS}gcc" -static -O2 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
  -ffile-prefix-map="$BUILD_DIR/"= -I"$SQB" \
  -o "$SQB/speedtest1" "$SQ_SRC/test/speedtest1.c" "$SQB/sqlite3.c" -lm
run sqlite "${CROSS}strip" "$SQB/speedtest1"
install -m 0755 "$SQB/speedtest1" "$OUT/bench/speedtest1"
say "speedtest1 built in $((SECONDS - t0)) s"

# ---------------------------------------------------------------- initramfs
step "assembling initramfs"
ROOT=$BUILD_DIR/rootfs
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,etc,mnt,proc,root,sys,tmp}
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cp -R "$RECIPE/rootfs/." "$ROOT/"
chmod 0755 "$ROOT/init" "$ROOT"/bin/*
chmod 0644 "$ROOT"/etc/*
install -m 0755 "$BBOUT/busybox" "$ROOT/bin/busybox"
"${CROSS}strip" "$ROOT/bin/busybox"
while read -r applet; do
  [[ -z $applet || $applet == /bin/busybox ]] && continue
  mkdir -p "$ROOT$(dirname "$applet")"
  [[ -e $ROOT$applet ]] || ln -s /bin/busybox "$ROOT$applet"
done <"$BBOUT/busybox.links"
install -m 0755 "$OUT/bench/speedtest1" "$ROOT/bin/speedtest1"
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --reproducible --quiet) |
  gzip -9 -n >"$OUT/initramfs.cpio.gz"

# ---------------------------------------------------------------- record
{
  echo "# Debian packages and sources this guest was built from"
  dpkg-query -W -f '${Package} ${Version}\n' gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
    binutils-riscv64-linux-gnu linux-source-6.1 tcl
  for dsc in "$BUILD_DIR"/src/*.dsc; do
    echo "source $(basename "$dsc" .dsc)"
  done
} >"$OUT/versions.txt"
(cd "$OUT" && sha256sum Image initramfs.cpio.gz bench/speedtest1 >SHA256SUMS)

STEP=finishing
say "guest built in $((SECONDS - START)) s: $OUT"
(cd "$OUT" && ls -l Image initramfs.cpio.gz bench/speedtest1) >&2
