-- touchFresh and touchWrite: the touch of one op (docs/redis-layout.md § 4),
-- shared by touch.lua (one op, before its full resolve) and touches.lua
-- (many ops). The caller holds a copy of contact id read at version seen,
-- and the op changes nothing but last_seen; ARGV[from..to] are its
-- (aliasKey rule) pairs, aliasKey 'kind:value'.
-- touchFresh: the contact is live, its content version 'cv' is not above
-- seen, and every aliasKey points at id (rule '='), or is absent or points
-- at id (rule '0').
local function touchFresh(P, id, seen, from, to)
  local st = redis.call('HMGET', P .. 'c:' .. id, 'cv', 'deleted')
  if not (st[1] and st[2] == '0' and tonumber(st[1]) <= seen) then return false end
  local keys = {}
  for i = from, to, 2 do keys[#keys + 1] = P .. 'a:' .. ARGV[i] end
  if #keys == 0 then return true end
  local vs = redis.call('MGET', unpack(keys))
  for k = 1, #keys do
    local v = vs[k]
    if v then
      if string.sub(v, 1, 36) ~= id then return false end
    elseif ARGV[from + 2 * k - 1] ~= '0' then
      return false
    end
  end
  return true
end

-- touchWrite bumps last, updated and version, as resolve.lua's fill-in-link
-- would, to version v.
local function touchWrite(P, id, now, v)
  redis.call('HSET', P .. 'c:' .. id, 'last', now, 'updated', now, 'version', v)
end
