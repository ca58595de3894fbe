/* upstream.c: one keep-alive connection pool per upstream host:port. Numeric addresses skip
 * name resolution; names are resolved by h2o's resolver thread when a connection is opened. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"

#define POOL_CAPACITY 4096
#define POOL_IDLE_MS 30000

static int init_numeric(h2o_socketpool_t *pool, const struct sl_url *url)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(url->port)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(url->port)};
	char host[256];
	size_t n = strlen(url->host);
	if (inet_pton(AF_INET, url->host, &sin.sin_addr) == 1) {
		h2o_socketpool_init_by_address(pool, (struct sockaddr *)&sin, sizeof(sin), 0, POOL_CAPACITY);
		return 1;
	}
	if (n > 2 && url->host[0] == '[' && url->host[n - 1] == ']' && n - 2 < sizeof(host)) {
		memcpy(host, url->host + 1, n - 2);
		host[n - 2] = '\0';
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
			h2o_socketpool_init_by_address(pool, (struct sockaddr *)&sin6, sizeof(sin6), 0, POOL_CAPACITY);
			return 1;
		}
	}
	return 0;
}

h2o_socketpool_t *sl_upstream_pool_get(struct sl_server *s, const struct sl_url *url)
{
	char key[300];
	snprintf(key, sizeof(key), "%s:%u", url->host, url->port);
	for (struct sl_upstream_pool *p = s->pools; p; p = p->next)
		if (strcmp(p->key, key) == 0)
			return &p->pool;
	struct sl_upstream_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	memcpy(p->key, key, sizeof(key));
	if (!init_numeric(&p->pool, url))
		h2o_socketpool_init_by_hostport(&p->pool, h2o_iovec_init(url->host, strlen(url->host)), url->port, 0,
						POOL_CAPACITY);
	h2o_socketpool_set_timeout(&p->pool, s->client_ctx.loop, POOL_IDLE_MS);
	p->next = s->pools;
	s->pools = p;
	return &p->pool;
}

void sl_upstream_pools_free(struct sl_server *s)
{
	while (s->pools) {
		struct sl_upstream_pool *p = s->pools;
		s->pools = p->next;
		h2o_socketpool_dispose(&p->pool);
		free(p);
	}
}
