#!/usr/bin/env bash
# Builds the H-extension test kernel: the default guest's Linux 6.1 configuration
# (its kernel.config from the guest cache) plus CONFIG_KVM=y, without network and
# block layers, from Debian's linux-source-6.1. Not the default guest: a test guest for `virtus run --cpu h=on`.
#
# usage: tests/kvm/build-kernel.sh OUT_DIR [GUEST_DIR]
#   OUT_DIR/Image, OUT_DIR/kernel.config; GUEST_DIR defaults to the newest ~/.cache/virtus/guest/*/
# Environment: JOBS (default nproc), BUILD_DIR (default OUT_DIR/build; unpacked sources are reused).
set -euo pipefail
export LC_ALL=C
OUT=${1:?usage: $0 OUT_DIR [GUEST_DIR]}
GUEST=${2:-$(ls -td "$HOME"/.cache/virtus/guest/*/ | head -1)}
JOBS=${JOBS:-$(nproc)}
BUILD_DIR=${BUILD_DIR:-$OUT/build}
mkdir -p "$OUT" "$BUILD_DIR"
[[ -f /usr/src/linux-source-6.1.tar.xz ]] || { echo "needs linux-source-6.1 (apt-get install linux-source-6.1)" >&2; exit 2; }
[[ -f $GUEST/kernel.config ]] || { echo "no default guest in $GUEST (npm run guest)" >&2; exit 2; }
cd "$BUILD_DIR"
if [[ ! -d linux-source-6.1 ]]; then
  echo "==> unpacking linux-source-6.1" >&2
  tar -xf /usr/src/linux-source-6.1.tar.xz
fi
KOUT=$BUILD_DIR/kout
mkdir -p "$KOUT"
cp "$GUEST/kernel.config" "$KOUT/.config"
# KVM on; no network or block layer: the host side of the test is a static VMM run as init.
cat >>"$KOUT/.config" <<'CFG'
CONFIG_VIRTUALIZATION=y
CONFIG_KVM=y
# CONFIG_NET is not set
# CONFIG_BLOCK is not set
# CONFIG_BPF_SYSCALL is not set
CFG
KMAKE=(make -C "$BUILD_DIR/linux-source-6.1" O="$KOUT" ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- -j"$JOBS")
echo "==> configuring (default guest + CONFIG_KVM=y)" >&2
"${KMAKE[@]}" olddefconfig >/dev/null
grep -q '^CONFIG_KVM=y' "$KOUT/.config" || { echo "CONFIG_KVM=y did not survive olddefconfig" >&2; exit 1; }
grep -q '^CONFIG_NET=y' "$KOUT/.config" && { echo "CONFIG_NET came back" >&2; exit 1; }
echo "==> building Image (${JOBS} jobs)" >&2
"${KMAKE[@]}" Image 2>&1 | grep -E '^\s+(CC|LD|AR)\s' | awk 'NR % 200 == 0 { print "    " NR " steps: " $0; fflush() }' >&2
cp "$KOUT/arch/riscv/boot/Image" "$OUT/Image"
cp "$KOUT/.config" "$OUT/kernel.config"
echo "==> $OUT/Image" >&2
