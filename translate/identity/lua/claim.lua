-- claim: one idempotency claim whose plain SET NX or HSETNX found it held,
-- judged (and taken over when stale or gone) atomically. The common case, a
-- free claim, never reaches this script.
-- KEYS: the claim's Redis key (a claim key, or a bucket hash).
-- ARGV: prefix field value ttl now seen ticket: field '' for a claim key (ttl
-- in ms), else the claim's field in the bucket (ttl '<nx>:<gt>', the expiry
-- of a new bucket and the latest an existing one is extended to, as
-- claim_slot.go's bucketExpiry). seen is the value the caller read before
-- the script, and ticket whether that value's ticket key existed then ('1',
-- '0'; '' for no ticket): a ticket key is in a slot of its own, which a
-- cluster does not let this script read.
-- Reply: '0' claimed, '1' duplicate, '2' pending.
local k = KEYS[1]
local f, value, ttl, now, seen, ticket = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

-- judgeClaim judges the claim value v met at request time now: '1' held by a
-- confirmed claim (a duplicate), '2' by a pending one, '0' stale (its request
-- died before its records were durable, so a new claim takes it over). A
-- claim is 'p' (pending, a key that expires with the pending window), 'p'..
-- <base-36 ms deadline> (pending, a bucket field, stale past the deadline),
-- '1' (confirmed), or 't'..ticket: pending until the ticket's key exists and
-- stale past the deadline the ticket carries (<base-36 ms>..'.'..nonce). A
-- ticket the caller did not see (v is not seen) was just written: pending.
local function judgeClaim(v)
  local kind = string.sub(v, 1, 1)
  local deadline
  if kind == 'p' then
    if v == 'p' then return '2' end
    deadline = tonumber(string.sub(v, 2), 36)
  elseif kind == 't' then
    if v ~= seen or ticket == '' then return '2' end
    if ticket == '1' then return '1' end
    deadline = tonumber(string.match(string.sub(v, 2), '^(%w+)%.') or '', 36)
  else
    return '1'
  end
  if deadline and tonumber(now) < deadline then return '2' end
  return '0'
end

local v
if f ~= '' then v = redis.call('HGET', k, f) else v = redis.call('GET', k) end
if v then
  local code = judgeClaim(v)
  if code ~= '0' then return code end
end
if f ~= '' then
  local nx, gt = string.match(ttl, '^(%d+):(%d+)$')
  redis.call('HSET', k, f, value)
  redis.call('PEXPIREAT', k, nx, 'NX')
  redis.call('PEXPIREAT', k, gt, 'GT')
else
  redis.call('SET', k, value, 'PX', ttl)
end
return '0'
