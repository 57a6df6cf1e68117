# The busybox part of the guest recipe (sourced by build.sh; cached by a hash
# of this file, lib.sh and busybox.fragment).
#
# build_busybox OUT_DIR: a static busybox from `apt-get source busybox`
# (defconfig + busybox.fragment); writes OUT_DIR/busybox (stripped),
# OUT_DIR/busybox.links, OUT_DIR/busybox.config and OUT_DIR/versions.txt.
build_busybox() {
  local out=$1 src bbout=$BUILD_DIR/bbbuild
  src=$(debian_source busybox)
  step "building static busybox"
  local t0=$SECONDS
  rm -rf "$bbout"
  mkdir -p "$bbout"
  local bbmake=(make -C "$src" O="$bbout" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
  run busybox "${bbmake[@]}" defconfig
  apply_fragment "$RECIPE/busybox.fragment" "$bbout/.config"
  # busybox's kconfig has no olddefconfig: answer every new question with its default.
  run busybox bash -c 'yes "" | "$@" oldconfig' bash "${bbmake[@]}"
  check_fragment "$RECIPE/busybox.fragment" "$bbout/.config" || die "busybox.fragment options did not stick (see above)"
  run busybox "${bbmake[@]}" busybox busybox.links
  install -m 0755 "$bbout/busybox" "$out/busybox"
  "${CROSS}strip" "$out/busybox"
  install -m 0644 "$bbout/busybox.links" "$out/busybox.links"
  install -m 0644 "$bbout/.config" "$out/busybox.config"
  echo "source $(debian_source_name busybox)" >"$out/versions.txt"
  say "busybox built in $((SECONDS - t0)) s"
}
