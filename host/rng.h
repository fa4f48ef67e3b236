/*
 * host/rng.h: seeded pseudo-random streams.
 *
 * One run seed derives every stream: stream k of seed s is seeded with
 * splitmix64(s ^ mix(k)), so streams are independent and a thread's
 * sequence depends only on (seed, its stream id), never on scheduling.
 * The generator is xoshiro256**.
 */
#ifndef HOST_RNG_H
#define HOST_RNG_H

#include "param.h"

struct host_rng {
	uint64_t	s[4];
};

/* The run seed (set once at boot; 0 until then). */
void host_rng_set_seed(uint64_t seed);
uint64_t host_rng_seed(void);

/* host_rng_init: stream `stream` of `seed`. */
void host_rng_init(struct host_rng *r, uint64_t seed, uint64_t stream);
uint64_t host_rng_next(struct host_rng *r);
/* uniform in [0, n), n > 0, without modulo bias */
uint64_t host_rng_below(struct host_rng *r, uint64_t n);

/* A seed from the host's entropy, for runs without --seed. */
uint64_t host_rng_fresh_seed(void);

#endif /* HOST_RNG_H */
