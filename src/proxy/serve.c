/* serve.c: `sluice serve -c FILE`: loads the configuration, opens the data-plane and admin
 * listeners on one h2o event loop, and handles signals: SIGHUP reloads the configuration (models
 * and routing; listeners and timeouts stay), SIGTERM/SIGINT stop accepting and drain in-flight
 * requests up to drain_timeout_ms. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/commands.h"
#include "proxy/guard_gw.h"
#include "proxy/proxy.h"
#include "proxy/drift_live.h"
#include "proxy/experiments.h"
#include "proxy/reqmap.h"
#include "proxy/rollouts.h"
#include "proxy/worker.h"

struct sl_server sl_server;

/* ---- route tables ---- */

static struct sl_routes_ref *table_ref_new(struct sl_config_ref *cref)
{
	struct sl_route_override ov[256];
	size_t nov = sl_rollouts_overrides(ov, 256);
	struct sl_routes_ref *ref = calloc(1, sizeof(*ref));
	if (!ref)
		return NULL;
	ref->table = sl_route_table_build(cref->cfg, ov, nov, ++sl_server.generation);
	if (!ref->table) {
		free(ref);
		return NULL;
	}
	ref->cref = cref;
	ref->config = cref->cfg;
	cref->refs++;
	return ref;
}

static void table_ref_free(struct sl_routes_ref *ref)
{
	sl_route_table_free(ref->table);
	if (--ref->cref->refs == 0) {
		sl_guard_rt_free(ref->cref->guard);
		sl_config_free(ref->cref->cfg);
		free(ref->cref);
	}
	free(ref);
}

struct sl_routes_ref *sl_routes_hold(void)
{
	sl_server.current->holders++;
	return sl_server.current;
}

void sl_routes_release(struct sl_routes_ref *ref)
{
	if (--ref->holders == 0 && ref != sl_server.current)
		table_ref_free(ref);
}

static void publish(struct sl_routes_ref *ref)
{
	struct sl_routes_ref *old = sl_server.current;
	sl_server.current = ref;
	if (old && old->holders == 0)
		table_ref_free(old);
}

/* A loaded configuration with its guard runtime (rules compiled, models loaded). On failure
 * err says why and the caller still owns cfg. */
static struct sl_config_ref *config_ref_new(struct sl_config *cfg, char *err, size_t errlen)
{
	struct sl_config_ref *cref = calloc(1, sizeof(*cref));
	if (!cref) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cref->cfg = cfg;
	if (sl_guard_rt_new(cfg, &cref->guard, err, errlen) != 0) {
		free(cref);
		return NULL;
	}
	return cref;
}

void sl_server_republish(void)
{
	if (!sl_server.current)
		return; /* still starting: the first table picks up the overrides */
	struct sl_routes_ref *ref = table_ref_new(sl_server.current->cref);
	if (ref)
		publish(ref);
	else
		sl_log(SL_LOG_ERROR, "cannot rebuild the route table: out of memory");
}

