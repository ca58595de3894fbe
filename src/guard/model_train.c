/* model_train.c: training the classifier: logistic loss, AdaGrad, L2, balanced classes, over
 * the same windows the scorer uses; then the default threshold from cross-validation on the
 * training data alone.
 * Invariants: an example is split into the scorer's blocks and windows (model-int.h); a benign
 * example trains windows tiling it, so every byte is trained once (the scorer takes the max,
 * so each window must stay low); an injection trains its tiles in the first epoch and then only
 * its highest-scoring window (multiple-instance learning: one window holding the attack is
 * enough, the rest of a poisoned document is ordinary text). Training is deterministic for
 * given options. Examples longer than TRAIN_MAX_TEXT are cut there. */
#include <stdlib.h>

#include "model-int.h"

#define TRAIN_MAX_TEXT ((size_t)1 << 20)

/* Features of one example, in walker order, with the block each falls in. */
struct feats {
	uint32_t *key, *blk;
	size_t n, cap, stride;
	int oom;
};

static void feats_emit(void *st, size_t pos, const struct gm_batch *bt)
{
	struct feats *f = st;
	if (f->n + bt->n > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		uint32_t *k = realloc(f->key, cap * sizeof(*k));
		if (k)
			f->key = k;
		uint32_t *b = k ? realloc(f->blk, cap * sizeof(*b)) : NULL;
		if (!b) {
			f->oom = 1;
			return;
		}
		f->blk = b;
		f->cap = cap;
	}
	for (unsigned i = 0; i < bt->n; i++) {
		f->key[f->n] = bt->key[i];
		f->blk[f->n++] = (uint32_t)(pos / f->stride);
	}
}

struct trainer {
	struct sl_guard_model *m;
	float *g2; /* AdaGrad sums of squared gradients, one per weight */
	double gb2;
	const struct sl_guard_train_opts *o;
	struct feats f;
	size_t *boff; /* boff[b]: index of the first feature of block b; nblocks + 1 entries */
	float *bsum;  /* signed weight sum of each block */
	size_t bcap;
};

static float dot(const struct trainer *t, size_t a, size_t b)
{
	float sum = 0;
	for (size_t i = a; i < b; i++)
		sum += gm_signed_weight_f32(t->m, t->f.key[i]);
	return sum;
}

static float window_z(const struct trainer *t, size_t a, size_t b)
{
	return gm_window_logit(t->m, dot(t, a, b), (uint32_t)(b - a));
}

static void window_update(struct trainer *t, size_t a, size_t b, int y, double weight)
{
	double p = 1.0 / (1.0 + exp(-(double)window_z(t, a, b)));
	double g = (p - y) * weight, eta = t->o->eta, l2 = t->o->l2;
	float scale = b > a ? 1.0f / sqrtf((float)(b - a)) : 0.0f;
	t->gb2 += g * g;
	t->m->bias -= (float)(eta * g / (sqrt(t->gb2) + 1e-8));
	for (size_t i = a; i < b; i++) {
		uint32_t k = t->f.key[i], j = k & t->m->mask;
		float w = t->m->w[j];
		float gr = (float)g * scale * (1.0f - (float)(k >> 31) * 2.0f) + (float)l2 * w;
		t->g2[j] += gr * gr;
		t->m->w[j] = w - (float)eta * gr / (sqrtf(t->g2[j]) + 1e-8f);
	}
}

/* Splits the example's features into blocks (boff); 0 or SL_ENOMEM. */
static int blocks_index(struct trainer *t, size_t nblocks)
{
	if (nblocks + 1 > t->bcap) {
		size_t *o = realloc(t->boff, (nblocks + 1) * sizeof(*o));
		if (o)
			t->boff = o;
		float *s = o ? realloc(t->bsum, (nblocks + 1) * sizeof(*s)) : NULL;
		if (!s)
			return SL_ENOMEM;
		t->bsum = s;
		t->bcap = nblocks + 1;
	}
	size_t i = 0;
	for (size_t b = 0; b <= nblocks; b++) {
		while (i < t->f.n && t->f.blk[i] < b)
			i++;
		t->boff[b] = i;
	}
	t->boff[nblocks] = t->f.n;
	return 0;
}

