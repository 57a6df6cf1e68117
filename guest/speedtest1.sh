# The sqlite speedtest1 part of the guest recipe (sourced by build.sh; cached
# by a hash of this file and lib.sh).
#
# build_speedtest1 OUT_DIR: sqlite's test/speedtest1.c with the sqlite3.c
# amalgamation from `apt-get source sqlite3`, static and stripped; writes
# OUT_DIR/speedtest1 and OUT_DIR/versions.txt.
build_speedtest1() {
  local out=$1 src sqb=$BUILD_DIR/sqbuild
  src=$(debian_source sqlite3)
  step "building sqlite3 amalgamation and speedtest1"
  local t0=$SECONDS
  rm -rf "$sqb"
  mkdir -p "$sqb"
  (cd "$sqb" && run sqlite "$src/configure" --disable-tcl && run sqlite make -j"$JOBS" sqlite3.c)
  run sqlite "${CROSS}gcc" -static -O2 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
    -ffile-prefix-map="$BUILD_DIR/"= -I"$sqb" \
    -o "$sqb/speedtest1" "$src/test/speedtest1.c" "$sqb/sqlite3.c" -lm
  run sqlite "${CROSS}strip" "$sqb/speedtest1"
  install -m 0755 "$sqb/speedtest1" "$out/speedtest1"
  echo "source $(debian_source_name sqlite3)" >"$out/versions.txt"
  say "speedtest1 built in $((SECONDS - t0)) s"
}
