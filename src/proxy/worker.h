/* worker.h: one background thread for everything that may block (SQLite writes, webhooks,
 * judge computations), so the event loop never waits on disk, network or heavy statistics.
 * Jobs run in submission order; each job's `done` callback then runs on the loop thread. */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

struct sl_job {
	h2o_multithread_message_t msg; /* must stay first: links the job back to the loop */
	void (*run)(struct sl_job *job);  /* on the worker thread */
	void (*done)(struct sl_job *job); /* on the loop thread; owns the job from then (may free it) */
	struct sl_job *next;
};

/* Starts the thread; completions are delivered through queue (the loop's h2o queue). */
int sl_worker_start(h2o_multithread_queue_t *queue);
/* Queues a job (loop thread only). */
void sl_worker_submit(struct sl_job *job);
/* Runs every queued job, delivers nothing more to the loop, and joins the thread. */
void sl_worker_stop(void);
/* Jobs submitted and not yet done (loop thread). */
long sl_worker_pending(void);

#endif
