# Part xz of the benchmark initramfs (sourced by build.sh).
build_xz() {
  local src
  src=$(debian_source xz-utils)
  step "building xz"
  MAKE_VARS=LDFLAGS=-all-static autotools_static xz "$src" "$BUILD_DIR/xz" --disable-shared --enable-static --disable-doc \
    --disable-lzmadec --disable-lzmainfo --disable-scripts --disable-xzdec
  strip_into "$1" "$BUILD_DIR/xz/src/xz/xz"
  source_version "$1" xz-utils
}
