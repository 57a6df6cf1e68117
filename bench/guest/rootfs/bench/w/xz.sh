# xz (Debian xz-utils 5.4): compress at preset 3 (a 4 MiB dictionary), one thread; decompress.
/bench/bin/xz -3 -T1 -c /tmp/corpus >/tmp/corpus.xz
/bench/bin/xz -dc /tmp/corpus.xz | wc -c
wc -c </tmp/corpus.xz
