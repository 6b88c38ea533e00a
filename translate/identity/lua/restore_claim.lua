-- restore_claim: an idempotency claim read back from ClickHouse, whose event
-- is stored, so it is confirmed until expAt. A confirmed claim keeps the later
-- of the two expiries; a pending or ticketed one is confirmed outright, never
-- left pending for a whole window. A bucket's claim (field not '') keeps its
-- bucket until at least expAt.
-- KEYS: the claim's Redis key. ARGV: prefix field expAtMs
local k, f, expAt = KEYS[1], ARGV[2], ARGV[3]
if f ~= '' then
  if redis.call('HGET', k, f) ~= '1' then redis.call('HSET', k, f, '1') end
  redis.call('PEXPIREAT', k, expAt, 'NX')
  redis.call('PEXPIREAT', k, expAt, 'GT')
elseif redis.call('GET', k) == '1' then
  redis.call('PEXPIREAT', k, expAt, 'GT')
else
  redis.call('SET', k, '1', 'PXAT', expAt)
end
return 1
