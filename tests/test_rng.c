/*
 * tests/test_rng.c: host/rng.c, the seeded random streams.
 *
 * A seed must replay: the generator and the derivation of streams are
 * pinned by reference vectors (xoshiro256** from its published state
 * {1, 2, 3, 4}; stream derivation computed independently), so a change
 * that would silently alter every recorded seed fails here.
 */
#include "host/rng.h"

#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define HANG_ALARM_S	60
#define RG_N		64
#define RG_DRAWS	100000

/* local prototypes */
static void rg_setup(void);
static void fill(uint64_t seed, uint64_t stream, uint64_t *out, int n);

static void
fill(uint64_t seed, uint64_t stream, uint64_t *out, int n)
{
	struct host_rng r;
	int i;

	host_rng_init(&r, seed, stream);
	for (i = 0; i < n; i++)
		out[i] = host_rng_next(&r);
}

/* A hang ends the test by SIGALRM (see tests/test_mutex.c). */
static void
rg_setup(void)
{
	alarm(HANG_ALARM_S);
}

TestSuite(rng, .init = rg_setup);

Test(rng, xoshiro256starstar_reference)
{
	struct host_rng r = { .s = { 1, 2, 3, 4 } };

	cr_assert_eq(host_rng_next(&r), 11520ull);
	cr_assert_eq(host_rng_next(&r), 0ull);
	cr_assert_eq(host_rng_next(&r), 1509978240ull);
	cr_assert_eq(host_rng_next(&r), 1215971899390074240ull);
}

Test(rng, stream_derivation_reference)
{
	uint64_t v[3];

	/* stream k of seed s: splitmix64 state s ^ splitmix64(k). */
	fill(42, 0, v, 3);
	cr_assert_eq(v[0], 0x1ff785474f113b15ull);
	cr_assert_eq(v[1], 0x4b7867ceff5d8325ull);
	cr_assert_eq(v[2], 0x90ca7a95a9909966ull);
	fill(0x0123456789abcdefull, 7, v, 3);
	cr_assert_eq(v[0], 0xe1f710a33c2d1a55ull);
	cr_assert_eq(v[1], 0xf78303fda92cf317ull);
	cr_assert_eq(v[2], 0xab5a83c79d997aeeull);
}

Test(rng, same_seed_and_stream_replay)
{
	uint64_t a[RG_N], b[RG_N];

	fill(12345, 3, a, RG_N);
	fill(12345, 3, b, RG_N);
	cr_assert_arr_eq(a, b, sizeof(a));
}

Test(rng, streams_and_seeds_differ)
{
	uint64_t a[RG_N], b[RG_N], c[RG_N];
	int i, same_ab = 0, same_ac = 0;

	fill(12345, 0, a, RG_N);
	fill(12345, 1, b, RG_N);
	fill(12346, 0, c, RG_N);
	for (i = 0; i < RG_N; i++) {
		same_ab += a[i] == b[i];
		same_ac += a[i] == c[i];
	}
	cr_assert_eq(same_ab, 0, "streams 0 and 1 share %d values", same_ab);
	cr_assert_eq(same_ac, 0, "seeds 12345 and 12346 share %d values",
	    same_ac);
	/* Seed 0, stream 0 is no degenerate state either. */
	fill(0, 0, a, RG_N);
	for (i = 1; i < RG_N; i++)
		cr_assert_neq(a[i], a[i - 1]);
}

Test(rng, below_stays_in_range)
{
	static const uint64_t ns[] = {
		1, 2, 3, 7, 10, 1000, 1ull << 32, (1ull << 63) + 1,
		UINT64_MAX - 1, UINT64_MAX,
	};
	struct host_rng r;
	uint64_t x, max;
	size_t k;
	int i;

	host_rng_init(&r, 99, 0);
	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		max = 0;
		for (i = 0; i < 2000; i++) {
			x = host_rng_below(&r, ns[k]);
			cr_assert_lt(x, ns[k], "below(%llu) gave %llu",
			    (unsigned long long)ns[k], (unsigned long long)x);
			if (x > max)
				max = x;
		}
		if (ns[k] > 1 && ns[k] <= 1000)
			cr_assert_eq(max, ns[k] - 1, "below(%llu) never hit "
			    "the top", (unsigned long long)ns[k]);
	}
	cr_assert_eq(host_rng_below(&r, 1), 0);
}

Test(rng, below_is_uniform)
{
	struct host_rng r;
	unsigned cnt[10] = { 0 };
	double chi = 0, e = RG_DRAWS / 10.0;
	int i;

	host_rng_init(&r, 7, 1);
	for (i = 0; i < RG_DRAWS; i++)
		cnt[host_rng_below(&r, 10)]++;
	for (i = 0; i < 10; i++)
		chi += (cnt[i] - e) * (cnt[i] - e) / e;
	/* 9 degrees of freedom: p = 0.001 at 27.9; loose bound. */
	cr_assert_lt(chi, 40.0, "chi-square %.1f", chi);
}

Test(rng, below_has_no_modulo_bias)
{
	/*
	 * n = 3 * 2^62: plain x % n would put half the draws in the lowest
	 * third.  Rejection sampling gives a third to each.
	 */
	const uint64_t n = 3ull << 62;
	struct host_rng r;
	unsigned cnt[3] = { 0 };
	int i;

	host_rng_init(&r, 11, 2);
	for (i = 0; i < 30000; i++)
		cnt[host_rng_below(&r, n) >> 62]++;
	for (i = 0; i < 3; i++)
		cr_assert(cnt[i] > 9000 && cnt[i] < 11000,
		    "third %d got %u of 30000", i, cnt[i]);
}

Test(rng, run_seed_set_and_get)
{
	cr_assert_eq(host_rng_seed(), 0, "the run seed is 0 until set");
	host_rng_set_seed(0xfeedfacecafebeefull);
	cr_assert_eq(host_rng_seed(), 0xfeedfacecafebeefull);
	host_rng_set_seed(1);
	cr_assert_eq(host_rng_seed(), 1);
}

Test(rng, fresh_seeds_vary)
{
	uint64_t a = host_rng_fresh_seed(), b = host_rng_fresh_seed();

	cr_assert_neq(a, 0);
	cr_assert_neq(b, 0);
	cr_assert_neq(a, b);
}
