-- claim: idempotency claims whose plain SET NX or HSETNX found them held,
-- judged (and taken over when stale or gone) atomically. The common case, a
-- free claim, never reaches this script.
-- ARGV: prefix (key field value ttl now)*: key is the full Redis key, field
-- '' for a claim key (ttl in ms), else the claim's field in bucket key (ttl
-- '<nx>:<gt>', as claimIdem takes it).
-- Reply: one code per claim, as claimIdem: '0' claimed, '1' duplicate, '2' pending.
local out = {}
for i = 2, #ARGV, 5 do
  out[#out + 1] = claimIdem(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
end
return out
