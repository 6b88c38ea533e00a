-- restore_contact: apply one contact row unless the stored one is as new.
-- ARGV: prefix id version ext email anon source first last created updated
--       deleted ('.'..name value)*
local id, version = ARGV[2], ARGV[3]
local ck = P .. 'c:' .. id
local cur = redis.call('HGET', ck, 'version')
bumpSeq(version)
if cur and tonumber(cur) >= tonumber(version) then return 0 end
redis.call('DEL', ck)
local w = {'ext', ARGV[4], 'email', ARGV[5], 'anon', ARGV[6], 'source', ARGV[7],
  'first', ARGV[8], 'last', ARGV[9], 'created', ARGV[10], 'updated', ARGV[11],
  'deleted', ARGV[12], 'version', version}
for i = 13, #ARGV do w[#w + 1] = ARGV[i] end
callChunked('HSET', ck, w)
return 1
