-- restore_alias: apply one alias row (or tombstone) unless the stored one is as new.
-- ARGV: prefix kind value contactID version deleted
local kind, value, id, version, deleted = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ak = P .. 'a:' .. kind .. ':' .. value
local m = kind .. ':' .. value
bumpSeq(version)
local cur = redis.call('GET', ak)
if cur then
  if tonumber(string.sub(cur, 38)) >= tonumber(version) then return 0 end
  local oid = string.sub(cur, 1, 36)
  if oid ~= id or deleted == '1' then redis.call('SREM', P .. 'ca:' .. oid, m) end
end
if deleted == '1' then
  redis.call('DEL', ak)
  return 1
end
redis.call('SET', ak, id .. ':' .. version)
redis.call('SADD', P .. 'ca:' .. id, m)
return 1
