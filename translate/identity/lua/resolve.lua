-- resolve: one ResolveOp, atomically. Mirrors memory_resolve.go step by step.
-- KEYS: the graph's counter (lib.lua). ARGV: prefix now newID source flags
--       ext extUUID email anon anonUUID
--       nset (name value)*nset nonce (name value)*nonce
--       [nunset name*nunset [distinct distinctUUID mergeFrom mergeFromUUID
--       provenUser emailClaim]]
-- Set values are '' for null (remove). xxxUUID is the lower-case uuid form of
-- the key when it is uuid-shaped, else ''. The bracketed groups are left out
-- when empty (a native op sends what it always did); mergeFrom is '' when
-- absent or equal to distinct.
-- flags: 1 = NoCreate, 2 = RefuseIdentified, 4 = Identify, 8 = MergeDangerously,
-- 16 = TrustPublic, 32 = TrustVerified, 64 = touch first (bits).
-- Touch first (redis_touch.go): lua/touch.lua, which runs before lib.lua
-- and this, may answer the op alone ('T' version); the touch group (id seen
-- (aliasKey rule)*) then follows both bracketed groups, which are sent.
-- Reply: found created linked merged version [contact block]
--        nlosers (block)* naliases (kind value contactID fromID reason)* refused
--        unproven
-- refused: '0', '1' = Refused (RefuseIdentified), '2' = MergeRefused; unproven
-- '1' = Unproven.
-- The op's idempotency claim is not here: it is in a slot of its own, and
-- the store claims it beside the script in the same pipeline.
local now = ARGV[2]
local newID = ARGV[3]
local source = ARGV[4]
local flags = tonumber(ARGV[5])
local nocreate = flags % 2 == 1
local refuseIdentified = math.floor(flags / 2) % 2 == 1
local identify = math.floor(flags / 4) % 2 == 1
local dangerously = math.floor(flags / 8) % 2 == 1
local trustPublic = math.floor(flags / 16) % 2 == 1
local trustVerified = math.floor(flags / 32) % 2 == 1
local keys = {ARGV[6], ARGV[8], ARGV[9]}
local uuids = {ARGV[7], '', ARGV[10]}
local nset = tonumber(ARGV[11])
local setAt = 12
local onceAt = setAt + 2 * nset + 1
local nonce = tonumber(ARGV[onceAt - 1])
local unsetAt = onceAt + 2 * nonce + 1
local nunset = tonumber(ARGV[unsetAt - 1] or '0')
local phAt = unsetAt + nunset
local distinct, distinctUUID = ARGV[phAt] or '', ARGV[phAt + 1] or ''
local mergeFrom, mergeFromUUID = ARGV[phAt + 2] or '', ARGV[phAt + 3] or ''
local provenUser, emailClaim = ARGV[phAt + 4] or '', ARGV[phAt + 5] or ''

local version = nil
local aliasOut = {}

local function setAlias(kind, value, id, from, reason)
  pointAlias(kind, value, id, version)
  local n = #aliasOut
  aliasOut[n + 1] = kind
  aliasOut[n + 2] = value
  aliasOut[n + 3] = id
  aliasOut[n + 4] = from
  aliasOut[n + 5] = reason
end

-- isOtherKey: v is the canonical key (ext ?? anon ?? id) of another live contact.
local function isOtherKey(v, u, self)
  local o = aliasOwner('external', v)
  if o and o ~= self then
    local c = liveContact(o)
    if c and c.ext == v then return true end
  end
  o = aliasOwner('anonymous', v)
  if o and o ~= self then
    local c = liveContact(o)
    if c and c.ext == '' and c.anon == v then return true end
  end
  if u ~= '' and u ~= self then
    local c = liveContact(u)
    if c and c.ext == '' and c.anon == '' then return true end
  end
  return false
end

-- applyPatch: SetOnce first, so that Set wins for a name in both, then Unset.
local function applyPatch(c)
  for j = 0, nonce - 1 do
    local val = ARGV[onceAt + 2 * j + 1]
    local f = '.' .. ARGV[onceAt + 2 * j]
    if val ~= '' and c.p[f] == nil then setProp(c, f, val) end
  end
  for j = 0, nset - 1 do
    local name, val = ARGV[setAt + 2 * j], ARGV[setAt + 2 * j + 1]
    local f = '.' .. name
    if val == '' then
      if c.p[f] ~= nil then setProp(c, f, nil) end
    elseif nested(name) and isObj(val) then
      local merged = mergeObj(c.p[f] or '', val)
      if merged ~= c.p[f] then setProp(c, f, merged) end
    elseif c.p[f] ~= val then
      -- An unchanged value is no change: the content version stays.
      setProp(c, f, val)
    end
  end
  for j = 0, nunset - 1 do
    local f = '.' .. ARGV[unsetAt + j]
    if c.p[f] ~= nil then setProp(c, f, nil) end
  end
