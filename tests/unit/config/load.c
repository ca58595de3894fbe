/* load.c: sl_config_load on YAML files written into a fresh temporary directory per test: a full
 * config, defaults, the shipped example, and every kind of invalid file. An invalid file must give
 * SL_ECONFIG and "FILE:LINE: field 'PATH': reason" with the line of the field itself. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/config.h"
#include "sluice/core.h"

/* Under ASan, a leak fails the test where it happens (Criterion ignores LeakSanitizer's exit report). */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked: see LeakSanitizer above")
#else
#define LEAK_CHECK() ((void)0)
#endif

#define EXAMPLE   SLUICE_TEST_DATA "/../../examples/two-versions.yaml"
#define MAX_FILES 64

static char dir[64];
static char *files[MAX_FILES];
static int nfiles;

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-cfgtest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	setenv("SLUICE_TEST_KEY", "sk-test", 1); /* keeps the unset-variable warning out of the output */
}

static void remove_dir(void)
{
	for (int i = 0; i < nfiles; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	nfiles = 0;
	rmdir(dir);
}

/* Writes text to DIR/name and returns the path (valid until the test ends). */
static const char *write_file(const char *name, const char *text)
{
	char path[256];
	cr_assert_lt(nfiles, MAX_FILES);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	files[nfiles] = strdup(path);
	return files[nfiles++];
}

static void free_checked(struct sl_config *c)
{
	sl_config_free(c);
	LEAK_CHECK();
}

static struct sl_config *load_ok(const char *path)
{
	char err[1024] = "";
	struct sl_config *c = NULL;
	int rc = sl_config_load(path, &c, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s failed: %s", path, err);
	cr_assert_not_null(c);
	return c;
}

/* Loads text and expects "FILE:LINE: field 'PATH': ...REASON..." (no field part when path is NULL). */
static void expect_fail(const char *text, int line, const char *path, const char *reason)
{
	const char *file = write_file("sluice.yaml", text);
	char err[1024] = "", want[512];
	struct sl_config *c = (struct sl_config *)1;
	int rc = sl_config_load(file, &c, err, sizeof(err));
	cr_assert_eq(rc, SL_ECONFIG, "want SL_ECONFIG, got %d (%s)", rc, err);
	cr_expect_null(c, "out is set on failure");
	if (path)
		snprintf(want, sizeof(want), "%s:%d: field '%s': ", file, line, path);
	else
		snprintf(want, sizeof(want), "%s:%d: ", file, line);
	cr_expect(strncmp(err, want, strlen(want)) == 0, "want prefix \"%s\"\n   got \"%s\"", want, err);
	cr_expect_not_null(strstr(err, reason), "want \"%s\" in \"%s\"", reason, err);
	cr_expect_null(strchr(err, '\n'), "one line: \"%s\"", err);
	LEAK_CHECK();
}

/* A valid models section, 9 lines; cases below append to it or vary it. */
#define MODELS                                                                                                         \
	"models:\n"                                                                                                    \
	"  - name: chat\n"                                                                                             \
	"    versions:\n"                                                                                              \
	"      - name: v1\n"                                                                                           \
	"        upstreams: [http://127.0.0.1:8101]\n"                                                                 \
	"        weight: 90\n"                                                                                         \
	"      - name: v2\n"                                                                                           \
	"        upstreams: [http://127.0.0.1:8102]\n"                                                                 \
	"        weight: 10\n"

/* The same with version v2's three lines (7 to 9) supplied by the caller. */
#define MODELS_V2(v2)                                                                                                  \
	"models:\n"                                                                                                    \
	"  - name: chat\n"                                                                                             \
	"    versions:\n"                                                                                              \
	"      - name: v1\n"                                                                                           \
	"        upstreams: [http://127.0.0.1:8101]\n"                                                                 \
	"        weight: 90\n" v2

TestSuite(config_ok, .init = make_dir, .fini = remove_dir);
TestSuite(config_bad, .init = make_dir, .fini = remove_dir);

Test(config_ok, every_field)
{
	const char *file =
	    write_file("full.yaml", "# every field set, none left to its default\n"
	                            "listen: 0.0.0.0:18080\n"
	                            "admin_listen: 127.0.0.1:19090\n"
	                            "max_body_bytes: 1048576\n"
	                            "sticky_field: session_id\n"
	                            "sticky_header: x-session\n"
	                            "connect_timeout_ms: 1500\n"
	                            "upstream_timeout_ms: 60000\n"
	                            "drain_timeout_ms: 2500\n"
	                            "access_log: /var/log/sluice/access.log\n"
	                            "log_bodies: true\n"
	                            "models:\n"
	                            "  - name: chat\n"
	                            "    hash_seed: chat-2024\n"
	                            "    versions:\n"
	                            "      - name: stable\n"
	                            "        upstreams: [http://10.0.0.1:8000, \"http://10.0.0.2:8000/v1/\"]\n"
	                            "        upstream_model: llama-3-8b\n"
	                            "        weight: 95.5\n"
	                            "        api_key_env: SLUICE_TEST_KEY\n"
	                            "      - name: canary\n"
	                            "        upstreams:\n"
	                            "          - http://localhost:8001\n"
	                            "        weight: 4.5\n"
	                            "  - name: embed\n"
	                            "    versions:\n"
	                            "      - {name: e1, upstreams: [http://127.0.0.1:9000], weight: 1}\n");
	struct sl_config *c = load_ok(file);
	cr_expect_str_eq(c->listen, "0.0.0.0:18080");
	cr_expect_str_eq(c->admin_listen, "127.0.0.1:19090");
	cr_expect_eq(c->max_body_bytes, 1048576);
	cr_expect_str_eq(c->sticky_field, "session_id");
	cr_expect_str_eq(c->sticky_header, "x-session");
	cr_expect_eq(c->connect_timeout_ms, 1500);
	cr_expect_eq(c->upstream_timeout_ms, 60000);
	cr_expect_eq(c->drain_timeout_ms, 2500);
	cr_expect_str_eq(c->access_log, "/var/log/sluice/access.log");
	cr_expect(c->log_bodies);
	cr_expect_str_eq(c->path_, file);
	cr_assert_eq(c->models_count, 2);
	const struct sl_cfg_model *m = &c->models[0];
	cr_expect_str_eq(m->name, "chat");
	cr_expect_str_eq(m->hash_seed, "chat-2024");
	cr_assert_eq(m->versions_count, 2);
	const struct sl_cfg_version *v = &m->versions[0];
	cr_expect_str_eq(v->name, "stable");
	cr_assert_eq(v->upstreams_count, 2);
	cr_expect_str_eq(v->upstreams[0], "http://10.0.0.1:8000");
	cr_expect_str_eq(v->upstreams[1], "http://10.0.0.2:8000/v1/");
	cr_expect_str_eq(v->upstream_model, "llama-3-8b");
	cr_expect_eq(v->weight, 95.5);
	cr_expect_str_eq(v->api_key_env, "SLUICE_TEST_KEY");
	v = &m->versions[1];
	cr_expect_str_eq(v->name, "canary");
	cr_assert_eq(v->upstreams_count, 1);
	cr_expect_str_eq(v->upstreams[0], "http://localhost:8001");
	cr_expect_null(v->upstream_model);
	cr_expect_null(v->api_key_env);
	cr_expect_eq(v->weight, 4.5);
	m = &c->models[1];
	cr_expect_str_eq(m->name, "embed");
	cr_expect_null(m->hash_seed);
	cr_assert_eq(m->versions_count, 1);
	cr_expect_str_eq(m->versions[0].name, "e1");
	free_checked(c);
}

Test(config_ok, defaults)
{
	struct sl_config *c = load_ok(write_file("min.yaml", MODELS));
	cr_expect_str_eq(c->listen, "127.0.0.1:8080");
	cr_expect_str_eq(c->admin_listen, "127.0.0.1:9090");
	cr_expect_eq(c->max_body_bytes, 4u << 20);
	cr_expect_str_eq(c->sticky_field, "user");
	cr_expect_str_eq(c->sticky_header, "x-sluice-user");
	cr_expect_eq(c->connect_timeout_ms, 5000);
	cr_expect_eq(c->upstream_timeout_ms, 120000);
	cr_expect_eq(c->drain_timeout_ms, 10000);
	cr_expect_str_eq(c->access_log, "-");
	cr_expect_not(c->log_bodies);
	cr_expect_null(c->models[0].hash_seed);
	cr_expect_null(c->models[0].versions[0].upstream_model);
	cr_expect_null(c->models[0].versions[0].api_key_env);
	free_checked(c);
}

Test(config_ok, example_two_versions)
{
	struct sl_config *c = load_ok(EXAMPLE);
	cr_expect_str_eq(c->listen, "127.0.0.1:8080");
	cr_expect_str_eq(c->admin_listen, "127.0.0.1:9090");
	cr_assert_eq(c->models_count, 1);
	const struct sl_cfg_model *m = &c->models[0];
	cr_expect_str_eq(m->name, "chat");
	cr_assert_eq(m->versions_count, 2);
	cr_expect_str_eq(m->versions[0].name, "v1");
	cr_expect_str_eq(m->versions[0].upstream_model, "sim-v1");
	cr_expect_str_eq(m->versions[0].upstreams[0], "http://127.0.0.1:8101");
	cr_expect_eq(m->versions[0].weight, 90);
	cr_expect_str_eq(m->versions[1].name, "v2");
	cr_expect_str_eq(m->versions[1].upstream_model, "sim-v2");
	cr_expect_str_eq(m->versions[1].upstreams[0], "http://127.0.0.1:8102");
	cr_expect_eq(m->versions[1].weight, 10);
	free_checked(c);
}

Test(config_ok, booleans_and_whole_numbers)
{
	static const char *const yes[] = {"true", "True", "yes", "on"}, *const no[] = {"false", "FALSE", "no", "off"};
	char text[1024];
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "log_bodies: %s\nmax_body_bytes: 010\n" MODELS, yes[i]);
		struct sl_config *c = load_ok(write_file("b.yaml", text));
		cr_expect(c->log_bodies, "'%s' is true", yes[i]);
		cr_expect_eq(c->max_body_bytes, 10, "a leading zero is not octal");
		free_checked(c);
		snprintf(text, sizeof(text), "log_bodies: %s\n" MODELS, no[i]);
		c = load_ok(write_file("b.yaml", text));
		cr_expect_not(c->log_bodies, "'%s' is false", no[i]);
		free_checked(c);
	}
}

