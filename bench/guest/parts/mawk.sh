# Part mawk of the benchmark initramfs (sourced by build.sh).
build_mawk() {
  local src
  src=$(debian_source mawk)
  step "building mawk"
  autotools_static mawk "$src" "$BUILD_DIR/mawk"
  strip_into "$1" "$BUILD_DIR/mawk/mawk"
  source_version "$1" mawk
}
