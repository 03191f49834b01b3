/**
 * Lua: now in ms from Redis `TIME`. Every limit and reservation script reads time here, so every router
 * replica shares Redis's one clock instead of its own.
 */
export const redisClockLua = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
