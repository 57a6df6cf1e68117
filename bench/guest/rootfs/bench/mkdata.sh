#!/bin/sh
# mkdata.sh [MB]: writes the workloads' inputs into /tmp (untimed, before any run).
#   /tmp/words.txt  about MB MiB (default 1) of lines "word word number" from a fixed-seed awk
#   /tmp/corpus     the programs in /bench/bin, busybox, speedtest1, then words.txt:
#                   binary and text, about 5 MiB, compressible about 2:1
#   /tmp/corpus2m   its first 2 MiB, for the slower compressors
set -e
mb=${1:-1}
awk -v lines=$((mb * 1024 * 1024 / 24)) 'BEGIN {
  srand(42)
  split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu", w, " ")
  for (i = 0; i < lines; i++) {
    a = w[int(rand() * 26) + 1]; b = w[int(rand() * 26) + 1]
    printf "%s%d %s %d\n", a, int(rand() * 50), b, int(rand() * 1000000)
  }
}' >/tmp/words.txt
cat /bench/bin/* /bin/busybox /bin/speedtest1 /tmp/words.txt >/tmp/corpus
head -c 2097152 /tmp/corpus >/tmp/corpus2m
echo "data: $(wc -c </tmp/words.txt) bytes of words, $(wc -c </tmp/corpus) bytes of corpus"
