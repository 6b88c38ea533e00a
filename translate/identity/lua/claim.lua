-- claim: idempotency claims whose plain SET NX found the key held, judged
-- (and taken over when stale or gone) atomically. The common case, a free key,
-- never reaches this script.
-- ARGV: prefix (key value ttlMs now)*
-- Reply: one code per key, as claimIdem: '0' claimed, '1' duplicate, '2' pending.
local out = {}
for i = 2, #ARGV, 4 do
  out[#out + 1] = claimIdem(P .. 'i:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
end
return out
