# Shell helpers shared by build.sh and the component scripts (sourced, not
# run). They use $RECIPE, $BUILD_DIR, $LOGS (log folder) and $STEP (what is
# being done, for messages). Every cached component's hash covers this file.

CROSS=riscv64-linux-gnu-
# Fixed build identity and dates: the same recipe and packages give the same bytes.
export KBUILD_BUILD_USER=virtus KBUILD_BUILD_HOST=virtus KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export SOURCE_DATE_EPOCH=1767225600

say() { printf '==> %s\n' "$*" >&2; }

# die MESSAGE: a build failure (exit 1).
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# die_env MESSAGE: the machine cannot build the guest as it is (exit 2); the
# message says what to do.
die_env() {
  printf 'error: %s\n' "$*" >&2
  exit 2
}

step() {
  STEP=$1
  printf '%s %s\n' "$(date +%s)" "$1" >"$LOGS/step"
  say "$1"
}

# run LOG CMD...: run one simple command with its output appended to
# $LOGS/LOG.log; on failure print the tail of that log and stop. The progress
# ticker shows the log's last line while it runs.
run() {
  local log=$LOGS/$1.log
  shift
  printf '+ %s\n' "$*" >>"$log"
  ln -sfn "$log" "$LOGS/current"
  if ! "$@" >>"$log" 2>&1; then
    if grep -q 'No space left on device' "$log"; then
      die_env "no space left on device while $STEP (scratch: $BUILD_DIR): free some space or set BUILD_DIR"
    fi
    printf 'command failed: %s\n--- last 40 lines of %s ---\n' "$*" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# Only `CONFIG_X=value` and `# CONFIG_X is not set` lines of a fragment count.
fragment_lines() {
  grep -E '^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$' "$1"
}

# apply_fragment FRAGMENT CONFIG: replace or add each option of FRAGMENT in CONFIG.
apply_fragment() {
  fragment_lines "$1" >"$2.fragment"
  awk 'NR == FNR { match($0, /CONFIG_[A-Za-z0-9_]+/); want[substr($0, RSTART, RLENGTH)] = 1; next }
       match($0, /CONFIG_[A-Za-z0-9_]+/) && (substr($0, RSTART, RLENGTH) in want) { next }
       { print }' "$2.fragment" "$2" >"$2.new"
  cat "$2.fragment" >>"$2.new"
  mv "$2.new" "$2"
  rm "$2.fragment"
}

# check_fragment FRAGMENT CONFIG: fail listing every option that did not stick.
check_fragment() {
  local bad=0 line sym
  while IFS= read -r line; do
    if [[ $line == "# "* ]]; then
      sym=${line#\# }
      sym=${sym%% *}
      if grep -q "^$sym=" "$2"; then
        printf '  wanted "%s", got "%s"\n' "$line" "$(grep "^$sym=" "$2")" >&2
        bad=1
      fi
    elif ! grep -qxF -- "$line" "$2"; then
      sym=${line%%=*}
      printf '  wanted "%s", got "%s"\n' "$line" "$(grep -E "^(# )?$sym[= ]" "$2" || echo unset)" >&2
      bad=1
    fi
  done < <(fragment_lines "$1")
  return "$bad"
}

# progress_ticker SECONDS: every SECONDS, one line with the current step, its
# time so far and the last line of the log being written (for the kernel:
# the file being compiled and how many were). Runs in the background.
progress_ticker() {
  local every=$1 t0 cur log line n
  while sleep "$every"; do
    read -r t0 cur <"$LOGS/step" 2>/dev/null || continue
    log=$(readlink "$LOGS/current" 2>/dev/null) || log=
    line=
    if [[ -n $log && -f $log ]]; then
      line=$(tail -n 1 "$log" | tr -d '\r' | sed -E 's/[[:space:]]+/ /g; s/^ //' | cut -c1-90)
      n=$(grep -c '^  CC ' "$log" 2>/dev/null) || n=0
      ((n > 0)) && line="$n files compiled, last: $line"
    fi
    printf '    ... %s: %d s%s\n' "$cur" "$(($(date +%s) - t0))" "${line:+ ($line)}" >&2
  done
}

# debian_source PACKAGE: prints the folder of `apt-get source PACKAGE`,
# unpacked into $BUILD_DIR/src (once; an unpacked one is reused).
debian_source() {
  local dir
  dir=$(compgen -G "$BUILD_DIR/src/$1-[0-9]*/" | head -n 1) || true
  if [[ -z $dir ]]; then
    if ! (cd "$BUILD_DIR/src" && apt-get source "$1" >>"$LOGS/sources.log" 2>&1); then
      tail -n 20 "$LOGS/sources.log" >&2
      die_env "apt-get source $1 failed: the deb-src entries are missing or not fetched (run as root without SKIP_APT=1 once)"
    fi
    dir=$(compgen -G "$BUILD_DIR/src/$1-[0-9]*/" | head -n 1)
  fi
  printf '%s\n' "${dir%/}"
}

# debian_source_name PACKAGE: the Debian source version unpacked by
# debian_source, e.g. busybox_1.35.0-4+deb12u1.
debian_source_name() {
  basename "$(compgen -G "$BUILD_DIR/src/$1_*.dsc" | head -n 1)" .dsc
}

# component NAME KEY_FILE...: puts the files of component NAME into
# $BUILD_DIR/parts/NAME/, built by build_NAME unless $PARTS_CACHE holds them
# under NAME-<hash of KEY_FILEs>; a new build is added there in one rename.
component() {
  local name=$1 key cached dest=$BUILD_DIR/parts/$1 tmp
  shift
  key=$(cat "$@" | sha256sum | cut -c1-16)
  cached=${PARTS_CACHE:+$PARTS_CACHE/$name-$key}
  rm -rf "$dest"
  mkdir -p "$dest"
  if [[ -n $cached && -f $cached/DONE ]]; then
    step "$name $key is cached: $cached"
    cp -a "$cached/." "$dest/"
    rm "$dest/DONE"
    return
  fi
  "build_$name" "$dest"
  if [[ -n $cached ]]; then
    mkdir -p "$PARTS_CACHE"
    tmp=$(mktemp -d "$cached.tmp-XXXXXX")
    cp -a "$dest/." "$tmp/"
    date -u >"$tmp/DONE"
    sync
    mv -T "$tmp" "$cached" 2>/dev/null || rm -rf "$tmp"
    say "$name $key kept in $cached"
  fi
}