Test(config_ok, zero_weight_version_allowed)
{
	struct sl_config *c = load_ok(write_file("z.yaml", MODELS_V2("      - name: v2\n"
	                                                             "        upstreams: [http://127.0.0.1:8102]\n"
	                                                             "        weight: 0\n")));
	cr_expect_eq(c->models[0].versions[1].weight, 0);
	free_checked(c);
}

Test(config_ok, free_null)
{
	sl_config_free(NULL);
}

/* Files that cannot be read. */

Test(config_bad, missing_file)
{
	char path[256], err[512] = "";
	struct sl_config *c = (struct sl_config *)1;
	snprintf(path, sizeof(path), "%s/nope.yaml", dir);
	cr_assert_eq(sl_config_load(path, &c, err, sizeof(err)), SL_ECONFIG);
	cr_expect_null(c);
	cr_expect_not_null(strstr(err, path), "%s", err);
	cr_expect_not_null(strstr(err, "No such file"), "%s", err);
	LEAK_CHECK();
}

Test(config_bad, directory)
{
	char err[512] = "";
	struct sl_config *c = NULL;
	cr_assert_eq(sl_config_load(dir, &c, err, sizeof(err)), SL_ECONFIG);
	cr_expect_null(c);
	cr_expect_not_null(strstr(err, dir), "%s", err);
	LEAK_CHECK();
}

