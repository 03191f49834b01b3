/**
 * The request windows of one key live in one Redis hash. Per window (field prefix `p`):
 *   `p:<bucket>` how much was counted in that bucket (requests, or tokens for TPM),
 *   `p:s` the sum of the live buckets, `p:l` the lowest bucket that may still exist, `p:h` the highest written.
 * A window of W ms is the sum of the buckets that overlap (now − W, now]; the oldest bucket counts whole until it
 * has entirely left, so a count leaves the window between W and W + one bucket after it was made (never early).
 * Expired buckets are subtracted from the running sum as they leave, so a check costs O(1) amortised whatever
 * the limit; the buckets a window can hold bound its memory. Time comes from Redis `TIME`, so every router
 * replica shares one clock and one count.
 */

import { redisClockLua } from '../redis-clock.lua';

/**
 * Shared Lua: expire the buckets of window `p` that left (now − W, now], given its meta fields as read
 * (`expire_meta`) or reading them (`expire`); returns sum, lo, hi (nil when the window is empty) and
 * whether the window's meta fields need saving. Only buckets before the window's oldest are ever deleted.
 */
const expireFn = `
local function expire_meta(key, p, now, W, B, sum_field, lo_field, hi_field)
  local cur = math.floor(now / B)
  local oldest = math.floor((now - W) / B)
  local sum = tonumber(sum_field) or 0
  local lo = tonumber(lo_field)
  local hi = tonumber(hi_field)
  if lo == nil or hi == nil then return 0, cur, nil, false end
  if lo >= oldest then return sum, lo, hi, false end
  local stop = math.min(hi, oldest - 1)
  if stop - lo + 1 > 2 * (math.floor(W / B) + 1) then
    -- a long gap (a very late correction moved hi far ahead): recount the live buckets from scratch
    local raw = redis.call('HGETALL', key)
    local stale = {}
    sum = 0
    local prefix = p .. ':'
    for i = 1, #raw, 2 do
      local f = raw[i]
      if string.sub(f, 1, #prefix) == prefix then
        local b = tonumber(string.sub(f, #prefix + 1))
        if b then
          if b < oldest then stale[#stale + 1] = f else sum = sum + tonumber(raw[i + 1]) end
        end
      end
    end
    for i = 1, #stale, 500 do redis.call('HDEL', key, unpack(stale, i, math.min(i + 499, #stale))) end
  elseif stop >= lo then
    local fields = {}
    for b = lo, stop do fields[#fields + 1] = p .. ':' .. string.format('%d', b) end
    local vals = redis.call('HMGET', key, unpack(fields))
    for i = 1, #vals do
      if vals[i] then sum = sum - tonumber(vals[i]) end
    end
    redis.call('HDEL', key, unpack(fields))
  end
  if hi < oldest or sum <= 0 then return 0, oldest, nil, true end
  return sum, oldest, hi, true
end

local function expire(key, p, now, W, B)
  local meta = redis.call('HMGET', key, p .. ':s', p .. ':l', p .. ':h')
  return expire_meta(key, p, now, W, B, meta[1], meta[2], meta[3])
end

local function save(key, p, sum, lo, hi)
  if hi == nil or sum <= 0 then
    redis.call('HDEL', key, p .. ':s', p .. ':l', p .. ':h')
  else
    redis.call('HSET', key, p .. ':s', sum, p .. ':l', string.format('%d', lo), p .. ':h', string.format('%d', hi))
  end
end
`;

/**
 * Lua: check every window of a request without counting. The windows' arguments are ARGV[wb …], five per
 * window: field prefix, limit, window ms, bucket ms, cost. Every window's meta fields and current bucket are
 * read in ONE HMGET (each Redis call inside a script has its cost; this is on every request). Returns the
 * per-window state (for `windows_commit`), whether any window refuses, and the wait until every full one
 * has room (-1: the cost alone exceeds a limit).
 */
