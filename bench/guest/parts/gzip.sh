# Part gzip of the benchmark initramfs (sourced by build.sh).
build_gzip() {
  local src
  src=$(debian_source gzip)
  step "building gzip"
  autotools_static gzip "$src" "$BUILD_DIR/gzip"
  strip_into "$1" "$BUILD_DIR/gzip/gzip"
  source_version "$1" gzip
}
