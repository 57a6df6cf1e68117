# sqlite's speedtest1 (Debian sqlite3) on an in-memory database. Its output has timings: not compared.
speedtest1 --memdb --size 5