Test(config_bad, too_large)
{
	size_t n = (1u << 20) + 1;
	char *text = malloc(n + sizeof(MODELS));
	cr_assert_not_null(text);
	memcpy(text, MODELS, sizeof(MODELS) - 1);
	memset(text + sizeof(MODELS) - 1, '#', n);
	text[sizeof(MODELS) - 1 + n - 1] = '\n';
	text[sizeof(MODELS) - 1 + n] = '\0';
	const char *file = write_file("big.yaml", text);
	free(text);
	char err[512] = "";
	struct sl_config *c = NULL;
	cr_assert_eq(sl_config_load(file, &c, err, sizeof(err)), SL_ECONFIG);
	cr_expect_null(c);
	cr_expect_not_null(strstr(err, file), "%s", err);
	cr_expect_not_null(strstr(err, "larger than 1 MiB"), "%s", err);
	LEAK_CHECK();
}

Test(config_bad, empty_file)
{
	expect_fail("", 1, NULL, "the file is empty");
	expect_fail("# nothing but a comment\n\n", 1, NULL, "the file is empty");
}

/* YAML that libyaml rejects: the line is where libyaml found the problem. */

Test(config_bad, syntax_error)
{
	expect_fail("listen: 127.0.0.1:8080\n  admin_listen: 127.0.0.1:9090\n" MODELS, 2, NULL,
	            "invalid YAML: mapping values are not allowed");
	expect_fail(MODELS_V2("\t- name: v2\n"), 7, NULL, "invalid YAML: found a tab character");
	expect_fail("models:\n  - name: chat\n    versions: [\n", 3, NULL, "invalid YAML: did not find expected");
	expect_fail("listen: \"127.0.0.1:8080\n" MODELS, 1, NULL, "invalid YAML: found unexpected end of stream");
}

