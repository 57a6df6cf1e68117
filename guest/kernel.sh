# The kernel part of the guest recipe (sourced by build.sh; cached by a hash
# of this file, lib.sh and kernel.fragment, so a change elsewhere in the
# recipe does not rebuild Linux).
#
# build_kernel OUT_DIR: Linux from linux-source-6.1, tinyconfig +
# kernel.fragment; writes OUT_DIR/Image, OUT_DIR/kernel.config and
# OUT_DIR/versions.txt.
build_kernel() {
  local out=$1 ksrc=$BUILD_DIR/src/linux-source-6.1 kout=$BUILD_DIR/kbuild
  step "unpacking linux-source-6.1"
  if [[ ! -d $ksrc ]]; then
    [[ -f /usr/src/linux-source-6.1.tar.xz ]] || die_env "/usr/src/linux-source-6.1.tar.xz is missing: apt-get install linux-source-6.1 (or run as root without SKIP_APT=1)"
    (cd "$BUILD_DIR/src" && run sources tar -xf /usr/src/linux-source-6.1.tar.xz)
  fi
  local kmake=(make -C "$ksrc" O="$kout" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
  rm -rf "$kout"

  step "configuring kernel (tinyconfig + kernel.fragment)"
  run kernel "${kmake[@]}" tinyconfig
  # Twice: an option can become visible only once another one is on.
  for _ in 1 2; do
    apply_fragment "$RECIPE/kernel.fragment" "$kout/.config"
    run kernel "${kmake[@]}" olddefconfig
  done
  check_fragment "$RECIPE/kernel.fragment" "$kout/.config" || die "kernel.fragment options did not stick (see above)"

  step "building kernel Image"
  local t0=$SECONDS
  run kernel "${kmake[@]}" Image
  install -m 0644 "$kout/arch/riscv/boot/Image" "$out/Image"
  install -m 0644 "$kout/.config" "$out/kernel.config"
  dpkg-query -W -f '${Package} ${Version}\n' linux-source-6.1 >"$out/versions.txt"
  say "kernel Image built in $((SECONDS - t0)) s"
}