static void reload(void)
{
	char err[1024];
	struct sl_config *cfg;
	if (sl_config_load(sl_server.config_path, &cfg, err, sizeof(err)) != 0) {
		sl_log(SL_LOG_ERROR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	struct sl_config_ref *cref = config_ref_new(cfg, err, sizeof(err));
	struct sl_routes_ref *ref = cref ? table_ref_new(cref) : NULL;
	if (!ref) {
		if (cref)
			sl_guard_rt_free(cref->guard);
		sl_config_free(cfg);
		free(cref);
		sl_log(SL_LOG_ERROR, "reload failed, keeping the running configuration: %s", cref ? "out of memory" : err);
		return;
	}
	publish(ref);
	sl_experiments_reload(cfg);
	sl_log(SL_LOG_INFO, "configuration reloaded from '%s' (generation %lu)", sl_server.config_path,
	       ref->table->generation);
}

/* ---- telemetry ---- */

void sl_server_record(const struct sl_event *ev)
{
	/* a rating, an event or a slate is not a model request */
	if (strcmp(ev->endpoint, "feedback") != 0 && strcmp(ev->endpoint, "events") != 0 &&
	    strcmp(ev->endpoint, "recs") != 0) {
		sl_metrics_observe(sl_server.metrics, ev);
		sl_rollouts_observe(ev, false);
		if (ev->version)
			sl_reqmap_put(ev->request_id, ev->model, ev->version);
	}
	if (!sl_server.access_log)
		return;
	char stack[2048];
	struct sl_buf line = {stack, 0, sizeof(stack), sizeof(stack) - 1};
	if (sl_event_to_json(ev, &line) == 0) {
		fwrite(line.data, 1, line.len, sl_server.access_log);
		return;
	}
	sl_buf_init(&line, 64u << 20);
	if (sl_event_to_json(ev, &line) == 0)
		fwrite(line.data, 1, line.len, sl_server.access_log);
	sl_buf_release(&line);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
	sl_rollouts_tick();
	h2o_timeout_link(sl_server.loop, &sl_server.tick_timeout, &sl_server.tick_entry);
}

static void on_flush(h2o_timeout_entry_t *entry)
{
	if (sl_server.access_log)
		fflush(sl_server.access_log);
	h2o_timeout_link(sl_server.loop, &sl_server.flush_timeout, &sl_server.flush_entry);
}

static int open_access_log(const char *spec)
{
	if (strcmp(spec, "off") == 0)
		return 0;
	if (strcmp(spec, "-") == 0) {
		sl_server.access_log = stdout;
		return 0;
	}
	sl_server.access_log = fopen(spec, "a");
	if (!sl_server.access_log) {
		sl_log(SL_LOG_ERROR, "cannot open access log '%s': %s", spec, strerror(errno));
		return SL_EIO;
	}
	static char buf[1 << 16]; /* glibc ignores the size unless it is given the buffer */
	setvbuf(sl_server.access_log, buf, _IOFBF, sizeof(buf));
	return 0;
}

/* ---- listeners ---- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
	if (err)
		return;
	for (int i = 0; i < 64; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (!sock)
			return;
		h2o_accept(listener->data, sock);
	}
}

static h2o_socket_t *listen_on(const char *addr, h2o_accept_ctx_t *accept_ctx)
{
	char host[256], port[8];
	uint16_t p;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	if (sl_parse_hostport(addr, host, sizeof(host), &p))
		return NULL;
	snprintf(port, sizeof(port), "%u", p);
	size_t n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		sl_log(SL_LOG_ERROR, "cannot resolve '%s': %s", addr, gai_strerror(gai));
		return NULL;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		sl_log(SL_LOG_ERROR, "cannot listen on '%s': %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return NULL;
	}
	freeaddrinfo(res);
	h2o_socket_t *sock = h2o_evloop_socket_create(sl_server.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	sock->data = accept_ctx;
	h2o_socket_read_start(sock, on_accept);
	return sock;
}

/* ---- signals ---- */

static void on_signal(h2o_socket_t *sock, const char *err)
{
	struct signalfd_siginfo si;
	h2o_buffer_t *in = sock->input;
	while (in->size >= sizeof(si)) {
		memcpy(&si, in->bytes, sizeof(si));
		h2o_buffer_consume(&sock->input, sizeof(si));
		in = sock->input;
		if (si.ssi_signo == SIGHUP) {
			reload();
		} else if (!sl_server.draining) {
			sl_log(SL_LOG_INFO, "draining %ld in-flight request(s), up to %u ms",
			       sl_server.inflight, sl_server.current->config->drain_timeout_ms);
			sl_server.draining = 1;
			sl_server.drain_deadline_ns =
				sl_now_ns() + (uint64_t)sl_server.current->config->drain_timeout_ms * 1000000u;
			h2o_socket_read_stop(sl_server.data_listener);
			h2o_socket_close(sl_server.data_listener);
			sl_server.data_listener = NULL;
		} else {
			sl_server.stop = 1; /* a second signal: stop now */
		}
	}
}

static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* Blocked in every thread (so first, before any thread starts) and read from a signalfd. */
static int block_signals(void)
{
	sigset_t set;
	handled_signals(&set);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : SL_EIO;
}

static int watch_signals(void)
{
	sigset_t set;
	handled_signals(&set);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return SL_EIO;
	sl_server.signals = h2o_evloop_socket_create(sl_server.loop, fd, 0);
	h2o_socket_read_start(sl_server.signals, on_signal);
	return 0;
}

/* ---- setup ---- */

static h2o_hostconf_t *init_conf(h2o_globalconf_t *conf, size_t max_entity)
{
	h2o_config_init(conf);
	conf->server_name = h2o_iovec_init(H2O_STRLIT("sluice"));
	conf->max_request_entity_size = max_entity;
	return h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
}

static int setup(const struct sl_config *cfg)
{
	struct sl_server *s = &sl_server;
	s->loop = h2o_evloop_create();
	/* bodies up to twice the limit reach the handler, which answers 413 in OpenAI's shape */
	h2o_hostconf_t *data_host = init_conf(&s->data_conf, (size_t)cfg->max_body_bytes * 2 + 65536);
	h2o_hostconf_t *admin_host = init_conf(&s->admin_conf, 1 << 20);
	if (sl_proxy_register(data_host) || sl_admin_register(admin_host))
		return SL_ENOMEM;
	h2o_context_init(&s->data_ctx, s->loop, &s->data_conf);
	h2o_context_init(&s->admin_ctx, s->loop, &s->admin_conf);
	s->data_accept = (h2o_accept_ctx_t){.ctx = &s->data_ctx, .hosts = s->data_conf.hosts};
	s->admin_accept = (h2o_accept_ctx_t){.ctx = &s->admin_ctx, .hosts = s->admin_conf.hosts};
	h2o_timeout_init(s->loop, &s->io_timeout, cfg->upstream_timeout_ms);
	h2o_timeout_init(s->loop, &s->connect_timeout, cfg->connect_timeout_ms);
	h2o_timeout_init(s->loop, &s->flush_timeout, 1000);
	h2o_timeout_init(s->loop, &s->tick_timeout, 250);
	s->tick_entry.cb = on_tick;
	h2o_timeout_link(s->loop, &s->tick_timeout, &s->tick_entry);
	if (sl_worker_start(s->data_ctx.queue) != 0)
		return SL_EIO;
	s->client_ctx = (h2o_http1client_ctx_t){.loop = s->loop,
						 .getaddr_receiver = &s->data_ctx.receivers.hostinfo_getaddr,
						 .io_timeout = &s->io_timeout};
	s->flush_entry.cb = on_flush;
	h2o_timeout_link(s->loop, &s->flush_timeout, &s->flush_entry);
	s->data_listener = listen_on(cfg->listen, &s->data_accept);
	s->admin_listener = listen_on(cfg->admin_listen, &s->admin_accept);
	if (!s->data_listener || !s->admin_listener)
		return SL_EIO;
	return watch_signals();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice serve -c FILE [--check]\n\n"
		   "  -c, --config FILE   YAML configuration (see examples/two-versions.yaml)\n"
		   "      --check         validate the configuration and exit (0 valid, 2 invalid)\n"
		   "  -v, --verbose       log debug messages\n"
		   "\nsignals: SIGHUP reloads the configuration, SIGTERM drains and exits.\n");
}

static int parse_args(int argc, char **argv, const char **path, int *check)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check", no_argument, NULL, 'k'},
					     {"verbose", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *path = optarg; break;
		case 'k': *check = 1; break;
		case 'v': sl_log_level = SL_LOG_DEBUG; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!*path || optind != argc) {
		fprintf(stderr, "sluice serve: %s\n", *path ? "unexpected argument" : "missing -c FILE");
		usage(stderr);
		return 2;
	}
	return -1;
}

