import { redisClockLua } from '../redis-clock.lua';
import { windowsLua } from '../limits/request-windows.lua';
import { spendLua } from '../spend/spend-counters.lua';

/**
 * Admission in one round trip: the key's request windows, then the spend counters, checked together and
 * taken together or not at all.
 *
 * KEYS[1] = the key's windows hash (any key when there are no windows), KEYS[2 …] = the spend counters
 * (three keys each). ARGV[1] = number of windows, ARGV[2] = number of spend counters, ARGV[3] =
 * reservation id, ARGV[4] = worst-case cost, ARGV[5] = reservation ttl ms, then five arguments per window
 * (`windows_check`), then two per spend counter (`spend_check`).
 *
 * Returns {status, now, wait ms, m, m counter indices, then the window report (`windows_commit`)}, status
 * being 'ok' (counted and reserved), 'windows' (a window refuses; wait as `windows_check`), 'dup', 'missing'
 * or 'short' (`spend_check`; nothing counted).
 */
export const quotaAdmitScript = `${redisClockLua}${windowsLua}${spendLua}
local now = now_ms()
local nw, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
local windows, refused, wait = windows_check(KEYS[1], 6, nw, now)
local status, list = 'ok', {}
if refused then
  status = 'windows'
elseif ns > 0 then
  status, list = spend_check(2, ns, ARGV[3], tonumber(ARGV[4]), now, 6 + 5 * nw)
end
local out = { status, now, wait, #list }
for _, i in ipairs(list) do out[#out + 1] = i end
windows_commit(KEYS[1], windows, now, status == 'ok', out)
if status == 'ok' and ns > 0 then spend_commit(2, ns, ARGV[3], ARGV[4], tonumber(ARGV[5]), now) end
return out
`;

/**
 * Settlement in one round trip: the windows' corrections, the spend hold turned into the exact cost, and
 * the request's usage event appended to the outbox stream — atomically, so a request whose hold was
 * settled always has its usage event journaled, and the reverse.
 *
 * KEYS[1] = the windows hash, KEYS[2 …] = the spend counters (three keys each), then the outbox stream
 * when journaling. ARGV[1] = number of window corrections, ARGV[2] = number of spend counters, ARGV[3] =
 * reservation id, ARGV[4] = exact amount, ARGV[5] = ttl ms of the settled amount, ARGV[6] = '1' to
 * journal, then four arguments per correction (`windows_adjust`), then the request id and the event JSON.
 */
export const quotaSettleScript = `${redisClockLua}${windowsLua}${spendLua}
local now = now_ms()
local nq, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
windows_adjust(KEYS[1], 7, 6 + 4 * nq, now)
if ns > 0 then spend_replace(2, ns, ARGV[3], ARGV[4], tonumber(ARGV[5]), now) end
if ARGV[6] == '1' then
  redis.call('XADD', KEYS[2 + 3 * ns], '*', 'id', ARGV[7 + 4 * nq], 'event', ARGV[8 + 4 * nq])
end
return 1
`;
