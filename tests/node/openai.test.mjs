// openai.test.mjs: the official `openai` npm client (v6) talking to sluice, as an application would.
// run.sh starts the gateway (model `chat`, versions v1 and v2 on two `sluice sim` servers whose
// upstream models are sim-v1 and sim-v2; v2's upstream URL ends in /v1, as OpenAI base URLs do) and
// sets SLUICE_URL plus SLUICE_SIM_V1_URL and SLUICE_SIM_V2_URL. Nothing here assumes which version a
// request lands on: each test reads x-sluice-version and checks the answer agrees with it. Sticky
// users (`user`) keep the requests of one test on one version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';

const SLUICE_URL = process.env.SLUICE_URL;
if (!SLUICE_URL) throw new Error('SLUICE_URL is not set: run tests/node/run.sh');

const MODEL = 'chat';
const VERSIONS = ['v1', 'v2'];
const T = { timeout: 15_000 };

// Every request body the client sends, so tests can check what went over the wire.
const sent = [];
async function recordingFetch(url, init) {
	sent.push({ url: String(url), body: typeof init?.body === 'string' ? init.body : null });
	return fetch(url, init);
}

const openai = new OpenAI({
	baseURL: `${SLUICE_URL}/v1`,
	apiKey: 'test-key',
	maxRetries: 0, // a failure must surface, not be retried away
	timeout: 10_000,
	fetch: recordingFetch,
});

function lastBody(pathSuffix) {
	for (let i = sent.length - 1; i >= 0; i--)
		if (sent[i].url.endsWith(pathSuffix)) return JSON.parse(sent[i].body);
	throw new Error(`no request to ${pathSuffix} was recorded`);
}

function versionOf(response) {
	const v = response.headers.get('x-sluice-version');
	assert.ok(VERSIONS.includes(v), `x-sluice-version is '${v}', want one of ${VERSIONS}`);
	return v;
}

function checkUsage(usage, { completion = true } = {}) {
	assert.ok(usage, 'usage is missing');
	assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
	if (completion) {
		assert.ok(Number.isInteger(usage.completion_tokens) && usage.completion_tokens > 0,
			`completion_tokens ${usage.completion_tokens}`);
		assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
	} else {
		assert.ok(usage.total_tokens >= usage.prompt_tokens);
	}
}

const messages = [{ role: 'user', content: 'Say hello to the gateway.' }];

test('chat completion: content, model rewritten to the version, usage', T, async () => {
	const { data, response } = await openai.chat.completions.create({ model: MODEL, messages }).withResponse();
	assert.equal(response.status, 200);
	const version = versionOf(response);
	assert.equal(lastBody('/chat/completions').model, MODEL, 'the client sends the public model name');
	assert.equal(data.object, 'chat.completion');
	assert.equal(data.model, `sim-${version}`, 'the upstream answered for the model sluice rewrote to');
	assert.equal(data.choices.length, 1);
	assert.equal(data.choices[0].message.role, 'assistant');
	assert.equal(typeof data.choices[0].message.content, 'string');
	assert.ok(data.choices[0].message.content.length > 0, 'empty content');
	assert.ok(data.choices[0].finish_reason, 'finish_reason is missing');
	checkUsage(data.usage);
	assert.match(response.headers.get('x-sluice-request-id') ?? '', /^[0-9a-f]{32}$/);
});

test('the upstream receives the version\'s upstream_model (sim /sim/stats)', T, async () => {
	const sims = { v1: process.env.SLUICE_SIM_V1_URL, v2: process.env.SLUICE_SIM_V2_URL };
	assert.ok(sims.v1 && sims.v2, 'SLUICE_SIM_V1_URL and SLUICE_SIM_V2_URL are not set: run tests/node/run.sh');
	const done = new Set();
	for (let i = 0; i < 32 && done.size < VERSIONS.length; i++) {
		const user = `rewrite-${i}`;
		const { response } = await openai.chat.completions.create({ model: MODEL, messages, user }).withResponse();
		const v = versionOf(response);
		const st = await (await fetch(`${sims[v]}/sim/stats`)).json();
		assert.equal(st.last_model, `sim-${v}`, `the ${v} upstream saw model ${JSON.stringify(st.last_model)}`);
		done.add(v);
	}
	assert.deepEqual([...done].sort(), VERSIONS);
});

