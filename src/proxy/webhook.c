/* webhook.c: rollout webhooks (see webhook.h). The job copies everything it needs, so the
 * rollout may end or the configuration change while the POST is in flight. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/proxy.h"
#include "proxy/webhook.h"
#include "proxy/worker.h"

struct hook_job {
	struct sl_job job;
	char url[4096];
	struct sl_buf body;
	uint32_t timeout_ms, retries;
	int64_t id;
	enum sl_rollout_call call; /* SL_CALL_NONE for a notification */
	bool ok;
	char err[256];
};

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

bool sl_webhook_post(const char *url, const char *body, uint32_t timeout_ms, uint32_t retries, char *err,
		     size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "content-type: application/json");
	long status = 0;
	bool ok = false;
	for (uint32_t attempt = 0; c && !ok && attempt <= retries; attempt++) {
		if (attempt) {
			struct timespec ts = {0, (long)(200000000L << (attempt - 1 < 3 ? attempt - 1 : 3))};
			nanosleep(&ts, NULL);
		}
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		CURLcode rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		ok = rc == CURLE_OK && status >= 200 && status < 300;
		if (!ok)
			snprintf(err, errlen, "%s: %s", url,
				 rc != CURLE_OK ? curl_easy_strerror(rc) : status ? "answered with an error status" : "");
		if (rc == CURLE_OK && status >= 400 && status < 500)
			break; /* the receiver said no: asking again will not change its mind */
	}
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	return ok;
}

struct send_job {
	struct sl_job job;
	char url[4096];
	char *body;
	uint32_t timeout_ms, retries;
};

static void send_run(struct sl_job *job)
{
	struct send_job *j = (struct send_job *)job;
	char err[256];
	if (!sl_webhook_post(j->url, j->body, j->timeout_ms, j->retries, err, sizeof(err)))
		sl_log(SL_LOG_WARN, "webhook failed: %s", err);
}

static void send_done(struct sl_job *job)
{
	struct send_job *j = (struct send_job *)job;
	free(j->body);
	free(j);
}

void sl_webhook_send(const char *url, const char *body, uint32_t timeout_ms, uint32_t retries)
{
	struct send_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->body = strdup(body))) {
		free(j);
		return;
	}
	snprintf(j->url, sizeof(j->url), "%s", url);
	j->timeout_ms = timeout_ms;
	j->retries = retries;
	j->job.run = send_run;
	j->job.done = send_done;
	sl_worker_submit(&j->job);
}

static void run(struct sl_job *job)
{
	struct hook_job *j = (struct hook_job *)job;
	j->ok = !j->url[0] || sl_webhook_post(j->url, j->body.data, j->timeout_ms, j->retries, j->err, sizeof(j->err));
}

static void done(struct sl_job *job)
{
	struct hook_job *j = (struct hook_job *)job;
	if (!j->ok)
		sl_log(SL_LOG_WARN, "webhook failed: %s", j->err);
	if (j->call == SL_CALL_CONFIRM_START)
		sl_rollouts_webhook_answer(j->id, j->ok ? SL_WEBHOOK_START_CONFIRMED : SL_WEBHOOK_START_REFUSED);
	else if (j->call == SL_CALL_CONFIRM_STEP)
		sl_rollouts_webhook_answer(j->id, j->ok ? SL_WEBHOOK_STEP_OK : SL_WEBHOOK_STEP_FAILED);
	sl_buf_release(&j->body);
	free(j);
}

static const struct sl_cfg_webhooks *hooks_of(const char *model)
{
	const struct sl_config *cfg = sl_server.current->config;
	for (unsigned i = 0; i < cfg->models_count; i++)
		if (strcmp(cfg->models[i].name, model) == 0)
			return cfg->models[i].webhooks;
	return NULL;
}

static void submit(const char *url, const struct sl_cfg_webhooks *w, int64_t id, enum sl_rollout_call call,
		   const char *event, const char *model, const char *stable, const char *candidate, long step,
		   const char *reason)
{
	struct hook_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	snprintf(j->url, sizeof(j->url), "%s", url ? url : "");
	j->timeout_ms = w ? w->timeout_ms : 5000;
	j->retries = w ? w->retries : 2;
	j->id = id;
	j->call = call;
	j->job.run = run;
	j->job.done = done;
	sl_buf_init(&j->body, 1 << 16);
	int rc = sl_buf_printf(&j->body, "{\"event\":\"%s\",\"rollout_id\":%lld,\"model\":", event, (long long)id);
	rc = rc ? rc : sl_buf_json_str(&j->body, model, strlen(model));
	rc = rc ? rc : sl_buf_puts(&j->body, ",\"stable\":");
	rc = rc ? rc : sl_buf_json_str(&j->body, stable, strlen(stable));
	rc = rc ? rc : sl_buf_puts(&j->body, ",\"candidate\":");
	rc = rc ? rc : sl_buf_json_str(&j->body, candidate, strlen(candidate));
	rc = rc ? rc : sl_buf_printf(&j->body, ",\"step\":%ld,\"reason\":", step);
	rc = rc ? rc : sl_buf_json_str(&j->body, reason ? reason : "", reason ? strlen(reason) : 0);
	rc = rc ? rc : sl_buf_puts(&j->body, "}");
	(void)rc; /* a truncated body still goes; the limit is far above what fits here */
	sl_worker_submit(&j->job);
}

void sl_webhook_confirm(const char *model, int64_t id, enum sl_rollout_call call, unsigned step, const char *stable,
			const char *candidate)
{
	const struct sl_cfg_webhooks *w = hooks_of(model);
	const char *url = !w ? NULL : call == SL_CALL_CONFIRM_START ? w->pre_start : w->confirm_step;
	submit(url, w, id, call, call == SL_CALL_CONFIRM_START ? "confirm_start" : "confirm_step", model, stable,
	       candidate, (long)step, NULL);
}

void sl_webhook_notify(const char *model, int64_t id, enum sl_rollout_notify what, const char *stable,
		       const char *candidate, const char *reason)
{
	const struct sl_cfg_webhooks *w = hooks_of(model);
	const char *url = !w ? NULL : what == SL_NOTIFY_PROMOTED ? w->on_promote : w->on_rollback;
	if (url)
		submit(url, w, id, SL_CALL_NONE, sl_rollout_notify_name(what), model, stable, candidate, -1, reason);
}
