-- Shared helpers, prepended to every script (Redis scripts cannot import).
-- ARGV[1] is the prefix of the identity graph's keys, which share one hash
-- tag (the store's prefix and '{g}:'), so that on a Redis Cluster a graph
-- script's keys are all in the slot of its KEYS[1], P..'seq'.
--
-- Layout (P = graph prefix), explained in docs/redis-layout.md § 1:
--   P..'c:'..id          contact hash (fields and '.'..name per property)
--   P..'ca:'..id         set of 'kind:value' alias keys pointing at the contact
--   P..'a:'..kind..':'..value   alias: '<contact uuid>:<version>'
--   P..'seq'             version counter
--   P..'k:'..hash        API key hash
-- Idempotency claims and tickets are outside the graph, each in its own slot:
-- claim.lua and restore_claim.lua get their one key in KEYS.
-- Every value is a string; Lua numbers only appear for comparisons.
--
-- Scripts read contacts and aliases through the caches below and write them
-- back once at the end (flush), so an op costs a handful of redis.calls
-- whatever it touches.
local P = ARGV[1]
local KINDS = {'external', 'email', 'anonymous'}
local COLS = {'ext', 'email', 'anon'}
local META = {'ext', 'email', 'anon', 'source', 'first', 'last', 'created', 'updated', 'deleted', 'version'}

-- bytesLess compares byte-wise. Lua's '<' on strings uses strcoll, and Redis
-- sets LC_COLLATE from the environment, so it cannot be trusted to match Go.
local function bytesLess(a, b)
  local la, lb = #a, #b
  local n = la < lb and la or lb
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return la < lb
end

-- Contacts: c = {id, meta fields..., p = {'.name' -> raw}, order = {'.name'...},
-- known = set of order, dirty = {'.name'...}, isDirty, metaW = {name, value...}}.
local loaded = {}

local function newContact(id)
  return {id = id, ext = '', email = '', anon = '', source = '', first = '0', last = '0',
    created = '0', updated = '0', deleted = '0', version = '0',
    p = {}, order = {}, known = {}, dirty = {}, isDirty = {}, metaW = {}}
end

-- loadContact returns the contact with id, or nil when there is none.
local function loadContact(id)
  local c = loaded[id]
  if c ~= nil then return c or nil end
  local flat = redis.call('HGETALL', P .. 'c:' .. id)
  if #flat == 0 then
    loaded[id] = false
    return nil
  end
  c = newContact(id)
  for i = 1, #flat, 2 do
    local f = flat[i]
    if string.byte(f, 1) == 46 then
      c.p[f] = flat[i + 1]
      c.order[#c.order + 1] = f
      c.known[f] = true
    else
      c[f] = flat[i + 1]
    end
  end
  loaded[id] = c
  return c
end

local function liveContact(id)
  local c = loadContact(id)
  if c and c.deleted == '0' then return c end
  return nil
end

local function setMeta(c, name, value)
  c[name] = value
  local w = c.metaW
  w[#w + 1] = name
  w[#w + 1] = value
end

-- setProp sets (or, with v == nil, removes) property field f ('.'..name).
local function setProp(c, f, v)
  c.p[f] = v
  if not c.isDirty[f] then
    c.isDirty[f] = true
    c.dirty[#c.dirty + 1] = f
  end
  if v and not c.known[f] then
    c.known[f] = true
    c.order[#c.order + 1] = f
  end
end

-- callChunked runs cmd key args... in chunks of 400 (unpack has a stack
-- limit; an even size keeps HSET pairs together).
local function callChunked(cmd, key, args)
  local n = #args
  local i = 1
  while i <= n do
    local j = math.min(i + 399, n)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end

-- TOUCH are the fields a touch changes (touch.lua): any other change is one
-- of the contact's content, which moves its content version 'cv' to the
-- version written, so that a proxy's cached copy of it stops validating.
local TOUCH = {last = true, updated = true, version = true}

-- flushContact writes what changed in c: one HSET, and an HDEL if a property
-- was removed.
local function flushContact(c)
  local w, d = {}, {}
  local content = #c.dirty > 0 or not c.cv
  for i = 1, #c.metaW do
    w[i] = c.metaW[i]
    if i % 2 == 1 and not TOUCH[w[i]] then content = true end
  end
  if content then
    c.cv = c.version
    w[#w + 1] = 'cv'
    w[#w + 1] = c.version
  end
  for _, f in ipairs(c.dirty) do
    local v = c.p[f]
    if v then
      w[#w + 1] = f
      w[#w + 1] = v
    else
      d[#d + 1] = f
    end
  end
  local k = P .. 'c:' .. c.id
  if #w > 0 then callChunked('HSET', k, w) end
  if #d > 0 then callChunked('HDEL', k, d) end
  c.metaW, c.dirty, c.isDirty = {}, {}, {}
end

-- appendContact appends a contact block: id ext email anon source first last
-- created updated deleted version nprops ('.'..name value)*
local function appendContact(out, c)
  local n = #out
  out[n + 1] = c.id
  for i = 1, 10 do out[n + 1 + i] = c[META[i]] end
  local slot = n + 12
  n = slot
  local count = 0
  for _, f in ipairs(c.order) do
    local v = c.p[f]
    if v then
      out[n + 1] = f
      out[n + 2] = v
      n = n + 2
      count = count + 1
    end
  end
  out[slot] = string.format('%d', count)
end

-- Aliases: aliasVal caches alias key -> value (false when missing); writes
-- are collected and flushed with one MSET and one SADD/SREM per set.
local aliasVal = {}
local aliasW = {}
local members = {} -- contact id -> {member -> true (add) | false (remove)}
local memberIDs = {}

local function aliasOwnerKey(ak)
  local v = aliasVal[ak]
  if v == nil then
    v = redis.call('GET', ak)
    aliasVal[ak] = v
  end
  if v then return string.sub(v, 1, 36) end
  return nil
end

local function aliasOwner(kind, value)
  return aliasOwnerKey(P .. 'a:' .. kind .. ':' .. value)
end

-- prefetchAliases loads several alias keys with one MGET.
local function prefetchAliases(aks)
  if #aks == 0 then return end
  local vs = redis.call('MGET', unpack(aks))
  for i, ak in ipairs(aks) do aliasVal[ak] = vs[i] end
end

local function member(id, m, present)
  local s = members[id]
  if not s then
    s = {}
    members[id] = s
    memberIDs[#memberIDs + 1] = id
  end
  s[m] = present
end

-- pointAlias points kind:value at id with version v (no output row).
local function pointAlias(kind, value, id, v)
  local ak = P .. 'a:' .. kind .. ':' .. value
  local m = kind .. ':' .. value
  local old = aliasOwnerKey(ak)
  if old and old ~= id then member(old, m, false) end
  local val = id .. ':' .. v
  aliasVal[ak] = val
  aliasW[#aliasW + 1] = ak
  aliasW[#aliasW + 1] = val
  member(id, m, true)
end

local function flushAliases()
  if #aliasW > 0 then
    for i = 1, #aliasW, 400 do
      redis.call('MSET', unpack(aliasW, i, math.min(i + 399, #aliasW)))
    end
  end
  for _, id in ipairs(memberIDs) do
    local add, rem = {}, {}
    for m, present in pairs(members[id]) do
      if present then add[#add + 1] = m else rem[#rem + 1] = m end
    end
    local k = P .. 'ca:' .. id
    if #rem > 0 then callChunked('SREM', k, rem) end
    if #add > 0 then callChunked('SADD', k, add) end
  end
end

local function bumpSeq(v)
  local k = P .. 'seq'
  local cur = tonumber(redis.call('GET', k) or '0')
  if cur < tonumber(v) then redis.call('SET', k, v) end
end

-- Raw JSON, mirroring props.go: only the "discord"/"telegram" one-level merge
-- needs to look inside a value, and it works on member boundaries so that values
-- keep their exact bytes (cjson would round numbers and reorder keys).
local function isSpace(b) return b == 32 or b == 9 or b == 10 or b == 13 end

local function skipWS(s, i)
  local n = #s
  while i <= n and isSpace(string.byte(s, i)) do i = i + 1 end
  return i
end

local function skipString(s, i)
  local n = #s
  local j = i + 1
  while j <= n do
    local b = string.byte(s, j)
    if b == 92 then j = j + 2
    elseif b == 34 then return j + 1
    else j = j + 1 end
  end
  return nil
end

local function skipValue(s, i)
  local n = #s
  if i > n then return nil end
  local b = string.byte(s, i)
  if b == 34 then return skipString(s, i) end
  if b == 123 or b == 91 then
    local depth = 0
    local j = i
    while j <= n do
      local c = string.byte(s, j)
      if c == 34 then
        local k = skipString(s, j)
        if not k then return nil end
        j = k
      else
        if c == 123 or c == 91 then depth = depth + 1
        elseif c == 125 or c == 93 then
          depth = depth - 1
          if depth == 0 then return j + 1 end
        end
        j = j + 1
      end
    end
    return nil
  end
  local j = string.find(s, '[,%]} \t\n\r]', i)
  if not j then return n + 1 end
  if j == i then return nil end
  return j
end

-- objMembers splits a JSON object into {{rawKey, rawValue}, ...}; nil if s is not one.
local function objMembers(s)
  local n = #s
  local i = skipWS(s, 1)
  if string.byte(s, i) ~= 123 then return nil end
  i = skipWS(s, i + 1)
  local out = {}
  if string.byte(s, i) == 125 then return out end
  while true do
    i = skipWS(s, i)
    if string.byte(s, i) ~= 34 then return nil end
    local ks = i
    i = skipString(s, i)
    if not i then return nil end
    local key = string.sub(s, ks, i - 1)
    i = skipWS(s, i)
    if string.byte(s, i) ~= 58 then return nil end
    i = skipWS(s, i + 1)
    local vs = i
    i = skipValue(s, i)
    if not i then return nil end
    out[#out + 1] = {key, string.sub(s, vs, i - 1)}
    i = skipWS(s, i)
    if i > n then return nil end
    local b = string.byte(s, i)
    if b == 44 then i = i + 1
    elseif b == 125 then return out
    else return nil end
  end
end

-- isNull: empty, blanks, or null between blanks. Plain finds, no pattern
-- that backtracks over a long run of blanks.
local function isNull(v)
  local i = string.find(v, '[^ \t\n\r]')
  if not i then return true end
  if string.sub(v, i, i + 3) ~= 'null' then return false end
  return string.find(v, '[^ \t\n\r]', i + 4) == nil
end

local function isObj(v)
  return string.byte(v, skipWS(v, 1)) == 123
end

-- mergeObj mirrors mergeObject in props.go: one pass over each side through
-- an index from key to the first live member with it (first); nxt chains the
-- members of one key, which a stored object may repeat. A removed member
-- keeps its place with value false.
local function mergeObj(base, patch)
  local pm = objMembers(patch)
  if not pm then return patch end
  local bm = objMembers(base) or {}
  local first, nxt = {}, {}
  for i = #bm, 1, -1 do
    local k = bm[i][1]
    nxt[i] = first[k]
    first[k] = i
  end
  for _, p in ipairs(pm) do
    local k = p[1]
    local j = first[k]
    if isNull(p[2]) then
      if j then
        bm[j][2] = false
        first[k] = nxt[j]
      end
    elseif j then
      bm[j][2] = p[2]
    else
      bm[#bm + 1] = p
      first[k] = #bm
    end
  end
  local parts = {}
  for i = 1, #bm do
    local v = bm[i][2]
    if v then parts[#parts + 1] = bm[i][1] .. ':' .. v end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

local function nested(name) return name == 'discord' or name == 'telegram' end

-- matchContacts is what find and delete target: the live contact of the
-- email, then that of the external id when it is another one.
local function matchContacts(email, uid)
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
  return cs
end
