/* config: the YAML configuration of `sluice serve`, loaded with libcyaml and validated.
 * A loaded config is immutable; a reload builds a new one. Errors name the file, line and field. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* Token prices in any currency per million tokens. */
struct sl_cfg_price {
	double input_per_mtok, output_per_mtok;
};

/* Rollout webhooks of a model: JSON POSTs with a timeout and retries. */
struct sl_cfg_webhooks {
	char *pre_start;    /* must answer 2xx before a rollout starts */
	char *confirm_step; /* must answer 2xx before each step advances; otherwise the step holds */
	char *on_promote, *on_rollback; /* notifications */
	uint32_t timeout_ms; /* default 5000 */
	uint32_t retries;    /* default 2 */
};

/* One pipeline parameter of a retraining trigger. */
struct sl_cfg_param {
	char *name, *value;
};

/* Retraining trigger: a POST shaped like Kubeflow Pipelines' create-run call. */
struct sl_cfg_retrain {
	char *url;          /* e.g. http://kfp.local/apis/v2beta1/runs */
	char *pipeline_id;
	char *experiment_id; /* optional */
	char *on;            /* "drift" (default), "warning", or "thresholds" (only `when`) */
	uint32_t cooldown_s; /* default 3600 */
	struct sl_cfg_param *parameters;
	unsigned parameters_count;
	char **when; /* quality thresholds, "METRIC < X" or "METRIC > X" (sl_cfg_when_parse) */
	unsigned when_count;
};

/* A parsed retraining threshold: METRIC is "error_rate" (a drift window's share of failed
 * requests) or "recs_" and a metric of a closed recommendation window (docs/RECS.md: ctr,
 * satisfaction, repetition, ...). */
#define SL_CFG_WHEN_MAX 16
struct sl_cfg_when {
	char metric[64];
	bool below; /* "<": fires when the value is below; ">": above */
	double value;
};
/* 0, or SL_EINVAL with err saying what is wrong with s. */
int sl_cfg_when_parse(const char *s, struct sl_cfg_when *out, char *err, size_t errlen);

/* Live drift monitoring (docs/DRIFT.md). */
struct sl_cfg_drift {
	bool enabled;            /* default true */
	uint32_t reference_size; /* default 1000 */
	uint32_t window_size;    /* default 1000 */
	double drift_share;      /* default 0.5 */
	double error_warning;    /* a window whose error rate reaches this reads at least warning, default 0.5 */
	char *webhook;           /* POSTed on every change of a version's drift state */
	struct sl_cfg_retrain *retrain;
};

struct sl_cfg_version {
	char *name;
	char **upstreams; /* base URLs: http://host:port[/prefix] */
	unsigned upstreams_count;
	char *upstream_model; /* the upstream's own model id; defaults to the version name */
	double weight;        /* relative share, >= 0 */
	char *api_key_env;    /* optional: environment variable holding the upstream API key */
	struct sl_cfg_price *price; /* optional: token prices, for the judge's cost metric */
};

struct sl_cfg_model {
	char *name; /* public model name clients ask for */
	char *hash_seed; /* sticky-assignment seed; defaults to the model name */
	struct sl_cfg_version *versions;
	unsigned versions_count;
	struct sl_cfg_webhooks *webhooks; /* optional */
	char *rollout_json_; /* the model's `rollout:` section as JSON ("{}" when absent), validated
			      * by the rollout module; not a libcyaml field */
	char *guard_json_;   /* the model's `guard:` section as JSON ("{}" when absent), see guard_config.h */
};

struct sl_config {
	char *listen;       /* data plane, default 127.0.0.1:8080 */
	char *admin_listen; /* admin, default 127.0.0.1:9090 */
	uint64_t max_body_bytes;      /* default 4 MiB */
	char *sticky_field;           /* request body field used as the sticky key, default "user" */
	char *sticky_header;          /* header used as the sticky key, default "x-sluice-user" */
	uint32_t connect_timeout_ms;  /* default 5000 */
	uint32_t upstream_timeout_ms; /* idle time allowed between upstream bytes, default 120000 */
	uint32_t drain_timeout_ms;    /* SIGTERM drain budget, default 10000 */
	char *access_log;             /* path, "-" for stdout, or "off"; default "-" */
	bool log_bodies;              /* put prompt bodies in the access log, default false */
	char *store;                  /* SQLite file for rollouts and feedback, default "sluice.db"; "off" */
	char *admin_token_env;        /* environment variable holding the admin API's bearer token */
	struct sl_cfg_drift *drift;   /* NULL: the defaults */
	struct sl_cfg_model *models;
	unsigned models_count;
	char *guard_json_; /* the top-level `guard:` section as JSON ("{}" when absent), see guard_config.h */
	char *experiments_json_; /* the `experiments:` list as {"experiments": [...]} (experiment.h) */
	char *path_; /* the file it came from (not a YAML field) */
};

/* Loads and validates FILE. On failure returns SL_ECONFIG (SL_ENOMEM when out of memory), leaves
 * *out NULL and writes one line into err: "FILE:LINE: field 'a.b[1].c': reason", where LINE is
 * the field's own line (or that of the mapping lacking it); "FILE:LINE: invalid YAML: ..." for a
 * syntax error; "cannot open 'FILE': ..." when it cannot be read. Whole numbers and booleans are
 * read strictly ("4MiB" and "maybe" are refused, and so is an explicit 0 for max_body_bytes or a
 * timeout). The result is freed with sl_config_free. */
int sl_config_load(const char *path, struct sl_config **out, char *err, size_t errlen);
void sl_config_free(struct sl_config *cfg);

#endif
