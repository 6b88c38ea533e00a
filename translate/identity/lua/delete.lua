-- delete: soft-delete what find would return and drop all their aliases.
-- ARGV: prefix email userID now.
-- Reply: n (contact block)* ntombs (kind value contactID)*
local email, uid, now = ARGV[2], ARGV[3], ARGV[4]
local cs = matchContacts(email, uid)
if #cs == 0 then return {'0', '0'} end
local version = string.format('%d', redis.call('INCR', P .. 'seq'))
local tombs, dels = {}, {}
for _, c in ipairs(cs) do
  setMeta(c, 'deleted', now)
  setMeta(c, 'updated', now)
  setMeta(c, 'version', version)
  flushContact(c)
  local set = P .. 'ca:' .. c.id
  local list = redis.call('SMEMBERS', set)
  table.sort(list, bytesLess)
  local aks = {}
  for i, m in ipairs(list) do aks[i] = P .. 'a:' .. m end
  prefetchAliases(aks)
  for i, m in ipairs(list) do
    if aliasOwnerKey(aks[i]) == c.id then
      local p = string.find(m, ':', 1, true)
      dels[#dels + 1] = aks[i]
      tombs[#tombs + 1] = string.sub(m, 1, p - 1)
      tombs[#tombs + 1] = string.sub(m, p + 1)
      tombs[#tombs + 1] = c.id
    end
  end
  dels[#dels + 1] = set
end
for i = 1, #dels, 400 do redis.call('DEL', unpack(dels, i, math.min(i + 399, #dels))) end
local out = {string.format('%d', #cs)}
for _, c in ipairs(cs) do appendContact(out, c) end
out[#out + 1] = string.format('%d', #tombs / 3)
for i = 1, #tombs do out[#out + 1] = tombs[i] end
return out
