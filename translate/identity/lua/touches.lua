-- touches: the touches of the last ops of a call (redis_touches.go), each
-- as touch_check.lua decides, so that Redis sets a script up once for them.
-- KEYS: the graph's counter. ARGV: prefix, then per op:
--   id seen now npairs (aliasKey rule)*npairs
-- Reply: the versions written, one per op, in order, up to the first op
-- whose copy was stale: that op and those after it were not touched, and
-- the caller resolves them in order, as if none had been batched.
local P = ARGV[1]
local out = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 3])
  local last = i + 3 + 2 * n
  local v = touchContact(P, ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], i + 4, last - 1)
  if not v then break end
  out[#out + 1] = v
  i = last + 1
end
return out