/* libcyaml's structural errors, re-located to the field. */

Test(config_bad, unknown_key_top)
{
	expect_fail("listen: 127.0.0.1:8080\nbogus: 1\n" MODELS, 2, "bogus", "unknown field");
	expect_fail(MODELS "lisen: 127.0.0.1:8080\n", 10, "lisen", "unknown field");
	expect_fail("\"\": 1\n" MODELS, 1, NULL, "a key with no name is not a known field");
}

Test(config_bad, unknown_key_nested)
{
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        colour: red\n"
	                      "        weight: 10\n"),
	            9, "models[0].versions[1].colour", "unknown field");
	expect_fail("models:\n  - name: chat\n    colour: red\n    versions: []\n", 3, "models[0].colour",
	            "unknown field");
	expect_fail("models:\n  - name: a\n    versions: [{name: v1, upstreams: [http://h:1], weight: 1}]\n"
	            "  - {name: b, versions: [{name: v1, upstreams: [http://h:1], weight: 1, extra: 2}]}\n",
	            4, "models[1].versions[0].extra", "unknown field");
}

Test(config_bad, wrong_type)
{
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: abc\n"),
	            9, "models[0].versions[1].weight", "'abc' is not a number");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight:\n"),
	            9, "models[0].versions[1].weight", "has no value");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: [10]\n"),
	            9, "models[0].versions[1].weight", "expected a number, got a sequence");
	expect_fail("listen: {host: a}\n" MODELS, 1, "listen", "expected a string, got a mapping");
	expect_fail("models: chat\n", 1, "models", "expected a sequence, got a scalar");
	expect_fail("models:\n  - name: chat\n    versions:\n      name: v1\n", 3, "models[0].versions",
	            "expected a sequence, got a mapping");
	expect_fail("- listen\n", 1, NULL, "expected a mapping, got a sequence");
	expect_fail("just words\n", 1, NULL, "expected a mapping, got a scalar");
}

