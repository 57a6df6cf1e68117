# bzip2 (Debian bzip2 1.0.8): compress and decompress the first 2 MiB of the corpus with 900k blocks.
/bench/bin/bzip2 -9 -c /tmp/corpus2m >/tmp/corpus.bz2
/bench/bin/bzip2 -dc /tmp/corpus.bz2 | wc -c
wc -c </tmp/corpus.bz2