const windowsCheckFn = `
local function windows_check(key, wb, n, now)
  local windows = {}
  local refused = false
  local wait = 0
  if n == 0 then return windows, refused, wait end
  local fields = {}
  for w = 0, n - 1 do
    local base = wb + w * 5
    local p = ARGV[base]
    local cur = math.floor(now / tonumber(ARGV[base + 3]))
    fields[#fields + 1] = p .. ':s'
    fields[#fields + 1] = p .. ':l'
    fields[#fields + 1] = p .. ':h'
    fields[#fields + 1] = p .. ':' .. string.format('%d', cur)
  end
  local read = redis.call('HMGET', key, unpack(fields))
  for w = 0, n - 1 do
    local base = wb + w * 5
    local p = ARGV[base]
    local limit = tonumber(ARGV[base + 1])
    local W = tonumber(ARGV[base + 2])
    local B = tonumber(ARGV[base + 3])
    local cost = tonumber(ARGV[base + 4])
    local sum, lo, hi, dirty = expire_meta(key, p, now, W, B, read[w * 4 + 1], read[w * 4 + 2], read[w * 4 + 3])
    -- expiry only deletes buckets older than the window, never the current one: this value stays true
    local counted_now = tonumber(read[w * 4 + 4]) or 0
    if sum + cost > limit then
      refused = true
      if cost > limit then
        wait = -1
      elseif wait >= 0 and hi ~= nil then
        -- the first moment enough of the oldest buckets have left
        local fields = {}
        for b = lo, hi do fields[#fields + 1] = p .. ':' .. string.format('%d', b) end
        local vals = redis.call('HMGET', key, unpack(fields))
        local freed = 0
        for i = 1, #vals do
          if vals[i] then freed = freed + tonumber(vals[i]) end
          if sum - freed + cost <= limit then
            local until_free = (lo + i) * B + W - now
            if until_free > wait then wait = until_free end
            break
          end
        end
      end
    end
    windows[w + 1] = { p, limit, W, B, cost, sum, lo, hi, dirty, counted_now }
  end
  return windows, refused, wait
end

-- Counts the request in every window when count_it (saving what expiry changed either way), in one HSET
-- (and one HDEL for windows that became empty) for all windows, and appends per window to out: prefix,
-- limit, used, reset ms (until the window is empty again), bucket counted in.
local function windows_commit(key, windows, now, count_it, out)
  local ttl = 0
  local writes, drops = {}, {}
  for _, win in ipairs(windows) do
    local p, limit, W, B, cost, sum, lo, hi, dirty = win[1], win[2], win[3], win[4], win[5], win[6], win[7], win[8], win[9]
    local cur = math.floor(now / B)
    if count_it and cost > 0 then
      dirty = true
      writes[#writes + 1] = p .. ':' .. string.format('%d', cur)
      writes[#writes + 1] = string.format('%d', win[10] + cost)
      sum = sum + cost
      if hi == nil or cur > hi then hi = cur end
      if W + B > ttl then ttl = W + B end
    end
    if dirty then
      if hi == nil or sum <= 0 then
        drops[#drops + 1] = p .. ':s'
        drops[#drops + 1] = p .. ':l'
        drops[#drops + 1] = p .. ':h'
      else
        writes[#writes + 1] = p .. ':s'
        writes[#writes + 1] = sum
        writes[#writes + 1] = p .. ':l'
        writes[#writes + 1] = string.format('%d', lo)
        writes[#writes + 1] = p .. ':h'
        writes[#writes + 1] = string.format('%d', hi)
      end
    end
    local reset = 0
    if sum > 0 and hi ~= nil then reset = (hi + 1) * B + W - now end
    table.insert(out, p)
    table.insert(out, limit)
    table.insert(out, sum)
    table.insert(out, reset)
    table.insert(out, string.format('%d', cur))
  end
  if #writes > 0 then redis.call('HSET', key, unpack(writes)) end
  if #drops > 0 then redis.call('HDEL', key, unpack(drops)) end
  if ttl > 0 and redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end

-- Gives back or adjusts what a request counted: ARGV[from … to], quadruples of field, delta, bucket ms,
-- window ms. A bucket still present is adjusted (removed at <= 0), and its window's sum with it. A
-- positive delta for a bucket that already left the window (a long request's actual tokens) lands in the
-- current bucket; a give-back for a bucket that left is moot.
local function windows_adjust(key, from, to, now)
  for i = from, to, 4 do
    local f = ARGV[i]
    local d = tonumber(ARGV[i + 1])
    local B = tonumber(ARGV[i + 2])
    local W = tonumber(ARGV[i + 3])
    local p = string.sub(f, 1, string.find(f, ':', 1, true) - 1)
    local old = tonumber(redis.call('HGET', key, f))
    if old ~= nil then
      local change = d
      if old + d <= 0 then
        change = -old
        redis.call('HDEL', key, f)
      else
        redis.call('HINCRBY', key, f, d)
      end
      local sum = redis.call('HINCRBY', key, p .. ':s', change)
      if sum <= 0 then redis.call('HDEL', key, p .. ':s', p .. ':l', p .. ':h') end
    elseif d > 0 and B > 0 then
      local sum, lo, hi = expire(key, p, now, W, B)
      local cur = math.floor(now / B)
      redis.call('HINCRBY', key, p .. ':' .. string.format('%d', cur), d)
      if hi == nil or cur > hi then hi = cur end
      save(key, p, sum + d, lo, hi)
      if redis.call('PTTL', key) < W + B then redis.call('PEXPIRE', key, W + B) end
    end
  end
end
`;

/** Every windows function, for scripts that check windows along with something else (the quota script). */
export const windowsLua = `${expireFn}${windowsCheckFn}`;

/**
 * Reads every window of a key without counting (`windows_check` with a cost of 0, then `windows_commit`
 * saving only what expiry changed). KEYS[1] = the key's hash; ARGV: five arguments per window.
 * Returns {1 / 0 (a window is full), now ms, wait ms, then per window: prefix, limit, used, reset ms,
 * current bucket}.
 */
export const windowsPeekScript = `${redisClockLua}${windowsLua}
local now = now_ms()
local windows, refused, wait = windows_check(KEYS[1], 1, #ARGV / 5, now)
local out = { refused and 0 or 1, now, wait }
windows_commit(KEYS[1], windows, now, false, out)
return out
`;