Test(config_bad, wrong_type_in_scalar_sequence)
{
	/* libcyaml counts entries from 1: the third upstream is [2]. */
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://a:1, http://b:2, [x]]\n"
	                      "        weight: 10\n"),
	            8, "models[0].versions[1].upstreams[2]", "expected a string, got a sequence");
}

Test(config_bad, whole_numbers_strict)
{
	expect_fail("max_body_bytes: 4MiB\n" MODELS, 1, "max_body_bytes", "'4MiB' is not a whole number");
	expect_fail("listen: 127.0.0.1:8080\nconnect_timeout_ms: 1e3\n" MODELS, 2, "connect_timeout_ms",
	            "'1e3' is not a whole number");
	expect_fail("upstream_timeout_ms: 1.5\n" MODELS, 1, "upstream_timeout_ms", "'1.5' is not a whole number");
	expect_fail("drain_timeout_ms: 0x10\n" MODELS, 1, "drain_timeout_ms", "'0x10' is not a whole number");
	expect_fail("drain_timeout_ms: -5\n" MODELS, 1, "drain_timeout_ms", "'-5' is not a whole number");
	expect_fail("max_body_bytes: 0\n" MODELS, 1, "max_body_bytes", "must be above 0");
}

Test(config_bad, boolean_strict)
{
	expect_fail("log_bodies: maybe\n" MODELS, 1, "log_bodies", "'maybe' is not true or false");
	expect_fail(MODELS "log_bodies: flase\n", 10, "log_bodies", "'flase' is not true or false");
}

Test(config_bad, duplicate_key)
{
	expect_fail("listen: 127.0.0.1:1\nadmin_listen: 127.0.0.1:2\nlisten: 127.0.0.1:3\n" MODELS, 3, "listen",
	            "appears more than once");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        name: v3\n"),
	            9, "models[0].versions[1].name", "appears more than once");
}

Test(config_bad, missing_required_field)
{
	/* Reported at the mapping that lacks the field: the version entry starts on line 7. */
	expect_fail(MODELS_V2("      - upstreams: [http://127.0.0.1:8102]\n"
	                      "        upstream_model: x\n"
	                      "        weight: 10\n"),
	            7, "models[0].versions[1].name", "is required but missing");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        weight: 10\n"),
	            7, "models[0].versions[1].upstreams", "is required but missing");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"),
	            7, "models[0].versions[1].weight", "is required but missing");
	expect_fail("models:\n  - {name: chat, versions: [{name: v1, upstreams: [http://h:1], weight: 1}]}\n"
	            "  - name: other\n",
	            3, "models[1].versions", "is required but missing");
	expect_fail("models:\n  - versions: []\n", 2, "models[0].name", "is required but missing");
	expect_fail("# top\n\nlisten: 127.0.0.1:8080\nadmin_listen: 127.0.0.1:9090\n", 3, "models",
	            "is required but missing");
	expect_fail(MODELS_V2("      - {}\n"), 7, "models[0].versions[1].name", "is required but missing");
}

Test(config_bad, too_many_entries)
{
	char text[4096];
	int n = snprintf(text, sizeof(text),
	                 "models:\n  - name: chat\n    versions:\n      - name: v1\n"
	                 "        weight: 1\n        upstreams:\n");
	for (int i = 1; i <= 65; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "          - http://h:%d\n", i);
	expect_fail(text, 6, "models[0].versions[0].upstreams", "has more than 64 entries");
}

/* Checks sluice makes after loading. */

Test(config_bad, negative_weight)
{
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: -1\n"),
	            9, "models[0].versions[1].weight", "must be a number from 0 to 1000000");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: .nan\n"),
	            9, "models[0].versions[1].weight", "");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: 1e400\n"),
	            9, "models[0].versions[1].weight", "");
}

Test(config_bad, all_weights_zero)
{
	expect_fail("models:\n  - name: chat\n    versions:\n"
	            "      - {name: v1, upstreams: [http://h:1], weight: 0}\n"
	            "      - {name: v2, upstreams: [http://h:2], weight: 0}\n",
	            3, "models[0].versions", "at least one version needs a weight above 0");
}

