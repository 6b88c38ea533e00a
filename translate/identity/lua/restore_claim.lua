-- restore_claim: an idempotency claim read back from ClickHouse, whose event
-- is stored, so it is confirmed until expAt. A confirmed claim keeps the later
-- of the two expiries; a pending or ticketed one is confirmed outright, never
-- left pending for a whole window.
-- ARGV: prefix key expAtMs
local k = P .. 'i:' .. ARGV[2]
if redis.call('GET', k) == '1' then
  redis.call('PEXPIREAT', k, ARGV[3], 'GT')
else
  redis.call('SET', k, '1', 'PXAT', ARGV[3])
end
return 1
