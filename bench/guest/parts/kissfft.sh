# Part kissfft of the benchmark initramfs (sourced by build.sh): kissfft's own
# FFT benchmark, test/benchkiss.c, in double precision.
build_kissfft() {
  local src b=$BUILD_DIR/kissfft
  src=$(debian_source kissfft)
  step "building kissfft's benchkiss"
  mkdir -p "$b"
  (cd "$src" && run kissfft "${CROSS}gcc" -static -O2 -Dkiss_fft_scalar=double -I. \
    -ffile-prefix-map="$BUILD_DIR/"= -o "$b/benchkiss" test/benchkiss.c test/pstats.c \
    kiss_fft.c kiss_fftr.c kiss_fftnd.c kiss_fftndr.c -lm)
  strip_into "$1" "$b/benchkiss"
  source_version "$1" kissfft
}
