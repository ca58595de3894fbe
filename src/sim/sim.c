/* sim.c: `sluice sim`, a simulated OpenAI-compatible model server for demos, integration tests
 * and benchmarks: options, the listening socket and the h2o event loop.
 * Invariants: every option is bounded and checked before anything starts (exit 2 otherwise);
 * the server runs on one thread until SIGTERM or SIGINT, then exits 0. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/commands.h"
#include "sim/sim.h"

enum opt_kind { OPT_STR, OPT_U64, OPT_DBL, OPT_FLAG };

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t off;
	double min, max; /* OPT_DBL and OPT_U64 (max 0: any u64); OPT_STR: length bounds */
	const char *arg, *help;
};

#define OFF(f) offsetof(struct sl_sim_config, f)
static const struct opt opts[] = {
    {"listen", OPT_STR, OFF(listen), 1, 300, "HOST:PORT", "address to listen on (required; port 0 picks one)"},
    {"model-id", OPT_STR, OFF(model_id), 1, SL_SIM_MODEL_MAX, "ID", "model listed by /v1/models (default sim)"},
    {"seed", OPT_U64, OFF(seed), 0, 0, "N", "random seed (default 1)"},
    {"latency-ms", OPT_DBL, OFF(latency_ms), 0, SL_SIM_MAX_MS, "MS", "median latency of non-streamed replies (20)"},
    {"latency-sigma", OPT_DBL, OFF(latency_sigma), 0, 5, "S", "lognormal sigma of that latency (0.3)"},
    {"ttft-ms", OPT_DBL, OFF(ttft_ms), 0, SL_SIM_MAX_MS, "MS", "median time to first token of streams (50)"},
    {"ttft-sigma", OPT_DBL, OFF(ttft_sigma), 0, 5, "S", "lognormal sigma of that time (0.3)"},
    {"tokens-per-second", OPT_DBL, OFF(tokens_per_second), 0, 1e6, "N", "stream pace, 0 = unpaced (200)"},
    {"error-rate", OPT_DBL, OFF(error_rate), 0, 1, "P", "share of requests answered 500 (0)"},
    {"bad-answer-rate", OPT_DBL, OFF(bad_answer_rate), 0, 1, "P", "share of answers that are bad (0)"},
    {"max-tokens", OPT_U64, OFF(max_tokens), 1, SL_SIM_MAX_TOKENS, "N", "completion length without max_tokens (32)"},
    {"quiet", OPT_FLAG, OFF(quiet), 0, 0, NULL, "print only the listening line and errors"},
    {"recs", OPT_FLAG, OFF(recs), 0, 0, NULL, "answer chat completions with a JSON slate of recommendations"},
    {"repeat", OPT_FLAG, OFF(repeat), 0, 0, NULL, "with --recs: show each user the same slate every time"},
    {"catalog", OPT_U64, OFF(catalog), 10, 10000000, "N", "with --recs: items in the catalog (1000)"},
    {"slate", OPT_U64, OFF(slate), 1, 64, "N", "with --recs: items per slate (10)"},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice sim --listen HOST:PORT [OPTIONS]\n\n"
	           "A simulated OpenAI-compatible model server: POST /v1/chat/completions, /v1/completions,\n"
	           "/v1/embeddings, GET /v1/models; GET /sim/stats and POST /sim/reset for tests.\n"
	           "Header x-sim-fault: error-500 | die-mid-stream | hang | slow-first-byte | close.\n\n"
	           "options:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char name[48];
		snprintf(name, sizeof(name), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
		         opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-26s %s\n", name, opts[i].help);
	}
}

static int bad_value(const struct opt *o, const char *v)
{
	if (o->kind == OPT_STR)
		fprintf(stderr, "sluice sim: --%s: '%s' must be %g to %g bytes long\n", o->name, v, o->min, o->max);
	else if (o->kind == OPT_U64 && o->max == 0)
		fprintf(stderr, "sluice sim: --%s: '%s' is not an unsigned integer\n", o->name, v);
	else
		fprintf(stderr, "sluice sim: --%s: '%s' is not %s from %g to %g\n", o->name, v,
		        o->kind == OPT_U64 ? "an integer" : "a number", o->min, o->max);
	return SL_EINVAL;
}

static int set_opt(struct sl_sim_config *cfg, const struct opt *o, const char *v)
{
	char *field = (char *)cfg + o->off;
	double d;
	uint64_t u;
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_STR:
		if (strlen(v) < o->min || strlen(v) > o->max)
			return bad_value(o, v);
		*(const char **)field = v;
		return 0;
	case OPT_U64:
		if (sl_parse_u64(v, o->max == 0 ? UINT64_MAX : (uint64_t)o->max, &u) || u < o->min)
			return bad_value(o, v);
		*(uint64_t *)field = u;
		return 0;
	case OPT_DBL:
		if (sl_parse_double(v, &d) || d < o->min || d > o->max)
			return bad_value(o, v);
		*(double *)field = d;
		return 0;
	}
	return SL_EINVAL;
}

static const struct opt *find_opt(const char *name, size_t n)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strlen(opts[i].name) == n && memcmp(opts[i].name, name, n) == 0)
			return &opts[i];
	return NULL;
}

