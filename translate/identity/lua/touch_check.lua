-- touchContact: the touch of one op (docs/redis-layout.md § 4), shared by
-- touch.lua (one op, before its full resolve) and touches.lua (many ops).
-- The caller holds a copy of contact id read at version seen, and the op
-- changes nothing but last_seen; ARGV[from..to] are its (aliasKey rule)
-- pairs, aliasKey 'kind:value'. When the contact is live, its content
-- version 'cv' is not above seen, and every aliasKey points at id (rule
-- '='), or is absent or points at id (rule '0'), last, updated and version
-- are bumped, as resolve.lua's fill-in-link would, and the version written
-- is returned; otherwise nil, and nothing is written.
local function touchContact(P, id, seen, now, from, to)
  local ck = P .. 'c:' .. id
  local st = redis.call('HMGET', ck, 'cv', 'deleted')
  if not (st[1] and st[2] == '0' and tonumber(st[1]) <= seen) then return nil end
  for i = from, to, 2 do
    local v = redis.call('GET', P .. 'a:' .. ARGV[i])
    if v then
      if string.sub(v, 1, 36) ~= id then return nil end
    elseif ARGV[i + 1] ~= '0' then
      return nil
    end
  end
  local v = string.format('%d', redis.call('INCR', P .. 'seq'))
  redis.call('HSET', ck, 'last', now, 'updated', now, 'version', v)
  return v
end
