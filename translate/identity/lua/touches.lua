-- touches: the touches of the last ops of a call (redis_touches.go), each
-- checked as touch_check.lua does, so that Redis sets a script up once for
-- them. The fresh ones up to the first stale copy take their versions from
-- one INCRBY, in order, as one INCR each would have given them.
-- KEYS: the graph's counter. ARGV: prefix, then per op:
--   id seen now npairs (aliasKey rule)*npairs
-- Reply: the versions written, one per op, in order, up to the first op
-- whose copy was stale: that op and those after it were not touched, and
-- the caller resolves them in order, as if none had been batched.
local P = ARGV[1]
local fresh = {}
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 3])
  local last = i + 3 + 2 * n
  if not touchFresh(P, ARGV[i], tonumber(ARGV[i + 1]), i + 4, last - 1) then break end
  fresh[#fresh + 1] = i
  i = last + 1
end
local out = {}
if #fresh == 0 then return out end
local top = redis.call('INCRBY', P .. 'seq', #fresh)
for k, at in ipairs(fresh) do
  local v = string.format('%d', top - #fresh + k)
  touchWrite(P, ARGV[at], ARGV[at + 2], v)
  out[k] = v
end
return out
