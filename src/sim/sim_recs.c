/* sim_recs.c: `sluice sim --recs`, a simulated recommender behind the chat completions API:
 * the answer's message content is a JSON slate (recs_model.h) for the request's user. The
 * exploring recommender draws each slate afresh; with --repeat a user gets the same slate
 * every time (the bad version of the demo).
 * Invariants: a slate has cfg.slate distinct items of a catalog of cfg.catalog; the answer is
 * built in scratch like every other body and copied to the request pool. */
#include <string.h>
#include <time.h>

#include "sim/recs_model.h"
#include "sim/sim.h"

#define USER_MAX 256

static int slate_body(struct sl_sim *sim, const struct sl_sim_plan *plan, const char *user, size_t ulen,
                      struct sl_buf *content)
{
	struct sl_sim_recs_item items[SL_SIM_RECS_MAX_SLATE];
	size_t n = (size_t)sim->cfg.slate;
	sl_sim_recs_slate(sim->cfg.catalog, user, ulen, sim->cfg.repeat, sim->cfg.seed, &sim->rng, items, n);
	int rc = sl_sim_recs_json(content, items, n);
	if (rc)
		return rc;
	char id[33];
	sl_request_id(&sim->rng, id);
	struct sl_sim_answer a = {plan, id, (uint64_t)time(NULL), 0, false};
	sl_buf_reset(&sim->scratch);
	return sl_sim_body_content(&sim->scratch, &a, content->data, content->len);
}

void sl_sim_recs_answer(struct sl_sim *sim, h2o_req_t *req, const struct sl_sim_plan *plan, const char *user,
                        size_t ulen, uint64_t delay_ms)
{
	if (!user || ulen == 0 || ulen > USER_MAX || memchr(user, '\0', ulen))
		user = "anonymous", ulen = strlen(user);
	struct sl_buf content;
	sl_buf_init(&content, 64 * 1024);
	int rc = slate_body(sim, plan, user, ulen, &content);
	sl_buf_release(&content);
	if (rc) {
		struct sl_sim_error err = {500, "the simulated slate is too large", NULL, "server_error"};
		sl_sim_reply_error(sim, req, &err, 0, true);
		return;
	}
	sl_sim_add_header(req, H2O_STRLIT("x-sim-answer"), H2O_STRLIT("good"));
	sl_sim_reply(sim, req, 200, sl_sim_pool_copy(req, &sim->scratch), delay_ms, false, true);
}
