/**
 * Lua: the spend counters of a request, at KEYS[kb …], three per counter: the counter hash, its `:z`
 * expiry zset and `:a` amount hash. Check modes at ARGV[mb …], two per counter: balance `b` (v − r must
 * cover the cost, and be > 0) or cap `c` with its cap (v + r + cost ≤ cap, and v + r < cap).
 *
 * `spend_check` drops expired reservations, then reports 'dup' (the reservation id is in use), 'missing'
 * (counters billing has not loaded), 'short' (counters that refuse) with the counters' indices, or 'ok'.
 * `spend_commit` reserves the cost on every counter; `spend_replace` turns a reservation into `amount`
 * (the exact cost; '0' releases it) living `ttl` ms more, until billing settles the request and removes
 * it — a reservation already gone (settled, or expired) stays gone. Amounts are passed as strings (Lua
 * would format large numbers with exponents, which HINCRBY refuses). Time is Redis's.
 */
export const spendLua = `
local function spend_check(kb, n, id, cost, now, mb)
  local missing, short = {}, {}
  for i = 0, n - 1 do
    local c, z, a = KEYS[kb + i * 3], KEYS[kb + i * 3 + 1], KEYS[kb + i * 3 + 2]
    local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
    for _, old in ipairs(expired) do
      local amt = redis.call('HGET', a, old)
      if amt then
        redis.call('HINCRBY', c, 'r', '-' .. amt)
        redis.call('HDEL', a, old)
      end
      redis.call('ZREM', z, old)
    end
    if redis.call('HEXISTS', a, id) == 1 then return 'dup', {} end
    local state = redis.call('HMGET', c, 'ver', 'v', 'r')
    if not state[1] then
      missing[#missing + 1] = i
    else
      local v = tonumber(state[2] or '0')
      local r = tonumber(state[3] or '0')
      if ARGV[mb + i * 2] == 'b' then
        local available = v - r
        if available <= 0 or available < cost then short[#short + 1] = i end
      else
        local cap = tonumber(ARGV[mb + i * 2 + 1])
        local used = v + r
        if used >= cap or used + cost > cap then short[#short + 1] = i end
      end
    end
  end
  if #missing > 0 then return 'missing', missing end
  if #short > 0 then return 'short', short end
  return 'ok', {}
end

local function spend_commit(kb, n, id, cost, ttl, now)
  for i = 0, n - 1 do
    local c, z, a = KEYS[kb + i * 3], KEYS[kb + i * 3 + 1], KEYS[kb + i * 3 + 2]
    redis.call('HINCRBY', c, 'r', cost)
    redis.call('HSET', a, id, cost)
    redis.call('ZADD', z, now + ttl, id)
  end
end

local function spend_replace(kb, n, id, amount, ttl, now)
  for i = 0, n - 1 do
    local c, z, a = KEYS[kb + i * 3], KEYS[kb + i * 3 + 1], KEYS[kb + i * 3 + 2]
    local old = redis.call('HGET', a, id)
    if old then
      if amount == '0' then
        redis.call('HINCRBY', c, 'r', '-' .. old)
        redis.call('HDEL', a, id)
        redis.call('ZREM', z, id)
      else
        -- one increment by the difference (both are integers far below 2^53, so exact in Lua)
        redis.call('HINCRBY', c, 'r', string.format('%d', tonumber(amount) - tonumber(old)))
        redis.call('HSET', a, id, amount)
        redis.call('ZADD', z, now + ttl, id)
      end
    end
  end
end
`;
