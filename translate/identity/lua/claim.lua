-- claim: idempotency claims and nothing else (PostHog events whose person
-- another op already resolved), many in one call. Pending ('p') until
-- ConfirmIdempotency, like resolve's claims.
-- ARGV: prefix windowMs key... Reply: per key '0' claimed, '1' duplicate,
-- '2' pending.
local window = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local k = P .. 'i:' .. ARGV[i]
  if redis.call('SET', k, 'p', 'NX', 'PX', window) then
    out[#out + 1] = '0'
  elseif redis.call('GET', k) == 'p' then
    out[#out + 1] = '2'
  else
    out[#out + 1] = '1'
  end
end
return out