/* The injection's best window (the scorer's windows: every run of span blocks); its first block. */
static size_t best_window(struct trainer *t, size_t nblocks, size_t span)
{
	for (size_t b = 0; b < nblocks; b++)
		t->bsum[b] = dot(t, t->boff[b], t->boff[b + 1]);
	size_t best = 0;
	float bz = -INFINITY;
	for (size_t w = 0; w + span <= nblocks; w++) {
		float sum = 0;
		for (size_t b = w; b < w + span; b++)
			sum += t->bsum[b];
		float z = gm_window_logit(t->m, sum, (uint32_t)(t->boff[w + span] - t->boff[w]));
		if (z > bz) {
			bz = z;
			best = w;
		}
	}
	return best;
}

/* Trains one example. Every byte of a benign example is trained once, in windows tiling it
 * (the last one flush with the end), since the scorer's max needs each window low; an
 * injection trains the tiles in the first epoch, then only its best window (mil). */
static void train_example(struct trainer *t, const struct sl_guard_example *e, double weight, bool mil)
{
	size_t len = e->len < TRAIN_MAX_TEXT ? e->len : TRAIN_MAX_TEXT;
	size_t K = gm_blocks_per_window(t->m), stride = t->m->p.stride;
	size_t nblocks = len ? (len - 1) / stride + 1 : 1, span = nblocks <= K ? nblocks : K;
	t->f.n = 0;
	gm_walk(t->m, (const unsigned char *)e->text, len, feats_emit, &t->f);
	if (t->f.oom || blocks_index(t, nblocks) != 0) {
		t->f.oom = 1;
		return;
	}
	if (mil) {
		size_t w = best_window(t, nblocks, span);
		window_update(t, t->boff[w], t->boff[w + span], e->label, weight);
		return;
	}
	size_t ntiles = (nblocks + span - 1) / span;
	for (size_t i = 0; i < ntiles; i++) {
		size_t w = i + 1 < ntiles ? i * span : nblocks - span;
		window_update(t, t->boff[w], t->boff[w + span], e->label, weight / sqrt((double)ntiles));
	}
}

static void shuffle(size_t *idx, size_t n, struct sl_rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(sl_rng_next(r) % i), tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
}

static void trainer_release(struct trainer *t)
{
	free(t->g2);
	free(t->f.key);
	free(t->f.blk);
	free(t->boff);
	free(t->bsum);
}

/* Trains on the examples whose fold differs from `skip` (skip < 0: all); NULL on no memory. */
static struct sl_guard_model *fit(const struct sl_guard_example *ex, size_t n, const int *fold, int skip,
                                  const struct sl_guard_train_opts *o)
{
	struct trainer t = {.o = o};
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx)), m = 0;
	double wc[2] = {0, 0};
	t.m = sl_gm_new(&o->params);
	t.g2 = t.m ? calloc((size_t)t.m->mask + 1, sizeof(float)) : NULL;
	t.f.stride = o->params.stride;
	if (!idx || !t.g2)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (skip < 0 || fold[i] != skip) {
			idx[m++] = i;
			wc[ex[i].label != 0] += ex[i].weight;
		}
	struct sl_rng r;
	sl_rng_seed(&r, o->shuffle_seed);
	for (unsigned ep = 0; ep < o->epochs; ep++) {
		shuffle(idx, m, &r);
		for (size_t i = 0; i < m; i++) {
			const struct sl_guard_example *e = &ex[idx[i]];
			double cw = o->balance ? (wc[0] + wc[1]) / (2.0 * wc[e->label != 0]) : 1.0;
			train_example(&t, e, e->weight * cw, ep > 0 && e->label);
			if (t.f.oom)
				goto fail;
		}
	}
	trainer_release(&t);
	free(idx);
	sl_gm_seal(t.m);
	return t.m;
fail:
	sl_guard_model_free(t.m);
	trainer_release(&t);
	free(idx);
	return NULL;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* The smallest threshold whose false positive rate over the benign scores s[0..n) is at most
 * target: just above the (floor(target n) + 1)-th highest score. */
static double threshold_for(double *s, size_t n, double target)
{
	qsort(s, n, sizeof(*s), cmp_desc);
	size_t k = (size_t)floor(target * (double)n);
	if (k >= n)
		return 1e-6;
	double t = nextafter(s[k], 1.0);
	return t < 1e-6 ? 1e-6 : (t > 1.0 - 1e-6 ? 1.0 - 1e-6 : t);
}

