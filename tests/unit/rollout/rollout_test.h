/* rollout_test.h: helpers shared by the rollout unit tests: a leak check that runs under
 * AddressSanitizer (and is a no-op without it), and an advance that must be accepted. */
#ifndef SLUICE_TEST_ROLLOUT_H
#define SLUICE_TEST_ROLLOUT_H

#include <criterion/criterion.h>

#include "sluice/rollout.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked: see LeakSanitizer above")
#else
#define LEAK_CHECK() ((void)0)
#endif

/* Applies in to r, which must accept it; returns the decision. */
static inline struct sl_rollout_decision advance_ok(struct sl_rollout *r, struct sl_rollout_input in)
{
	struct sl_rollout_decision d;
	int rc = sl_rollout_advance(r, &in, &d);
	cr_assert_eq(rc, 0, "advance refused: %s", d.reason);
	return d;
}

#endif
