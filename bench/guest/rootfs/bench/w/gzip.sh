# gzip (Debian gzip 1.12): compress and decompress the corpus at the default level.
/bench/bin/gzip -6 -c /tmp/corpus >/tmp/corpus.gz
/bench/bin/gzip -dc /tmp/corpus.gz | wc -c
wc -c </tmp/corpus.gz
