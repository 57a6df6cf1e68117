# Text processing: busybox sort of the words file by two keys, then Debian's
# mawk summing per word, and a sort of the summary.
sort -k2,2 -k3,3n /tmp/words.txt >/tmp/words.sorted
/bench/bin/mawk '{ n[$2]++; s[$2] += $3; if ($3 > m[$2]) m[$2] = $3 }
  END { for (k in n) printf "%s %d %.0f %d\n", k, n[k], s[k], m[k] }' /tmp/words.sorted | sort
