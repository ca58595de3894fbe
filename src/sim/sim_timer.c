/* sim_timer.c: timers of arbitrary duration for the simulator, built on h2o's timeouts,
 * each of which has one fixed duration. Bucket 0 waits 0 ms, bucket k waits 2^(k-1) ms; a timer
 * waits in the largest bucket that does not overshoot its due time, then in smaller ones, so
 * it fires within the loop's 1 ms resolution after relinking O(log delay) times.
 * Invariant: a timer callback never runs from sl_sim_timer_start. */
#include "sim/sim.h"

static uint64_t bucket_ms(int k)
{
	return k == 0 ? 0 : (uint64_t)1 << (k - 1);
}

void sl_sim_clock_init(struct sl_sim_clock *c, h2o_loop_t *loop)
{
	c->loop = loop;
	for (int k = 0; k < SL_SIM_CLOCK_BUCKETS; k++)
		h2o_timeout_init(loop, &c->buckets[k], bucket_ms(k));
}

static void link_for(struct sl_sim_timer *t, uint64_t now)
{
	uint64_t left = t->due_ms > now ? t->due_ms - now : 0;
	int k = SL_SIM_CLOCK_BUCKETS - 1;
	while (k > 0 && bucket_ms(k) > left)
		k--;
	h2o_timeout_link(t->clock->loop, &t->clock->buckets[k], &t->entry);
}

static void on_bucket(h2o_timeout_entry_t *entry)
{
	struct sl_sim_timer *t = H2O_STRUCT_FROM_MEMBER(struct sl_sim_timer, entry, entry);
	uint64_t now = sl_sim_clock_now(t->clock);
	if (now < t->due_ms) {
		link_for(t, now);
		return;
	}
	t->cb(t);
}

void sl_sim_timer_init(struct sl_sim_timer *t, struct sl_sim_clock *c, void (*cb)(struct sl_sim_timer *t))
{
	*t = (struct sl_sim_timer){.clock = c, .cb = cb};
	t->entry.cb = on_bucket;
}

void sl_sim_timer_start(struct sl_sim_timer *t, uint64_t due_ms)
{
	sl_sim_timer_stop(t);
	t->due_ms = due_ms;
	link_for(t, sl_sim_clock_now(t->clock));
}

void sl_sim_timer_stop(struct sl_sim_timer *t)
{
	if (t->clock && h2o_timeout_is_linked(&t->entry))
		h2o_timeout_unlink(&t->entry);
}
