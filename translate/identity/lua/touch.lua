-- touch: the start of resolve.lua, before lib.lua, whose setup would cost
-- more than a touch does (docs/redis-layout.md § 4).
-- With flag 64 (touch first) the op's touch group follows both bracketed
-- groups of resolve.lua's ARGV: id seen (aliasKey rule)*. A fresh copy is
-- touched (touch_check.lua) and the reply is 'T' version; otherwise the
-- script goes on into the full resolve.
do
  local flags = tonumber(ARGV[5])
  if math.floor(flags / 64) % 2 == 1 then
    -- Skip the Set and SetOnce pairs, the Unset names and the six PostHog fields.
    local onceAt = 12 + 2 * tonumber(ARGV[11]) + 1
    local unsetAt = onceAt + 2 * tonumber(ARGV[onceAt - 1]) + 1
    local tAt = unsetAt + tonumber(ARGV[unsetAt - 1]) + 6
    local P, id = ARGV[1], ARGV[tAt]
    if touchFresh(P, id, tonumber(ARGV[tAt + 1]), tAt + 2, #ARGV) then
      local v = string.format('%d', redis.call('INCR', P .. 'seq'))
      touchWrite(P, id, ARGV[2], v)
      return {'T', v}
    end
  end
end