Test(config_bad, duplicate_model)
{
	expect_fail(MODELS "  - name: chat\n    versions: [{name: a, upstreams: [http://h:1], weight: 1}]\n", 10,
	            "models[1].name", "duplicate model name 'chat'");
}

Test(config_bad, duplicate_version)
{
	expect_fail(MODELS_V2("      - name: v1\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: 10\n"),
	            7, "models[0].versions[1].name", "duplicate version name 'v1'");
}

Test(config_bad, bad_names)
{
	expect_fail(MODELS_V2("      - name: \"v 2\"\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: 10\n"),
	            7, "models[0].versions[1].name", "without spaces");
	expect_fail("models:\n  - name: \"\"\n    versions: [{name: a, upstreams: [http://h:1], weight: 1}]\n", 2,
	            "models[0].name", "must be 1 to 128 characters");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        upstream_model: \"my model\"\n"
	                      "        weight: 10\n"),
	            9, "models[0].versions[1].upstream_model", "without spaces");
}

static void expect_bad_upstream(const char *url)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         MODELS_V2("      - name: v2\n"
	                   "        weight: 10\n"
	                   "        upstreams:\n"
	                   "          - http://127.0.0.1:8102\n"
	                   "          - \"%s\"\n"),
	         url);
	expect_fail(text, 11, "models[0].versions[1].upstreams[1]", "is not an http://host:port[/path] URL");
}

Test(config_bad, bad_upstream_url)
{
	expect_bad_upstream("https://127.0.0.1:8102");
	expect_bad_upstream("http://:8102");
	expect_bad_upstream("http:///v1");
	expect_bad_upstream("http://127.0.0.1:0");
	expect_bad_upstream("http://127.0.0.1:70000");
	expect_bad_upstream("http://127.0.0.1:port");
	expect_bad_upstream("127.0.0.1:8102");
	expect_bad_upstream("http://127.0.0.1:8102/v1?x=1");
}

Test(config_bad, no_upstreams)
{
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: []\n"
	                      "        weight: 10\n"),
	            8, "models[0].versions[1].upstreams", "needs at least one upstream");
}

Test(config_bad, no_versions)
{
	expect_fail("models:\n  - name: chat\n    versions: []\n", 3, "models[0].versions",
	            "needs at least one version");
}

Test(config_bad, no_models)
{
	expect_fail("listen: 127.0.0.1:8080\nmodels: []\n", 2, "models", "needs at least one model");
	expect_fail("listen: 127.0.0.1:8080\nmodels:\n", 2, "models", "expected a sequence, got a scalar");
}

Test(config_bad, bad_listen_address)
{
	expect_fail("listen: nope\n" MODELS, 1, "listen", "'nope' is not HOST:PORT");
	expect_fail("listen: 127.0.0.1:0\n" MODELS, 1, "listen", "is not HOST:PORT");
	expect_fail("listen: 127.0.0.1:65536\n" MODELS, 1, "listen", "is not HOST:PORT");
	expect_fail("listen: :8080\n" MODELS, 1, "listen", "is not HOST:PORT");
	expect_fail("listen: 127.0.0.1:8080\nadmin_listen: localhost\n" MODELS, 2, "admin_listen",
	            "'localhost' is not HOST:PORT");
}

Test(config_bad, listen_equals_admin_listen)
{
	expect_fail("listen: 127.0.0.1:9000\nadmin_listen: 127.0.0.1:9000\n" MODELS, 2, "admin_listen",
	            "clashes with listen");
	/* admin_listen left to its default: blame listen, the one in the file. */
	expect_fail("# comment\nlisten: 127.0.0.1:9090\n" MODELS, 2, "listen", "clashes with admin_listen");
	expect_fail("listen: 0.0.0.0:9000\nadmin_listen: 127.0.0.1:9000\n" MODELS, 2, "admin_listen",
	            "clashes with listen");
}

