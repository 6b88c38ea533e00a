-- claim: idempotency claims and nothing else (PostHog events whose person
-- another op already resolved), many in one call. Pending ('p') until
-- ConfirmIdempotency, like resolve's claims.
-- ARGV: prefix windowMs key... Reply: one character per key, '0' claimed,
-- '1' duplicate, '2' pending (one string: cheaper to build and to read than
-- a reply element per key).
local window = ARGV[2]
local out = {}
local pi = P .. 'i:'
for i = 3, #ARGV do
  local k = pi .. ARGV[i]
  if redis.call('SET', k, 'p', 'NX', 'PX', window) then
    out[#out + 1] = '0'
  elseif redis.call('GET', k) == 'p' then
    out[#out + 1] = '2'
  else
    out[#out + 1] = '1'
  end
end
return table.concat(out)