test('chat streaming with include_usage: text reassembles, last chunk has usage and no choices', T, async () => {
	const { data: stream, response } = await openai.chat.completions
		.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
		.withResponse();
	assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
	const version = versionOf(response);
	const chunks = [];
	for await (const chunk of stream) chunks.push(chunk);
	assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);

	const last = chunks.at(-1);
	assert.deepEqual(last.choices, [], 'the usage chunk has empty choices');
	checkUsage(last.usage);
	const withUsage = chunks.filter((c) => c.usage);
	assert.equal(withUsage.length, 1, 'exactly one chunk carries usage');

	let text = '';
	let finish = null;
	for (const c of chunks.slice(0, -1)) {
		assert.equal(c.object, 'chat.completion.chunk');
		assert.equal(c.model, `sim-${version}`);
		assert.equal(c.choices.length, 1);
		text += c.choices[0].delta?.content ?? '';
		if (c.choices[0].finish_reason) finish = c.choices[0].finish_reason;
	}
	assert.ok(text.length > 0, 'no text streamed');
	assert.ok(finish, 'no chunk carried a finish_reason');
});

test('chat streaming without include_usage: no usage chunk reaches the client', T, async () => {
	const stream = await openai.chat.completions.create({ model: MODEL, messages, stream: true });
	const chunks = [];
	for await (const chunk of stream) chunks.push(chunk);
	assert.ok(chunks.length >= 2, `only ${chunks.length} chunks`);
	for (const c of chunks) {
		assert.ok(c.usage === undefined || c.usage === null, `a chunk carried usage: ${JSON.stringify(c)}`);
		assert.equal(c.choices.length, 1, `a chunk without choices reached the client: ${JSON.stringify(c)}`);
	}
	const text = chunks.map((c) => c.choices[0].delta?.content ?? '').join('');
	assert.ok(text.length > 0, 'no text streamed');
	assert.ok(chunks.at(-1).choices[0].finish_reason, 'the last chunk has no finish_reason');
	assert.equal(lastBody('/chat/completions').stream_options, undefined, 'the client asked for no usage');
});

test('streaming text agrees with the non-streaming answer of the same version', T, async () => {
	// a sticky user keeps both requests on one version
	const user = 'node-agree';
	const { data: whole, response } = await openai.chat.completions
		.create({ model: MODEL, messages, user }).withResponse();
	const version = versionOf(response);
	const { data: stream, response: r2 } = await openai.chat.completions
		.create({ model: MODEL, messages, user, stream: true, stream_options: { include_usage: true } })
		.withResponse();
	assert.equal(versionOf(r2), version, 'a sticky user changed version');
	let text = '';
	let usage = null;
	for await (const c of stream) {
		text += c.choices[0]?.delta?.content ?? '';
		if (c.usage) usage = c.usage;
	}
	assert.equal(text, whole.choices[0].message.content);
	assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

test('withResponse() and asResponse() expose x-sluice-version; sticky users keep theirs', T, async () => {
	const seen = new Set();
	for (let i = 0; i < 16; i++) {
		const user = `user-${i}`;
		const { data, response } = await openai.chat.completions.create({ model: MODEL, messages, user }).withResponse();
		const v = versionOf(response);
		assert.equal(data.model, `sim-${v}`);
		seen.add(v);
		const raw = await openai.chat.completions.create({ model: MODEL, messages, user }).asResponse();
		assert.equal(raw.status, 200);
		assert.equal(raw.headers.get('x-sluice-version'), v, `sticky user ${user} moved`);
		const body = await raw.json();
		assert.equal(body.model, `sim-${v}`);
	}
	assert.deepEqual([...seen].sort(), VERSIONS, '16 users at 50/50 all landed on one version');
});

test('embeddings: the default (base64) decodes to the float vectors within 1e-6', T, async () => {
	const input = ['the quick brown fox', 'jumps over the lazy dog'];
	const user = 'embed-user'; // keeps all three requests on one version

	const { data: byDefault, response } = await openai.embeddings.create({ model: MODEL, input, user }).withResponse();
	const version = versionOf(response);
	assert.equal(lastBody('/embeddings').encoding_format, 'base64', 'the v6 client asks for base64 by default');
	const asFloat = await openai.embeddings.create({ model: MODEL, input, user, encoding_format: 'float' });
	assert.equal(lastBody('/embeddings').encoding_format, 'float');
	const asB64 = await openai.embeddings.create({ model: MODEL, input, user, encoding_format: 'base64' });

	for (const r of [byDefault, asFloat, asB64]) {
		assert.equal(r.object, 'list');
		assert.equal(r.model, `sim-${version}`);
		assert.equal(r.data.length, input.length);
		r.data.forEach((d, i) => assert.equal(d.index, i));
		checkUsage(r.usage, { completion: false });
	}
	for (let i = 0; i < input.length; i++) {
		const f = asFloat.data[i].embedding;
		const d = byDefault.data[i].embedding;
		assert.ok(Array.isArray(f) && f.length > 0, 'float embedding is not a non-empty array');
		assert.ok(f.every((x) => typeof x === 'number' && Number.isFinite(x)));
		assert.equal(d.length, f.length);
		const raw = Buffer.from(asB64.data[i].embedding, 'base64');
		assert.equal(raw.length, 4 * f.length, 'base64 is not float32 little-endian of the same length');
		const b = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
		for (let k = 0; k < f.length; k++) {
			assert.ok(Math.abs(d[k] - f[k]) <= 1e-6, `default[${i}][${k}] ${d[k]} vs float ${f[k]}`);
			assert.ok(Math.abs(b[k] - f[k]) <= 1e-6, `base64[${i}][${k}] ${b[k]} vs float ${f[k]}`);
		}
	}
	// two different inputs do not embed to the same vector
	assert.notDeepEqual(asFloat.data[0].embedding, asFloat.data[1].embedding);
});

test('legacy completion, plain and streamed with usage', T, async () => {
	const { data, response } = await openai.completions
		.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 16 }).withResponse();
	const version = versionOf(response);
	assert.equal(data.object, 'text_completion');
	assert.equal(data.model, `sim-${version}`);
	assert.equal(data.choices.length, 1);
	assert.equal(typeof data.choices[0].text, 'string');
	assert.ok(data.choices[0].text.length > 0, 'empty text');
	checkUsage(data.usage);

	const stream = await openai.completions.create({
		model: MODEL, prompt: 'Once upon a time', max_tokens: 16, stream: true,
		stream_options: { include_usage: true },
	});
	let text = '';
	let usage = null;
	for await (const c of stream) {
		if (c.usage) usage = c.usage;
		else text += c.choices[0]?.text ?? '';
	}
	assert.ok(text.length > 0, 'no text streamed');
	checkUsage(usage);
});