Test(config_bad, max_body_bytes_too_big)
{
	expect_fail("max_body_bytes: 1073741825\n" MODELS, 1, "max_body_bytes", "must be at most 1073741824");
	expect_fail("max_body_bytes: 99999999999999999999999\n" MODELS, 1, "max_body_bytes", "");
}

Test(config_bad, timeouts_too_big)
{
	expect_fail("connect_timeout_ms: 3600001\n" MODELS, 1, "connect_timeout_ms", "must be at most 3600000");
	expect_fail("listen: 127.0.0.1:1\nupstream_timeout_ms: 3600001\n" MODELS, 2, "upstream_timeout_ms",
	            "must be at most 3600000");
	expect_fail(MODELS "drain_timeout_ms: 4000000\n", 10, "drain_timeout_ms", "must be at most 3600000");
}

Test(config_bad, sticky_settings)
{
	expect_fail("sticky_header: X-User\n" MODELS, 1, "sticky_header", "lower-case header name");
	expect_fail("sticky_header: \"\"\n" MODELS, 1, "sticky_header", "lower-case header name");
	expect_fail("sticky_field: \"user id\"\n" MODELS, 1, "sticky_field", "without spaces");
}

Test(config_bad, bad_api_key_env)
{
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        api_key_env: 1BAD-NAME\n"
	                      "        weight: 10\n"),
	            9, "models[0].versions[1].api_key_env", "'1BAD-NAME' is not an environment variable name");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: 10\n"
	                      "        api_key_env: \"MY KEY\"\n"),
	            10, "models[0].versions[1].api_key_env", "is not an environment variable name");
	expect_fail(MODELS_V2("      - name: v2\n"
	                      "        upstreams: [http://127.0.0.1:8102]\n"
	                      "        weight: 10\n"
	                      "        api_key_env: \"\"\n"),
	            10, "models[0].versions[1].api_key_env", "is not an environment variable name");
}

Test(config_bad, error_buffer_is_bounded)
{
	const char *file = write_file("small.yaml", "bogus: 1\n" MODELS);
	char err[16];
	struct sl_config *c = NULL;
	memset(err, 'x', sizeof(err));
	cr_assert_eq(sl_config_load(file, &c, err, sizeof(err)), SL_ECONFIG);
	cr_expect_eq(err[sizeof(err) - 1], '\0');
	cr_expect_eq(strlen(err), sizeof(err) - 1);
}

/* ---- sections kept as JSON and checked by their modules: guard, experiments ---- */

Test(config_ok, guard_and_experiments_sections)
{
	const char *file = write_file("sluice.yaml", MODELS "    guard:\n"
	                                                   "      input: false\n"
	                                                   "guard:\n"
	                                                   "  input: {action: block, threshold: 0.7}\n"
	                                                   "  output: {canaries: [CANARY-12345]}\n"
	                                                   "experiments:\n"
	                                                   "  - key: tone\n"
	                                                   "    model: chat\n"
	                                                   "    variants: [{key: a, version: v1}, {key: b, version: v2}]\n");
	struct sl_config *c = load_ok(file);
	cr_expect_str_eq(c->models[0].guard_json_, "{\"input\":false}");
	cr_expect(strstr(c->guard_json_, "\"threshold\":0.7"));
	cr_expect(strncmp(c->experiments_json_, "{\"experiments\":[{\"key\":\"tone\"", 29) == 0, "%s",
	          c->experiments_json_);
	free_checked(c);
	c = load_ok(write_file("plain.yaml", MODELS));
	cr_expect_str_eq(c->guard_json_, "{}");
	cr_expect_str_eq(c->models[0].guard_json_, "{}");
	cr_expect_str_eq(c->experiments_json_, "{\"experiments\":[]}");
	free_checked(c);
}

