-- find: live contacts by email and/or external id, alias-followed, email first.
-- ARGV: prefix email userID. Reply: n (contact block)*
local email, uid = ARGV[2], ARGV[3]
local cs = matchContacts(email, uid)
local out = {string.format('%d', #cs)}
for _, c in ipairs(cs) do appendContact(out, c) end
return out