/* One argument (and its value, taking argv[*i + 1] when not given as --name=value). */
static int parse_arg(struct sl_sim_config *cfg, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);
	const struct opt *o = strncmp(a, "--", 2) == 0 ? find_opt(a + 2, n - 2) : NULL;
	if (!o) {
		fprintf(stderr, "sluice sim: unknown option '%s' (see sluice sim --help)\n", a);
		return SL_EINVAL;
	}
	if (o->kind == OPT_FLAG) {
		if (eq)
			fprintf(stderr, "sluice sim: --%s takes no value\n", o->name);
		return eq ? SL_EINVAL : set_opt(cfg, o, NULL);
	}
	const char *v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
	if (!v) {
		fprintf(stderr, "sluice sim: --%s needs a value\n", o->name);
		return SL_EINVAL;
	}
	return set_opt(cfg, o, v);
}

int sl_sim_config_parse(struct sl_sim_config *cfg, int argc, char **argv)
{
	*cfg = (struct sl_sim_config){.model_id = "sim",
	                              .seed = 1,
	                              .latency_ms = 20,
	                              .latency_sigma = 0.3,
	                              .ttft_ms = 50,
	                              .ttft_sigma = 0.3,
	                              .tokens_per_second = 200,
	                              .max_tokens = 32,
	                              .catalog = 1000,
	                              .slate = 10};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (parse_arg(cfg, argc, argv, &i))
			return SL_EINVAL;
	}
	if (!cfg->listen) {
		fprintf(stderr, "sluice sim: --listen HOST:PORT is required\n");
		return SL_EINVAL;
	}
	if (cfg->repeat && !cfg->recs) {
		fprintf(stderr, "sluice sim: --repeat needs --recs\n");
		return SL_EINVAL;
	}
	return 0;
}

/* "host:port", "[v6]:port"; port 0 lets the kernel choose. */
static int split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(s, ':');
	uint64_t p;
	if (!colon || (size_t)(colon - s) >= hcap || strlen(colon + 1) >= pcap || sl_parse_u64(colon + 1, 65535, &p))
		return SL_EINVAL;
	size_t n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0)
		return SL_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int bind_one(const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
		return fd;
	int e = errno;
	close(fd);
	return -e;
}

static void print_listen_error(const char *addr, const char *why)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "%s", why);
	msg[0] = (char)tolower((unsigned char)msg[0]); /* house style: messages in lower case */
	fprintf(stderr, "sluice sim: cannot listen on '%s': %s\n", addr, msg);
}

/* Returns a listening socket, or -1 after printing why. */
static int open_listener(const char *addr, const char *host, const char *port)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		print_listen_error(addr, gai_strerror(rc));
		return -1;
	}
	int fd = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = bind_one(ai);
	freeaddrinfo(res);
	if (fd < 0)
		print_listen_error(addr, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	struct sl_sim *sim = listener->data;
	int one = 1;
	for (int i = 0; !err && i < 64; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (!sock)
			return;
		setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		h2o_accept(&sim->accept_ctx, sock);
	}
}

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	char c = (char)sig;
	ssize_t n = write(signal_pipe[1], &c, 1);
	(void)n;
}

static void on_signal_read(h2o_socket_t *sock, const char *err)
{
	struct sl_sim *sim = sock->data;
	h2o_buffer_consume(&sock->input, sock->input->size);
	sim->stop = true;
}

static int watch_signals(struct sl_sim *sim)
{
	if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return SL_EIO;
	sim->signals = h2o_evloop_socket_create(sim->ctx.loop, signal_pipe[0], 0);
	sim->signals->data = sim;
	h2o_socket_read_start(sim->signals, on_signal_read);
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

static int start(struct sl_sim *sim, int fd)
{
	sl_rng_seed(&sim->rng, sim->cfg.seed);
	if (sl_sim_http_init(sim))
		return SL_ENOMEM;
	h2o_context_init(&sim->ctx, h2o_evloop_create(), &sim->globalconf);
	sl_sim_clock_init(&sim->clock, sim->ctx.loop);
	sim->accept_ctx.ctx = &sim->ctx;
	sim->accept_ctx.hosts = sim->globalconf.hosts;
	sim->listener = h2o_evloop_socket_create(sim->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	sim->listener->data = sim;
	h2o_socket_read_start(sim->listener, on_accept);
	return watch_signals(sim);
}

int sl_cmd_sim(int argc, char **argv)
{
	static struct sl_sim sim; /* large, and reachable until exit */
	char host[256], port[8];
	int rc = sl_sim_config_parse(&sim.cfg, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (split_listen(sim.cfg.listen, host, sizeof(host), port, sizeof(port))) {
		fprintf(stderr, "sluice sim: --listen: '%s' is not HOST:PORT\n", sim.cfg.listen);
		return 2;
	}
	sl_log_level = sim.cfg.quiet ? SL_LOG_ERROR : SL_LOG_INFO;
	int fd = open_listener(sim.cfg.listen, host, port);
	if (fd < 0)
		return 1;
	if (start(&sim, fd)) {
		fprintf(stderr, "sluice sim: cannot start: %s\n", sl_strerror(SL_ENOMEM));
		return 1;
	}
	fprintf(stderr, strchr(host, ':') ? "sluice sim: listening on [%s]:%u\n" : "sluice sim: listening on %s:%u\n",
	        host, bound_port(fd));
	while (!sim.stop)
		h2o_evloop_run(sim.ctx.loop, INT32_MAX);
	if (!sim.cfg.quiet)
		fprintf(stderr, "sluice sim: stopped after %llu requests\n", (unsigned long long)sim.stats.requests);
	return 0;
}