test('models.list() shows the public model, not the upstream ones', T, async () => {
	const ids = [];
	for await (const m of openai.models.list()) {
		assert.equal(m.object, 'model');
		ids.push(m.id);
	}
	assert.deepEqual(ids, [MODEL]);
});

test('unknown model: NotFoundError 404, code model_not_found', T, async () => {
	const err = await openai.chat.completions.create({ model: 'no-such-model', messages }).then(
		() => assert.fail('an unknown model was accepted'), (e) => e);
	assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
	assert.ok(err instanceof OpenAI.APIError);
	assert.equal(err.status, 404);
	assert.equal(err.code, 'model_not_found');
	assert.equal(err.type, 'invalid_request_error');
	assert.equal(err.error.code, 'model_not_found');
	assert.match(err.error.message, /no-such-model/);

	// the same when streaming: the error arrives before any event
	await assert.rejects(
		openai.chat.completions.create({ model: 'no-such-model', messages, stream: true }),
		(e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
	await assert.rejects(
		openai.embeddings.create({ model: 'no-such-model', input: 'x' }),
		(e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
});

test('invalid requests: BadRequestError 400', T, async () => {
	// an empty model name
	const empty = await openai.chat.completions.create({ model: '', messages }).then(
		() => assert.fail('an empty model was accepted'), (e) => e);
	assert.ok(empty instanceof OpenAI.BadRequestError, `got ${empty?.constructor?.name}: ${empty?.message}`);
	assert.equal(empty.status, 400);
	assert.equal(empty.type, 'invalid_request_error');
	assert.equal(empty.code, 'invalid_request');

	// a model that is not a string
	await assert.rejects(openai.chat.completions.create({ model: 42, messages }),
		(e) => e instanceof OpenAI.BadRequestError && e.status === 400);

	// a body that is not JSON, sent verbatim through the client's generic post()
	const bad = await openai.post('/chat/completions', {
		body: '{"model": "chat", "messages": [',
		headers: { 'content-type': 'application/json' },
	}).then(() => assert.fail('broken JSON was accepted'), (e) => e);
	assert.ok(bad instanceof OpenAI.BadRequestError, `got ${bad?.constructor?.name}: ${bad?.message}`);
	assert.equal(bad.status, 400);
	assert.equal(bad.code, 'invalid_json');
});
