# Part bzip2 of the benchmark initramfs (sourced by build.sh). Debian patches
# bzip2's Makefile for its shared library; the program is its eight C files.
build_bzip2() {
  local src b=$BUILD_DIR/bzip2
  src=$(debian_source bzip2)
  step "building bzip2"
  mkdir -p "$b"
  (cd "$src" && run bzip2 "${CROSS}gcc" -static -O2 -D_FILE_OFFSET_BITS=64 -o "$b/bzip2" \
    blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c)
  strip_into "$1" "$b/bzip2"
  source_version "$1" bzip2
}
