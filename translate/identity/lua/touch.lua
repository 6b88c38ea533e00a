-- touch: the start of resolve.lua, before lib.lua, whose setup would cost
-- more than a touch does (docs/redis-layout.md § 4).
-- With flag 64 (touch first) the caller holds a copy of the one contact
-- the op resolves to, and the op changes nothing but last_seen. After both
-- bracketed groups of resolve.lua's ARGV comes the touch group:
--   id seen (aliasKey rule)*
-- When the contact is live, its content version 'cv' is not above seen,
-- and every aliasKey ('kind:value') points at id (rule '='), or is absent
-- or points at id (rule '0'), the op is a touch: last, updated and version
-- are bumped, as resolve.lua's fill-in-link would, and the reply is
-- 'T' version. Otherwise the script goes on into the full resolve.
do
  local flags = tonumber(ARGV[5])
  if math.floor(flags / 64) % 2 == 1 then
    local P, now = ARGV[1], ARGV[2]
    -- Skip the Set and SetOnce pairs, the Unset names and the six PostHog fields.
    local onceAt = 12 + 2 * tonumber(ARGV[11]) + 1
    local unsetAt = onceAt + 2 * tonumber(ARGV[onceAt - 1]) + 1
    local tAt = unsetAt + tonumber(ARGV[unsetAt - 1]) + 6
    local id, seen = ARGV[tAt], tonumber(ARGV[tAt + 1])
    local ck = P .. 'c:' .. id
    local st = redis.call('HMGET', ck, 'cv', 'deleted')
    local fresh = st[1] and st[2] == '0' and tonumber(st[1]) <= seen
    for i = tAt + 2, #ARGV, 2 do
      if not fresh then break end
      local v = redis.call('GET', P .. 'a:' .. ARGV[i])
      if v then
        fresh = string.sub(v, 1, 36) == id
      else
        fresh = ARGV[i + 1] == '0'
      end
    end
    if fresh then
      local v = string.format('%d', redis.call('INCR', P .. 'seq'))
      redis.call('HSET', ck, 'last', now, 'updated', now, 'version', v)
      return {'T', v}
    end
  end
end
