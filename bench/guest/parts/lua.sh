# Part lua of the benchmark initramfs (sourced by build.sh). The interpreter
# is every file of src/ but the compiler's: Debian builds it with libtool for
# its shared library, which the static program does not need. Debian's
# luaconf.h includes a header its rules generate, with the multiarch triplet.
build_lua() {
  local src b=$BUILD_DIR/lua files=() f
  src=$(debian_source lua5.4)
  step "building lua"
  mkdir -p "$b"
  echo '#define DEB_HOST_MULTIARCH "riscv64-linux-gnu"' >"$b/lua5.4-deb-multiarch.h"
  for f in "$src"/src/*.c; do
    [[ $(basename "$f") == luac.c ]] || files+=("$f")
  done
  run lua "${CROSS}gcc" -static -O2 -std=gnu99 -DLUA_USE_POSIX -ffile-prefix-map="$BUILD_DIR/"= \
    -I"$b" -o "$b/lua" "${files[@]}" -lm
  strip_into "$1" "$b/lua"
  source_version "$1" lua5.4
}
