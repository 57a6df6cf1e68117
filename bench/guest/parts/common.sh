# Helpers for the parts of the benchmark initramfs: each program cross-built
# static and stripped from `apt-get source PACKAGE` (sourced by build.sh after
# guest/lib.sh; every part's cache key covers this file, lib.sh and its own).
# build_NAME OUT_DIR writes OUT_DIR/<program> and OUT_DIR/versions.txt.

# autotools_static LOG SRC BUILD CONFIGURE_ARGS...: configure for riscv64 with
# a compiler that always links statically, then make with $MAKE_VARS (libtool
# drops that -static when it links a program: it needs LDFLAGS=-all-static).
# The source tree gets one timestamp first: Debian's patches leave configure.ac
# newer than configure, and make would then want automake to regenerate it.
autotools_static() {
  local log=$1 src=$2 build=$3
  shift 3
  find "$src" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  rm -rf "$build"
  mkdir -p "$build"
  (cd "$build" && run "$log" "$src/configure" --host=riscv64-linux-gnu --disable-nls \
    CC="${CROSS}gcc -static" CFLAGS="-O2 -ffile-prefix-map=$BUILD_DIR/=" "$@" &&
    # shellcheck disable=SC2086 # MAKE_VARS is a list of words
    run "$log" make -j"$JOBS" ${MAKE_VARS:-})
}

# strip_into OUT FILE...: installs each FILE stripped into OUT; each must be
# static (the initramfs has no shared libraries).
strip_into() {
  local out=$1 f
  shift
  for f in "$@"; do
    if "${CROSS}readelf" -l "$f" | grep -q INTERP; then
      die "$f is not statically linked"
    fi
    run strip "${CROSS}strip" -o "$out/$(basename "$f")" "$f"
    chmod 0755 "$out/$(basename "$f")"
  done
}

# source_version OUT PACKAGE: records the Debian source version used.
source_version() {
  echo "source $(debian_source_name "$2")" >"$1/versions.txt"
}
