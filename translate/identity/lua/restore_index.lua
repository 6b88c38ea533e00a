-- restore_index: index a live contact's identity columns that no live alias
-- covers (rows written by older tools may lack alias rows).
-- ARGV: prefix id
local c = liveContact(ARGV[2])
if not c then return 0 end
for i = 1, 3 do
  local v = c[COLS[i]]
  if v ~= '' then
    local o = aliasOwner(KINDS[i], v)
    if not (o and liveContact(o)) then pointAlias(KINDS[i], v, c.id, c.version) end
  end
end
flushAliases()
return 1
