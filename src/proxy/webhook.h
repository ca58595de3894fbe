/* webhook.h: rollout webhooks as JSON POSTs on the worker thread, with a timeout and retries.
 * Confirmations are answered back to the rollout through sl_rollouts_webhook_answer on the loop;
 * notifications are fire and forget. A confirmation whose URL is not configured is confirmed. */
#ifndef SLUICE_WEBHOOK_H
#define SLUICE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/rollout.h"

void sl_webhook_confirm(const char *model, int64_t id, enum sl_rollout_call call, unsigned step, const char *stable,
			const char *candidate);
void sl_webhook_notify(const char *model, int64_t id, enum sl_rollout_notify what, const char *stable,
		       const char *candidate, const char *reason);
/* Blocking POST of a JSON body; true for a 2xx answer within timeout and retries. */
bool sl_webhook_post(const char *url, const char *body, uint32_t timeout_ms, uint32_t retries, char *err,
		     size_t errlen);
/* Fire and forget: POSTs body (copied) to url on the worker thread; failures are logged. */
void sl_webhook_send(const char *url, const char *body, uint32_t timeout_ms, uint32_t retries);
/* rollouts.c */
void sl_rollouts_webhook_answer(int64_t id, enum sl_webhook_result result);

#endif
