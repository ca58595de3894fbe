/* guard_model.h: the prompt-injection classifier of the guard pipeline: logistic regression
 * over signed, hashed features (character n-grams, word unigrams and bigrams, and "cue" concept
 * features that name what an attack does: address the model, override instructions, ask for
 * hidden data, switch role, exfiltrate), its training, and its small versioned file format.
 * Invariants: pure (no global state); a loaded or trained model is immutable, so scoring a
 * const model is thread-safe and allocates nothing; any byte string can be scored (the pipeline
 * hands normalized, lower-cased text, but nothing here relies on it); every int-returning
 * function returns 0 or a negative SL_E* code, writes a one-line reason into err[errlen] on
 * failure (lower case, failing thing first) and fills *out only on success. */
#ifndef SLUICE_GUARD_MODEL_H
#define SLUICE_GUARD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/core.h"
#include "sluice/guard.h"

struct sl_guard_model; /* opaque */

/* Limits of the format and of training. */
#define SL_GUARD_MODEL_MIN_BITS     10
#define SL_GUARD_MODEL_MAX_BITS     24
#define SL_GUARD_MODEL_MAX_NGRAM    8
#define SL_GUARD_MODEL_MAX_FILE     ((size_t)1 << 28)
#define SL_GUARD_MODEL_DEFAULT_PATH "share/guard/model.bin"

/* Feature and windowing settings; stored in the model file. */
struct sl_guard_model_params {
	unsigned hash_bits; /* 2^hash_bits weights (default 18: 1 MiB of float32 in the file) */
	uint32_t seed;      /* hash seed */
	unsigned char_min;  /* character n-grams char_min..char_max bytes (default 4..4) */
	unsigned char_max;  /* 0 disables character n-grams */
	bool word_unigrams; /* default true */
	bool word_bigrams;  /* default true */
	bool cues;          /* concept features from the built-in cue lexicon (default true) */
	uint32_t window;    /* bytes per scoring window (default 512) */
	uint32_t stride;    /* window step (default 128: windows overlap by window - stride) */
	double threshold;   /* default decision threshold on the score (chosen on training data) */
};

/* One training example; text is borrowed for the duration of the training call. */
struct sl_guard_example {
	const char *text;
	size_t len;
	int label;      /* 1 injection or jailbreak, 0 benign */
	double weight;  /* > 0; multiplied by the class weight */
	unsigned group; /* e.g. an index of the example's source (folds with cv_by_group) */
};

struct sl_guard_train_opts {
	struct sl_guard_model_params params;
	unsigned epochs;       /* passes over the data (default 6) */
	double eta;            /* AdaGrad base step (default 0.2) */
	double l2;             /* L2 penalty per example (default 1e-6) */
	bool balance;          /* weight classes so that each carries half the total (default true) */
	uint64_t shuffle_seed; /* order of examples per epoch (default 1) */
	/* Threshold choice on the training data only: cv_folds models are trained with one fold
	 * held out each; every benign example gets its out-of-fold score; the threshold is the
	 * smallest score t whose out-of-fold benign false positive rate (score >= t) is at most
	 * target_fpr. Folds: example i in fold i mod cv_folds (stratified by position), or with
	 * cv_by_group whole groups (fold = group mod cv_folds), which estimates the rate on unseen
	 * sources instead. cv_folds 0 or target_fpr 0 keeps params.threshold as given. */
	double target_fpr; /* default 0.01 */
	bool cv_by_group;  /* default false */
	unsigned cv_folds; /* default 5 */
};

void sl_guard_model_params_default(struct sl_guard_model_params *p);
void sl_guard_train_opts_default(struct sl_guard_train_opts *o);

/* Trains a model on ex[0..n): both classes must be present. */
int sl_guard_model_train(const struct sl_guard_example *ex, size_t n, const struct sl_guard_train_opts *o,
                         struct sl_guard_model **out, char *err, size_t errlen);