end

local function rankLess(a, b)
  local ae, be = a.ext ~= '', b.ext ~= ''
  if ae ~= be then return ae end
  local af, bf = tonumber(a.first), tonumber(b.first)
  if af ~= bf then return af < bf end
  return bytesLess(a.id, b.id)
end

local function nextVersion()
  return string.format('%d', redis.call('INCR', P .. 'seq'))
end

-- Look each key up: alias first, then (external only) a contact with that id.
-- matched is the target side: Distinct's contact t, then what Keys match.
local aks = {}
for i = 1, 3 do
  if keys[i] ~= '' then aks[#aks + 1] = P .. 'a:' .. KINDS[i] .. ':' .. keys[i] end
end
if distinct ~= '' then
  aks[#aks + 1] = P .. 'a:external:' .. distinct
  aks[#aks + 1] = P .. 'a:anonymous:' .. distinct
end
if mergeFrom ~= '' then
  aks[#aks + 1] = P .. 'a:external:' .. mergeFrom
  aks[#aks + 1] = P .. 'a:anonymous:' .. mergeFrom
end
if provenUser ~= '' then aks[#aks + 1] = P .. 'a:external:' .. provenUser end
if emailClaim ~= '' then aks[#aks + 1] = P .. 'a:email:' .. emailClaim end
prefetchAliases(aks)
local matched, seen = {}, {}
local t, src = nil, nil
if distinct ~= '' then
  -- distinctLive looks a PostHog distinct id up: external alias, then anonymous.
  local function distinctLive(v)
    local o = aliasOwner('external', v)
    local c = o and liveContact(o)
    if c then return c end
    o = aliasOwner('anonymous', v)
    return o and liveContact(o) or nil
  end
  t = distinctLive(distinct)
  if t then
    seen[t.id] = true
    matched[1] = t
  end
  if mergeFrom ~= '' then src = distinctLive(mergeFrom) end
end
for i = 1, 3 do
  local v = keys[i]
  if v ~= '' then
    local o = aliasOwner(KINDS[i], v)
    local c = o and liveContact(o)
    if not c and i == 1 and uuids[1] ~= '' then c = liveContact(uuids[1]) end
    if c and not seen[c.id] then
      seen[c.id] = true
      matched[#matched + 1] = c
    end
  end
end

if refuseIdentified then
  local all = {}
  for j, c in ipairs(matched) do all[j] = c end
  if src then all[#all + 1] = src end
  for _, c in ipairs(all) do
    if c.ext ~= '' or c.email ~= '' then
      return {'0', '0', '0', '0', '0', '0', '0', '1', '0'}
    end
  end
end

-- Capture trust (docs/identity-trust.md), as gate in memory_trust.go decides.
local unproven = '0'
local readOnly, refuseFrom, noPromote = false, false, false
-- provenContact is the live contact provenUser's external key resolves to.
local function provenContact()
  if provenUser == '' then return nil end
  local o = aliasOwner('external', provenUser)
  return o and liveContact(o) or nil
end
if trustPublic or trustVerified then
  local function identified(c) return c.ext ~= '' or c.email ~= '' end
  local proven = provenContact()
  local sideIdentified, unprovenSide, otherExt = false, false, false
  for _, c in ipairs(matched) do
    if identified(c) then
      sideIdentified = true
      if c ~= proven then unprovenSide = true end
    end
    if c.ext ~= '' and c.ext ~= distinct and c ~= proven then otherExt = true end
  end
  local writes = identify or mergeFrom ~= '' or emailClaim ~= '' or nset + nonce + nunset > 0 or
    keys[1] ~= '' or keys[2] ~= '' or keys[3] ~= ''
  if trustVerified and unprovenSide and writes then
    readOnly, unproven = true, '1'
  else
    if src and not seen[src.id] and identified(src) and (src ~= proven or sideIdentified) then
      refuseFrom, unproven = true, '1'
    end
    if identify then
      if trustVerified then noPromote = provenUser ~= distinct else noPromote = otherExt end
      -- Unproven only when the promotion would have written something.
      if noPromote then
        local o = aliasOwner('external', distinct)
        if not t or not (o and liveContact(o) == t) then unproven = '1' end
      end
    end
  end
end
if noPromote then identify = false end

-- MergeFrom's contact joins from outside the target side, unless refused.
local refused = '0'
local fromLast = false
if src and not seen[src.id] and not readOnly then
  if refuseFrom or #matched > 0 and src.ext ~= '' and not dangerously then
    refused = '2'
  else
    fromLast = true
    seen[src.id] = true
    matched[#matched + 1] = src
  end
end

-- Write keys, as newWriteKeys in keys.go: Keys by slot, then Distinct (as
-- external when identifying, else as anonymous when it matched nothing), then
-- MergeFrom (as anonymous when it matched nothing). They extend keys and
-- uuids in place, so a native op allocates nothing here: key j (1..nk, ''
-- when absent) has slot j for j <= 3, else wslot[j] (wslot is nil without
-- a distinct id).
local nk = 3
local wslot = nil
if distinct ~= '' then
  wslot = {}
  local function addWK(i, v, u)
    if keys[i] == v then return end
    for j = 4, nk do
      if wslot[j] == i and keys[j] == v then return end
    end
    nk = nk + 1
    keys[nk], uuids[nk], wslot[nk] = v, u, i
  end
  if identify then addWK(1, distinct, distinctUUID)
  elseif not t then addWK(3, distinct, distinctUUID) end
  if mergeFrom ~= '' and not src then addWK(3, mergeFrom, mergeFromUUID) end
end

-- firstWK is the first write key of slot i, or ''.
local function firstWK(i)
  if keys[i] ~= '' then return keys[i] end
  for j = 4, nk do
    if wslot[j] == i then return keys[j] end
  end
  return ''
end

local created, linked, merged = '0', '0', '0'
local survivor = nil
local losers = {}

if readOnly then
  -- The target side is resolved as it is: nothing is written.
  linked = '1'
  survivor = matched[1]
elseif #matched == 0 then
  if not nocreate then
    version = nextVersion()
    local c = newContact(newID)
    loaded[newID] = c
    setMeta(c, 'ext', firstWK(1))
    setMeta(c, 'email', firstWK(2))
    setMeta(c, 'anon', firstWK(3))
    setMeta(c, 'source', source)
    for _, f in ipairs({'first', 'last', 'created', 'updated'}) do setMeta(c, f, now) end
    setMeta(c, 'deleted', '0')
    setMeta(c, 'version', version)
    applyPatch(c)
    for j = 1, nk do
      if keys[j] ~= '' then setAlias(KINDS[j <= 3 and j or wslot[j]], keys[j], newID, '', 'resolve') end
    end
    created = '1'
    survivor = c
  end
elseif #matched == 1 then
  -- Fill-in-link: an empty column takes the key; a differing column is kept
  -- and the key only becomes an extra alias.
  local c = matched[1]
  version = nextVersion()
  for j = 1, nk do
    local i, v = j <= 3 and j or wslot[j], keys[j]
    local col = COLS[i]
    if v ~= '' and c[col] ~= v and not (i ~= 2 and isOtherKey(v, uuids[j], c.id)) then
      if c[col] == '' then setMeta(c, col, v) end
      if aliasOwner(KINDS[i], v) ~= c.id then setAlias(KINDS[i], v, c.id, '', 'promote') end
    end
  end
  applyPatch(c)
  setMeta(c, 'last', now)
  setMeta(c, 'updated', now)
  setMeta(c, 'version', version)
  linked = '1'
  survivor = c
else
  version = nextVersion()
  -- The survivor: Distinct's contact while MergeFrom is in play, else the
  -- best by the survivor rule; MergeFrom's contact from outside comes last.
  local pin = nil
  if mergeFrom ~= '' then pin = t end
  local cs = {}
  local nhead = #matched
  if fromLast then nhead = nhead - 1 end
  for j = 1, nhead do cs[j] = matched[j] end
  table.sort(cs, function(a, b)
    if a == b then return false end
    if a == pin then return true end
    if b == pin then return false end
    return rankLess(a, b)
  end)
  if fromLast then cs[#cs + 1] = matched[#matched] end
  local s = cs[1]
  -- Soft-delete losers first, so that the liveness checks below free their keys.
  for j = 2, #cs do
    local l = cs[j]
    setMeta(l, 'deleted', now)
    setMeta(l, 'updated', now)
    setMeta(l, 'version', version)
    losers[#losers + 1] = l
  end
  -- Properties: worst loser first, survivor on top (the patch comes last).
  local acc, order = {}, {}
  for j = #cs, 1, -1 do
    local c = cs[j]
    for _, f in ipairs(c.order) do
      local val = c.p[f]
      if val then
        local cur = acc[f]
        if cur == nil then
          order[#order + 1] = f
          acc[f] = val
        elseif nested(string.sub(f, 2)) and isObj(val) then
          acc[f] = mergeObj(cur, val)
        else
          acc[f] = val
        end
      end
    end
  end
  for _, f in ipairs(order) do
    if s.p[f] ~= acc[f] then setProp(s, f, acc[f]) end
  end
  -- Missing identity columns: the request's value, else a loser's.
  for i = 1, 3 do
    local col = COLS[i]
    if s[col] == '' then
      local v = firstWK(i)
      if v == '' then
        for j = 2, #cs do
          if cs[j][col] ~= '' then v = cs[j][col]; break end
        end
      end
      if v ~= '' then setMeta(s, col, v) end
    end
  end
  if s.source == '' then
    for j = 2, #cs do
      if cs[j].source ~= '' then
        setMeta(s, 'source', cs[j].source)
        break
      end
    end
  end
  local first = s.first
  for j = 2, #cs do
    local l = cs[j]
    if tonumber(l.first) < tonumber(first) then first = l.first end
    -- Every loser key moves to the survivor; a loser known only by its uuid
    -- also gets external:<uuid>, so history stored under it still resolves.
    local list, dedup = {}, {}
    local function add(m)
      if not dedup[m] then
        dedup[m] = true
        list[#list + 1] = m
      end
    end
    for _, m in ipairs(redis.call('SMEMBERS', P .. 'ca:' .. l.id)) do add(m) end
    for i = 1, 3 do
      if l[COLS[i]] ~= '' then add(KINDS[i] .. ':' .. l[COLS[i]]) end
    end
    if l.ext == '' and l.anon == '' then add('external:' .. l.id) end
    table.sort(list, bytesLess)
    for _, m in ipairs(list) do
      local p = string.find(m, ':', 1, true)
      local kind, value = string.sub(m, 1, p - 1), string.sub(m, p + 1)
      local o = aliasOwner(kind, value)
      if not (o and liveContact(o)) then setAlias(kind, value, s.id, l.id, 'merge') end
    end
    redis.call('DEL', P .. 'ca:' .. l.id)
  end
  for j = 1, nk do
    local i, v = j <= 3 and j or wslot[j], keys[j]
    if v ~= '' then
      local o = aliasOwner(KINDS[i], v)
      if not (o and liveContact(o)) and not (i ~= 2 and isOtherKey(v, uuids[j], s.id)) then
        setAlias(KINDS[i], v, s.id, '', 'promote')
      end
    end
  end
  applyPatch(s)
  setMeta(s, 'first', first)
  setMeta(s, 'last', now)
  setMeta(s, 'updated', now)
  setMeta(s, 'version', version)
  linked, merged = '1', '1'
  survivor = s
end

-- EmailClaim fills an empty email no live contact holds; under
-- TrustVerified only on the proven contact.
if survivor and emailClaim ~= '' and not readOnly and survivor.email == '' then
  local o = aliasOwner('email', emailClaim)
  if not (o and liveContact(o)) then
    if trustVerified and provenContact() ~= survivor then
      unproven = '1'
    else
      setMeta(survivor, 'email', emailClaim)
      setAlias('email', emailClaim, survivor.id, '', created == '1' and 'resolve' or 'promote')
    end
  end
end

if survivor then
  flushContact(survivor)
  for _, l in ipairs(losers) do flushContact(l) end
  flushAliases()
end

local out = {survivor and '1' or '0', created, linked, merged, version or '0'}
if survivor then appendContact(out, survivor) end
out[#out + 1] = string.format('%d', #losers)
for _, l in ipairs(losers) do appendContact(out, l) end
out[#out + 1] = string.format('%d', #aliasOut / 5)
for i = 1, #aliasOut do out[#out + 1] = aliasOut[i] end
out[#out + 1] = refused
out[#out + 1] = unproven
return out
