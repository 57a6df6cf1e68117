# Lua 5.4 (Debian lua5.4) running /bench/lua/bench.lua: tables, strings, sort, methods, closures.
/bench/bin/lua /bench/lua/bench.lua 1
