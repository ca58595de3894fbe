-- chat.lua: wrk script for bench/proxy.sh. POSTs a small OpenAI chat request with a different
-- "user" each time (u-0 .. u-9999), so sluice's sticky 90/10 split hashes a new key on every
-- request, and prints one machine-readable WRK_RESULT line when the run ends (latency in
-- microseconds, from wrk's own latency distribution, the one `--latency` prints).
--
-- BENCH_SHAPE picks the requests:
--   chat (default)  a system message and a user message never sent before ("Name colour number
--                   17."), so the guard's memo of segments seen before never answers and the
--                   guard path pays the whole scan every time;
--   same            the chat shape with one user message sent again and again ("Name one
--                   colour."), which the guard's memo answers after the first time;
--   conversation    conversations of 10 requests: each sends the system message and the whole
--                   history again (user turns of about 200 bytes, short assistant turns) plus a
--                   new user turn, as chat clients do (0.3 to 2.4 KB a request).
local n = 0
local path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
local shape = os.getenv("BENCH_SHAPE") or "chat"
local headers = { ["Content-Type"] = "application/json" }
local topics = { "the harbour", "a train timetable", "our refund policy", "the garden", "a recipe for bread",
	"the quarterly numbers", "a trip to Lisbon", "my running plan" }

local function conversation(i)
	local conv, turn = math.floor(i / 10), i % 10
	local parts = { '{"role":"system","content":"You are terse."}' }
	for t = 0, turn do
		parts[#parts + 1] = string.format('{"role":"user","content":"Conversation %d, question %d, about %s: '
			.. 'please look at what I told you before and answer in two short sentences, with one example '
			.. 'that fits %s, and say if anything I wrote earlier does not add up."}',
			conv, t, topics[(conv + t) % 8 + 1], topics[t % 8 + 1])
		if t < turn then
			parts[#parts + 1] = string.format('{"role":"assistant","content":"Noted: answer %d."}', t)
		end
	end
	return table.concat(parts, ",")
end

request = function()
	n = n + 1
	local msgs
	if shape == "conversation" then
		msgs = conversation(n)
	elseif shape == "same" then
		msgs = '{"role":"system","content":"You are terse."},{"role":"user","content":"Name one colour."}'
	else
		msgs = '{"role":"system","content":"You are terse."},{"role":"user","content":"Name colour number '
			.. n .. '."}'
	end
	local body = '{"model":"chat","messages":[' .. msgs .. '],"max_tokens":8,"user":"u-' .. (n % 10000) .. '"}'
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
