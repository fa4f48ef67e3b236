/*
 * host/rng.c: splitmix64 seeding and xoshiro256**.
 */
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>

#include "rng.h"

static _Atomic uint64_t run_seed;

void
host_rng_set_seed(uint64_t seed)
{
	atomic_store(&run_seed, seed);
}

uint64_t
host_rng_seed(void)
{
	return atomic_load(&run_seed);
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
host_rng_init(struct host_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = stream;
	uint64_t k = splitmix64(&x);	/* spread the stream id */
	int i;

	x = seed ^ k;
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;	/* the all-zero state is a fixed point */
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
host_rng_next(struct host_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t
host_rng_below(struct host_rng *r, uint64_t n)
{
	uint64_t x, limit;

	if (n <= 1)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		x = host_rng_next(r);
	while (x >= limit);
	return x % n;
}

uint64_t
host_rng_fresh_seed(void)
{
	uint64_t s;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s) && s != 0)
		return s;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
}
