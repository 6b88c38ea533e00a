-- find: live contacts by email and/or external id, alias-followed, email first.
-- ARGV: prefix email userID. Reply: n (contact block)*
local email, uid = ARGV[2], ARGV[3]
local cs = {}
if email ~= '' then
  local o = aliasOwner('email', email)
  cs[1] = o and liveContact(o) or nil
end
if uid ~= '' then
  local o = aliasOwner('external', uid)
  local c = o and liveContact(o)
  if c and c ~= cs[1] then cs[#cs + 1] = c end
end
local out = {string.format('%d', #cs)}
for _, c in ipairs(cs) do appendContact(out, c) end
return out
