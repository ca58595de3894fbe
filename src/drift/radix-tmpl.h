/* radix-tmpl.h: the MSD radix sort of unsigned keys that univariate_sort.c runs on 64-bit keys
 * (doubles' bit patterns) and on 32-bit ones (decimal codes, numcode-int.h). Included once per
 * key type with SL__KEY (the type) and SL__K(f) (the name f for that type) defined; it undefines
 * both. No include guard, on purpose. The includer defines DIGIT, NBUCK and SMALL.
 * Invariants: keys are sorted ascending as unsigned integers; every pass takes at least 6 bits
 * (or all the differing ones), so the depth is at most 11 and the stack below 100 KiB. */

/* Insertion sort of keys; cheap on the nearly sorted runs the radix passes leave. */
static void SL__K(insertion_keys)(SL__KEY *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		SL__KEY x = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* The bits where some key of a[0..n) differs from a[0]. */
static uint64_t SL__K(differing)(const SL__KEY *a, size_t n)
{
	uint64_t d = 0;
	for (size_t i = 1; i < n; i++)
		d |= (uint64_t)(a[i] ^ a[0]);
	return d;
}

/* One MSD pass: a[0..n) moved to t by the digit of the DIGIT (or, for a small n, about log2 n)
 * bits just below the keys' common prefix (diff: their differing bits, not 0); end[d] is then
 * the end of digit d's bucket in t. Returns the number of buckets. */
static size_t SL__K(split)(const SL__KEY *a, SL__KEY *t, size_t n, uint64_t diff, uint32_t *end)
{
	unsigned hb = 63u - (unsigned)__builtin_clzll(diff), bits = 64u - (unsigned)__builtin_clzll(n);
	bits = bits < 6 ? 6 : bits > DIGIT ? DIGIT : bits;
	bits = bits > hb + 1 ? hb + 1 : bits;
	unsigned shift = hb + 1 - bits;
	size_t nb = (size_t)1 << bits, mask = nb - 1;
	memset(end, 0, nb * sizeof *end);
	for (size_t i = 0; i < n; i++)
		end[(a[i] >> shift) & mask]++;
	uint32_t sum = 0;
	for (size_t d = 0; d < nb; d++) {
		uint32_t c = end[d];
		end[d] = sum, sum += c;
	}
	for (size_t i = 0; i < n; i++)
		t[end[(a[i] >> shift) & mask]++] = a[i];
	return nb;
}

/* Sorts the keys a[0..n) (n > SMALL), t[0..n) scratch; returns the buffer that holds them
 * sorted. */
static SL__KEY *SL__K(sort_keys)(SL__KEY *a, SL__KEY *t, size_t n)
{
	uint64_t diff = SL__K(differing)(a, n);
	if (!diff)
		return a;
	uint32_t end[NBUCK];
	size_t nb = SL__K(split)(a, t, n, diff, end);
	for (size_t d = 0, start = 0; d < nb; start = end[d++]) {
		size_t m = end[d] - start;
		if (m <= SMALL)
			continue; /* the insertion below orders it */
		SL__KEY *r = SL__K(sort_keys)(t + start, a + start, m);
		if (r != t + start)
			memcpy(t + start, r, m * sizeof *t);
	}
	SL__K(insertion_keys)(t, n); /* only inside the small buckets is anything out of order */
	return t;
}

#undef SL__KEY
#undef SL__K
