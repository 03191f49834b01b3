-- POSTs one chat completion per request. Env: BODY_FILE (JSON body), AUTH (bearer token, may be empty),
-- RATE_PER_CONN (requests/s each connection paces itself to; 0 = as fast as possible).
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
local body = f:read("*a")
f:close()
local auth = os.getenv("AUTH") or ""
local rate = tonumber(os.getenv("RATE_PER_CONN") or "0")

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

-- Open-loop approximation: each connection waits out its share of the target interval before the next
-- request (wrk 4 has no fixed-rate mode; with latency far below the interval this is a fixed rate).
function delay()
  if rate > 0 then
    return 1000 / rate
  end
  return 0
end

local errors = 0
function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
  end
end

-- Machine-readable summary on the last line: latency percentiles in microseconds.
function done(summary, latency, requests)
  local non200 = summary.errors.status
  io.write(string.format(
    "\nJSON {\"requests\":%d,\"duration_us\":%d,\"non2xx\":%d,\"socket_errors\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f}\n",
    summary.requests, summary.duration, non200,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
