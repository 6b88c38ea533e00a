-- claim: one idempotency claim and nothing else (a PostHog event whose person
-- another op of the same request already resolved). Pending ('p') until
-- ConfirmIdempotency, like resolve's claims.
-- ARGV: prefix key windowMs. Reply: '0' claimed, '1' duplicate, '2' pending.
local k = P .. 'i:' .. ARGV[2]
if redis.call('SET', k, 'p', 'NX', 'PX', ARGV[3]) then return '0' end
if redis.call('GET', k) == 'p' then return '2' end
return '1'