static void run_loop(void)
{
	while (!sl_server.stop) {
		h2o_evloop_run(sl_server.loop, 100);
		if (sl_server.draining && (sl_server.inflight == 0 || sl_now_ns() > sl_server.drain_deadline_ns))
			break;
	}
	if (sl_server.inflight > 0)
		sl_log(SL_LOG_WARN, "drain timeout: %ld request(s) still in flight are cut", sl_server.inflight);
}

int sl_cmd_serve(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0, rc = parse_args(argc, argv, &path, &check);
	char err[1024];
	struct sl_config *cfg;
	if (rc >= 0)
		return rc;
	if (sl_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		return 2;
	}
	if (check) {
		struct sl_config_ref *cref = config_ref_new(cfg, err, sizeof(err));
		if (cref) {
			printf("%s: ok (%u model(s))\n", path, cfg->models_count);
			sl_guard_rt_free(cref->guard);
			free(cref);
		} else {
			fprintf(stderr, "sluice: %s\n", err);
		}
		sl_config_free(cfg);
		return cref ? 0 : 2;
	}
	if (block_signals() != 0) {
		fprintf(stderr, "sluice: cannot block signals\n");
		return 1;
	}
	sl_server.config_path = path;
	sl_server.admin_token = cfg->admin_token_env ? getenv(cfg->admin_token_env) : NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: webhooks run on the worker */
	sl_rng_seed(&sl_server.rng, sl_now_ns() ^ (uint64_t)getpid() << 32);
	sl_server.metrics = sl_metrics_new();
	sl_server.tok = json_tokener_new();
	if (sl_reqmap_init() != 0) {
		fprintf(stderr, "sluice: out of memory\n");
		return 1;
	}
	sl_drift_live_init(cfg);
	if (sl_rollouts_init(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		sl_config_free(cfg);
		return 1;
	}
	if (sl_experiments_init(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice: %s\n", err);
		sl_config_free(cfg);
		return 1;
	}
	struct sl_config_ref *cref = config_ref_new(cfg, err, sizeof(err));
	if (!cref) {
		fprintf(stderr, "sluice: %s\n", err);
		return 2;
	}
	sl_server.current = table_ref_new(cref);
	if (!sl_server.metrics || !sl_server.tok || !sl_server.current) {
		fprintf(stderr, "sluice: out of memory\n");
		return 1;
	}
	if (open_access_log(cfg->access_log) || setup(cfg))
		return 1;
	sl_log(SL_LOG_INFO, "listening on %s (data plane) and %s (admin)", cfg->listen, cfg->admin_listen);
	run_loop();
	sl_worker_stop();
	sl_drift_live_shutdown();
	sl_experiments_shutdown();
	sl_rollouts_shutdown();
	if (sl_server.access_log)
		fflush(sl_server.access_log);
	sl_log(SL_LOG_INFO, "stopped");
	return 0;
}
