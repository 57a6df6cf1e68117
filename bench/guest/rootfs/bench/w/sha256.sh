# SHA-256 and SHA-512 of the corpus (busybox from Debian's source).
sha256sum /tmp/corpus /tmp/corpus /tmp/corpus
sha512sum /tmp/corpus /tmp/corpus
