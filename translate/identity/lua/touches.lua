-- touches: the touches of the last ops of a call (redis_touches.go), each
-- checked as touch_check.lua does, so that Redis sets a script up once for
-- them. The fresh ones up to the first stale copy take their versions from
-- one INCRBY, in order, as one INCR each would have given them.
-- KEYS: the graph's counter. ARGV: prefix, then per op:
--   id seen now npairs (aliasKey rule)*npairs
-- Reply: {n, top}: the first n ops were touched, with versions top-n+1 to
-- top in order. When n is short of the ops sent, op n+1 found its copy
-- stale: it and those after it were not touched, and the caller resolves
-- them in order, as if none had been batched. Two integers instead of n
-- strings spare both sides a reply element per op.
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
if #fresh == 0 then return {0, 0} end
local top = redis.call('INCRBY', P .. 'seq', #fresh)
for k, at in ipairs(fresh) do
  touchWrite(P, ARGV[at], ARGV[at + 2], string.format('%d', top - #fresh + k))
end
return {#fresh, top}
