-- bench.lua [SCALE]: an interpreter workload for the benchmark initramfs.
-- Mixes what scripts do: table-heavy integer work (fannkuch), strings
-- (format, concat, gsub, find), sorting with a Lua comparator, method calls
-- through metatables, closures and garbage. Prints one checksum line so that a
-- wrong result is visible; the time is taken outside.
local scale = tonumber(arg[1]) or 1

local function fannkuch(n)
  local perm, perm1, count = {}, {}, {}
  for i = 0, n - 1 do perm1[i] = i end
  local maxflips, checksum, r, sign = 0, 0, n, 1
  while true do
    while r ~= 1 do count[r - 1] = r; r = r - 1 end
    for i = 0, n - 1 do perm[i] = perm1[i] end
    local flips, k = 0, perm[0]
    while k ~= 0 do
      local i, j = 0, k
      while i < j do perm[i], perm[j] = perm[j], perm[i]; i = i + 1; j = j - 1 end
      flips = flips + 1
      k = perm[0]
    end
    if flips > maxflips then maxflips = flips end
    checksum = checksum + sign * flips
    sign = -sign
    while true do
      if r == n then return checksum, maxflips end
      local p0 = perm1[0]
      for i = 0, r - 1 do perm1[i] = perm1[i + 1] end
      perm1[r] = p0
      count[r] = count[r] - 1
      if count[r] > 0 then break end
      r = r + 1
    end
  end
end

local function strings(n)
  local parts = {}
  for i = 1, n do
    parts[#parts + 1] = string.format("%05d:%s;", i, string.rep(string.char(97 + i % 26), i % 7 + 1))
  end
  local s = table.concat(parts)
  local vowels = select(2, s:gsub("[aeiou]", "%0"))
  local hits, pos = 0, 1
  while true do
    local a, b = s:find("%d%d%d7:", pos)
    if not a then break end
    hits = hits + 1
    pos = b + 1
  end
  return #s + vowels + hits
end

local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({ x = x, y = y }, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
function Point:norm1() return math.abs(self.x) + math.abs(self.y) end

local function objects(n)
  local acc = Point.new(0, 0)
  for i = 1, n do acc = acc:add(Point.new(i % 13 - 6, i % 7 - 3)) end
  return acc:norm1()
end

local function sorting(n)
  local seed, t = 12345, {}
  for i = 1, n do
    seed = (seed * 1103515245 + 12345) % 2147483648
    t[i] = { key = seed % 100000, id = i }
  end
  table.sort(t, function(a, b) if a.key ~= b.key then return a.key < b.key end return a.id < b.id end)
  return t[1].key + t[n].key + t[n // 2].id
end

local function closures(n)
  local function counter() local c = 0; return function(d) c = c + d; return c end end
  local sum = 0
  for i = 1, n do local f = counter(); f(i); sum = sum + f(1) end
  return sum
end

local total = 0
for _ = 1, scale do
  local c, m = fannkuch(8)
  total = total + c + m
  total = total + strings(20000)
  total = total + objects(100000)
  total = total + sorting(20000)
  total = total + closures(100000)
end
print(string.format("lua checksum %d", total))