/* File format (little-endian), version 1:
 *   "SLGM" magic, u32 version, u32 header bytes, u32 hash_bits, u32 seed, u32 char_min, u32 char_max,
 *   u32 flags (1 unigrams, 2 bigrams, 4 cues), u32 window, u32 stride, f64 threshold, f32 bias,
 *   f32 weights[2^hash_bits], u64 FNV-1a checksum of every byte before it.
 * Wrong magic, unknown version, inconsistent sizes, truncation, a bad checksum or non-finite
 * weights are refused with a clear message. */
int sl_guard_model_load(const char *path, struct sl_guard_model **out, char *err, size_t errlen);
int sl_guard_model_load_mem(const void *data, size_t len, struct sl_guard_model **out, char *err, size_t errlen);
/* The path of the model a setting names, into out[cap]: file itself; for NULL or "" the shipped
 * model, rel under the share directory (sl_guard_share_path), when it is readable, else "";
 * for "none", "" (no model). SL_ETOOBIG when the path does not fit. */
int sl_guard_model_path(const char *file, const char *rel, char *out, size_t cap);
/* Loads the model a setting names (sl_guard_model_path); 0 with *out NULL when it names none. */
int sl_guard_model_load_setting(const char *file, const char *rel, struct sl_guard_model **out, char *err,
                                size_t errlen);
/* Writes to path atomically (a temporary file renamed over it). */
int sl_guard_model_save(const struct sl_guard_model *m, const char *path, char *err, size_t errlen);
/* Appends the serialized model to out. */
int sl_guard_model_serialize(const struct sl_guard_model *m, struct sl_buf *out);
void sl_guard_model_free(struct sl_guard_model *m);

/* Probability in [0, 1] that text is an injection: the maximum over windows of `window` bytes
 * stepped by `stride` (one window when len <= window). Empty text scores the bias alone.
 * No allocation; safe from many threads on one model. A NULL model scores 0. Scoring reads an
 * 8-bit copy of the weights (one scale per model, max |w| -> 127; at most half a step of error
 * each), summed in integers per block of `stride` bytes. */
double sl_guard_model_score(const struct sl_guard_model *m, const char *text, size_t len);
/* The guard scorer stage (ctx is a const struct sl_guard_model *): the score calibrated so that
 * the model's threshold maps to the pipeline's default threshold SL_GUARD_DEFAULT_THRESHOLD
 * (0.5): sigmoid(logit(p) - logit(threshold)). A pipeline at 0.5 then fires on the classifier
 * alone exactly where the model's own operating point (<= 1% out-of-fold benign) would. */
double sl_guard_model_stage(void *ctx, const char *text, size_t len);

/* Two models that compute the same features (hash size and seed, n-grams, word features and
 * cues) with strides of which the larger is a multiple of the smaller: the general classifier
 * and the document model as shipped. */
bool sl_guard_model_pairs(const struct sl_guard_model *a, const struct sl_guard_model *b);
/* sl_guard_model_score of a and of b (which must pair), bit for bit, from one walk over text:
 * the features are found once and each is looked up in both weight tables. */
void sl_guard_model_score_pair(const struct sl_guard_model *a, const struct sl_guard_model *b, const char *text,
                               size_t len, double *pa, double *pb);
struct sl_guard_model_pair {
	const struct sl_guard_model *general, *document;
};
/* The stage of an indirect segment with ctx a struct sl_guard_model_pair: the larger of the two
 * models' sl_guard_model_stage values, clamped to [0, 1], computed in one walk. */
double sl_guard_model_stage_pair(void *ctx, const char *text, size_t len);
/* Sets o's classifier stages: scorer (general), indirect (document) and, when the two pair,
 * both (the document path in one walk, ctx = pair, which the caller keeps as long as o). Either
 * model may be NULL (that stage off). */
void sl_guard_opts_models(struct sl_guard_opts *o, struct sl_guard_model_pair *pair,
                          const struct sl_guard_model *general, const struct sl_guard_model *document);

const struct sl_guard_model_params *sl_guard_model_params(const struct sl_guard_model *m);
double sl_guard_model_threshold(const struct sl_guard_model *m);
/* Returns a copy of m with another default threshold (in (0, 1)); NULL on failure. */
struct sl_guard_model *sl_guard_model_with_threshold(const struct sl_guard_model *m, double threshold);
size_t sl_guard_model_file_size(const struct sl_guard_model *m);

#endif
