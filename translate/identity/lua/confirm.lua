-- confirm: make claims final once their records are durable, many keys in
-- one call (one command, where a SET each cost Redis a command dispatch and
-- a reply per key).
-- ARGV: prefix windowMs key... Reply: the number of keys confirmed.
local window = ARGV[2]
for i = 3, #ARGV do
  redis.call('SET', P .. 'i:' .. ARGV[i], '1', 'PX', window)
end
return #ARGV - 2
