/* worker.c: the background job thread (see worker.h). A mutex-protected FIFO feeds the thread;
 * finished jobs go back to the loop as h2o multithread messages. Invariant: a job is owned by
 * exactly one side at a time: the loop until submitted, the worker until run, the loop after. */
#include <pthread.h>
#include <stdbool.h>

#include "proxy/worker.h"
#include "sluice/core.h"

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sl_job *head, *tail;
	bool running, stopping;
	h2o_multithread_receiver_t receiver;
	h2o_multithread_queue_t *queue;
	long pending; /* loop thread only */
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static struct sl_job *take(void)
{
	pthread_mutex_lock(&w.lock);
	while (!w.head && !w.stopping)
		pthread_cond_wait(&w.cond, &w.lock);
	struct sl_job *job = w.head;
	if (job) {
		w.head = job->next;
		if (!w.head)
			w.tail = NULL;
	}
	pthread_mutex_unlock(&w.lock);
	return job;
}

static void *main_loop(void *arg)
{
	struct sl_job *job;
	while ((job = take()) != NULL) {
		job->run(job);
		h2o_multithread_send_message(&w.receiver, &job->msg);
	}
	return NULL;
}

static void on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	while (!h2o_linklist_is_empty(messages)) {
		struct sl_job *job = H2O_STRUCT_FROM_MEMBER(struct sl_job, msg.link, messages->next);
		h2o_linklist_unlink(&job->msg.link);
		w.pending--;
		if (job->done)
			job->done(job);
	}
}

int sl_worker_start(h2o_multithread_queue_t *queue)
{
	w.queue = queue;
	h2o_multithread_register_receiver(queue, &w.receiver, on_done);
	if (pthread_create(&w.thread, NULL, main_loop, NULL) != 0) {
		h2o_multithread_unregister_receiver(queue, &w.receiver);
		return SL_EIO;
	}
	w.running = true;
	return 0;
}

void sl_worker_submit(struct sl_job *job)
{
	job->next = NULL;
	job->msg.link = (h2o_linklist_t){NULL, NULL};
	w.pending++;
	pthread_mutex_lock(&w.lock);
	if (w.tail)
		w.tail->next = job;
	else
		w.head = job;
	w.tail = job;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

void sl_worker_stop(void)
{
	if (!w.running)
		return;
	pthread_mutex_lock(&w.lock);
	w.stopping = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	w.running = false;
}

long sl_worker_pending(void)
{
	return w.pending;
}
