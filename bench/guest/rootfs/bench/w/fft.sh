# Floating point: kissfft's own benchmark (Debian kissfft, test/benchkiss.c) in
# double precision: 4000 complex 1024-point FFTs, then 600 real 4096-point ones. It
# reports to stderr (CPU time, ps), so the output compared is empty.
/bench/bin/benchkiss -n 1024 -x 4000
/bench/bin/benchkiss -r -n 4096 -x 600
