# xz (Debian xz-utils 5.4): compress at preset 3 (a 4 MiB dictionary), one thread, on the first 2 MiB of the corpus; decompress.
/bench/bin/xz -3 -T1 -c /tmp/corpus2m >/tmp/corpus.xz
/bench/bin/xz -dc /tmp/corpus.xz | wc -c
wc -c </tmp/corpus.xz