static void assign_folds(const struct sl_guard_example *ex, size_t n, const struct sl_guard_train_opts *o, int *fold)
{
	for (size_t i = 0; i < n; i++)
		fold[i] = (int)((o->cv_by_group ? ex[i].group : i) % o->cv_folds);
}

/* Out-of-fold benign scores -> threshold; folds whose training side lacks a class are skipped. */
static int cv_threshold(const struct sl_guard_example *ex, size_t n, const struct sl_guard_train_opts *o, double *thr)
{
	int *fold = malloc(n * sizeof(*fold));
	double *s = malloc(n * sizeof(*s));
	size_t ns = 0;
	int rc = (fold && s) ? 0 : SL_ENOMEM;
	if (!rc)
		assign_folds(ex, n, o, fold);
	for (unsigned f = 0; !rc && f < o->cv_folds; f++) {
		size_t cls[2] = {0, 0};
		for (size_t i = 0; i < n; i++)
			if (fold[i] != (int)f)
				cls[ex[i].label != 0]++;
		if (!cls[0] || !cls[1])
			continue;
		struct sl_guard_model *m = fit(ex, n, fold, (int)f, o);
		if (!m) {
			rc = SL_ENOMEM;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (fold[i] == (int)f && !ex[i].label)
				s[ns++] = sl_guard_model_score(m, ex[i].text, ex[i].len);
		sl_guard_model_free(m);
	}
	if (!rc && ns)
		*thr = threshold_for(s, ns, o->target_fpr);
	free(fold);
	free(s);
	return rc;
}

void sl_guard_train_opts_default(struct sl_guard_train_opts *o)
{
	*o = (struct sl_guard_train_opts){
	    .epochs = 6, .eta = 0.2, .l2 = 1e-6, .balance = true, .shuffle_seed = 1, .target_fpr = 0.01, .cv_folds = 5};
	sl_guard_model_params_default(&o->params);
}

static int check_examples(const struct sl_guard_example *ex, size_t n, char *err, size_t errlen)
{
	size_t cls[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		if ((!ex[i].text && ex[i].len) || !(ex[i].weight > 0.0 && isfinite(ex[i].weight)) ||
		    (ex[i].label != 0 && ex[i].label != 1)) {
			sl_gm_err(err, errlen, "example %zu: want text, label 0 or 1 and a finite weight > 0", i);
			return SL_EINVAL;
		}
		cls[ex[i].label]++;
	}
	if (!cls[0] || !cls[1]) {
		sl_gm_err(err, errlen, "training needs both classes (%zu benign, %zu injections)", cls[0], cls[1]);
		return SL_EINVAL;
	}
	return 0;
}

int sl_guard_model_train(const struct sl_guard_example *ex, size_t n, const struct sl_guard_train_opts *o,
                         struct sl_guard_model **out, char *err, size_t errlen)
{
	struct sl_guard_train_opts def;
	if (!o) {
		sl_guard_train_opts_default(&def);
		o = &def;
	}
	int rc = sl_gm_params_check(&o->params, err, errlen);
	if (rc == 0 && (o->epochs == 0 || o->epochs > 1000 || !(o->eta > 0) || !(o->l2 >= 0) ||
	                !(o->target_fpr >= 0 && o->target_fpr < 1) || o->cv_folds == 1 || o->cv_folds > 64)) {
		sl_gm_err(err, errlen,
		          "training options: want 1..1000 epochs, eta > 0, l2 >= 0, fpr in [0, 1), "
		          "0 or 2..64 folds");
		rc = SL_EINVAL;
	}
	if (rc == 0)
		rc = check_examples(ex, n, err, errlen);
	if (rc)
		return rc;
	double thr = o->params.threshold;
	if (o->cv_folds && o->target_fpr > 0 && (rc = cv_threshold(ex, n, o, &thr)) != 0) {
		sl_gm_err(err, errlen, "training: out of memory");
		return rc;
	}
	struct sl_guard_model *m = fit(ex, n, NULL, -1, o);
	if (!m) {
		sl_gm_err(err, errlen, "training: out of memory");
		return SL_ENOMEM;
	}
	m->p.threshold = thr;
	*out = m;
	return 0;
}
