-- chat.lua: wrk script for bench/proxy.sh. POSTs a small OpenAI chat request with a different
-- "user" each time (u-0 .. u-9999), so sluice's sticky 90/10 split hashes a new key on every
-- request, and a user message never sent before ("Name colour number 17."), so the guard's memo
-- of segments seen before never answers and its path pays the whole scan every time; prints one machine-readable WRK_RESULT line when the run ends (latency in
-- microseconds, from wrk's own latency distribution, the one `--latency` prints).
local n = 0
local path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
local headers = { ["Content-Type"] = "application/json" }

request = function()
	n = n + 1
	local body = '{"model":"chat","messages":[{"role":"system","content":"You are terse."},'
		.. '{"role":"user","content":"Name colour number ' .. n .. '."}],"max_tokens":8,"user":"u-'
		.. (n % 10000) .. '"}'
	return wrk.format("POST", path, headers, body)
end

done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"WRK_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d "
			.. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
		summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
		e.connect, e.read, e.write, e.status, e.timeout))
end