Test(config_bad, guard_section)
{
	expect_fail(MODELS "guard:\n  input:\n    action: maybe\n", 12, "guard.input.action",
	            "must be allow, flag, block or sanitize");
	expect_fail(MODELS "guard:\n  inputs: {}\n", 11, "guard.inputs", "unknown field");
	expect_fail(MODELS "guard:\n  output: {action: redact, allow_domains: [\"not a host\"]}\n", 11,
	            "guard.output.allow_domains[0]", "");
	expect_fail(MODELS "guard:\n  agents: {policy: remove, tools: [{name: x, confers: [teleport]}]}\n", 11,
	            "guard.agents.tools[0].confers[0]", "");
	expect_fail(MODELS "    guard:\n      output: 3\n", 11, "models[0].guard.output", "must be a mapping");
}

Test(config_bad, experiments_section)
{
	expect_fail(MODELS "experiments:\n  - key: t\n    model: nope\n    variants: [{key: a}, {key: b}]\n", 12,
	            "experiments[0].model", "no model is named 'nope'");
	expect_fail(MODELS "experiments:\n  - key: t\n    model: chat\n    variants: [{key: a}, {key: b, version: v9}]\n",
	            13, "experiments[0].variants[1].version", "model 'chat' has no version 'v9'");
	expect_fail(MODELS "experiments:\n  - key: t\n    model: chat\n    variants: [{key: a, weight: -1}, {key: b}]\n",
	            13, "experiments[0].variants[0].weight", "");
}

Test(config_ok, drift_error_warning)
{
	struct sl_config *c = load_ok(write_file("d.yaml", MODELS "drift:\n  error_warning: 0.3\n"));
	cr_expect_float_eq(c->drift->error_warning, 0.3, 1e-12);
	free_checked(c);
	c = load_ok(write_file("e.yaml", MODELS "drift:\n  window_size: 500\n"));
	cr_expect_float_eq(c->drift->error_warning, 0.5, 1e-12, "the default");
	free_checked(c);
	expect_fail(MODELS "drift:\n  error_warning: 0\n", 11, "drift.error_warning", "must be a share above 0");
	expect_fail(MODELS "drift:\n  error_warning: 1.5\n", 11, "drift.error_warning", "must be a share above 0");
}

/* Retraining thresholds: "METRIC < X" / "METRIC > X" with a known metric, spaces optional. */
Test(config_ok, retrain_thresholds_parse)
{
	struct sl_cfg_when w;
	char err[192];
	cr_assert_eq(sl_cfg_when_parse("recs_ctr < 0.02", &w, err, sizeof err), 0, "%s", err);
	cr_expect_str_eq(w.metric, "recs_ctr");
	cr_expect(w.below);
	cr_expect_eq(w.value, 0.02);
	cr_assert_eq(sl_cfg_when_parse("error_rate>5e-2", &w, err, sizeof err), 0, "%s", err);
	cr_expect(!w.below && w.value == 0.05 && !strcmp(w.metric, "error_rate"));
	cr_assert_eq(sl_cfg_when_parse("recs_satisfaction <   -0.1", &w, err, sizeof err), 0, "%s", err);
	cr_expect_eq(w.value, -0.1);
	const char *bad[][2] = {
	    {"recs_ctr", "METRIC < NUMBER"},       {"< 3", "METRIC < NUMBER"},
	    {"recs_ctr <", "is not a number"},     {"recs_ctr < 0.1x", "is not a number"},
	    {"recs_ctr < nan", "is not a number"}, {"latency < 3", "unknown metric 'latency'"},
	    {"recs_ctr.pos.1 < 3", "unknown metric"}, {"recs_ < 1", "unknown metric"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_expect_eq(sl_cfg_when_parse(bad[i][0], &w, err, sizeof err), SL_EINVAL, "%s", bad[i][0]);
		cr_expect(strstr(err, bad[i][1]), "%s: %s", bad[i][0], err);
	}
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	longname[150] = '<';
	cr_expect_eq(sl_cfg_when_parse(longname, &w, err, sizeof err), SL_EINVAL);
	cr_expect_eq(sl_cfg_when_parse(NULL, &w, err, sizeof err), SL_EINVAL);
}
