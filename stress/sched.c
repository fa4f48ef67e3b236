/*
 * stress/sched.c: the harness's side of the deterministic scheduler.
 *
 * The schedule file (--schedule-out, read by --replay) is a text header
 * and the decisions:
 *
 *   uvmstress-schedule 1
 *   build <hash of the uvmstress binary>
 *   options <hash of the run's options>
 *   sched <strategy>
 *   seed <seed>
 *   steps <steps>
 *   hash <trace hash>
 *   decisions <n>
 *   <n little-endian 32-bit thread ids>
 *
 * A decision is recorded wherever more than one thread could run.  The
 * options' hash covers every option that changes what runs (the JSON
 * "config" object less the output options: --json, --job, -q, -v, the
 * swap file's path), so a schedule from another command is refused
 * before the machine boots, as is one from another build.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/clock.h"
#include "host/dsched.h"
#include "host/hsync.h"
#include "host/machine.h"
#include "sched.h"

#define SCHED_MAGIC	"uvmstress-schedule 1"

static uint32_t *replay_dec;		/* --replay's decisions */
static size_t replay_ndec;

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0) {
		h ^= *c++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The running binary's hash: a schedule belongs to one build. */
static uint64_t
build_hash(void)
{
	static uint64_t h;
	unsigned char buf[1 << 16];
	ssize_t n;
	int fd;

	if (h != 0)
		return h;
	h = 0xcbf29ce484222325ull;
	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return h;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = fnv(h, buf, (size_t)n);
	close(fd);
	return h;
}

/* The options that change what runs, hashed. */
static uint64_t
options_hash(const struct stress_config *cfg)
{
	struct stress_config c = *cfg;
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	uint64_t h;
	FILE *f;

	c.json_path = NULL;
	c.job_path = NULL;
	c.quiet = false;
	c.verbose = 0;
	c.seed_given = true;
	c.swap_file = NULL;
	c.keep_swap = false;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return 0;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	options_json(&j, "config", &c);
	json_object_end(&j);
	fclose(f);
	h = fnv(0xcbf29ce484222325ull, buf, len);
	free(buf);
	return h;
}

static int
bad_replay(const char *path, const char *why)
{
	fprintf(stderr, "uvmstress: --replay %s: %s\n", path, why);
	return EXIT_USAGE;
}

/* read_replay: the file's header and decisions, checked. */
static int
read_replay(struct stress_run *r, const char *path)
{
	char line[128], strat[16];
	unsigned long long v[6];
	FILE *f;
	size_t n;
	long at, end;
	int c;

	if ((f = fopen(path, "rb")) == NULL)
		return bad_replay(path, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL ||
	    strcmp(line, SCHED_MAGIC "\n") != 0) {
		fclose(f);
		return bad_replay(path, "not a uvmstress schedule (no \""
		    SCHED_MAGIC "\" header)");
	}
	if (fscanf(f, "build %llx\noptions %llx\nsched %15s\nseed %llu\n"
	    "steps %llu\nhash %llx\ndecisions %llu", &v[0], &v[1], strat,
	    &v[2], &v[3], &v[4], &v[5]) != 7 || (c = fgetc(f)) != '\n') {
		fclose(f);
		return bad_replay(path, "truncated or corrupt header");
	}
	if (v[0] != build_hash()) {
		fclose(f);
		return bad_replay(path, "recorded by another build of "
		    "uvmstress (its binary's hash differs): replay it with the "
		    "binary that wrote it");
	}
	if (dsched_strategy_parse(strat) != r->r_cfg->sched ||
	    v[2] != r->r_cfg->seed || v[1] != r->r_sched_opts) {
		fclose(f);
		snprintf(line, sizeof(line), "recorded with other options "
		    "(--sched %s --seed %llu and the rest): give the command "
		    "that wrote it", strat, v[2]);
		return bad_replay(path, line);
	}
	at = ftell(f);
	fseek(f, 0, SEEK_END);
	end = ftell(f);
	/* divided, not multiplied: a huge count must not wrap around */
	if (at < 0 || end < at || (end - at) % sizeof(uint32_t) != 0 ||
	    (unsigned long long)(end - at) / sizeof(uint32_t) != v[5]) {
		fclose(f);
		return bad_replay(path, "truncated or corrupt: its decisions "
		    "do not fill the file as its header says");
	}
	fseek(f, at, SEEK_SET);
	n = (size_t)v[5];
	if ((replay_dec = malloc(n * sizeof(uint32_t) + 1)) == NULL) {
		fclose(f);
		return bad_replay(path, "out of memory");
	}
	if (fread(replay_dec, sizeof(uint32_t), n, f) != n) {
		fclose(f);
		free(replay_dec);
		replay_dec = NULL;
		return bad_replay(path, "read error");
	}
	fclose(f);
	replay_ndec = n;
	r->r_replay_steps = v[3];
	r->r_replay_hash = v[4];
	return 0;
}

int
stress_sched_begin(struct stress_run *r)
{
	const struct stress_config *cfg = r->r_cfg;
	struct dsched_config dc;
	int error;

	r->r_sched_fd = -1;
	if (cfg->sched == DSCHED_FREE)
		return 0;
	r->r_det = true;
	r->r_sched_build = build_hash();
	r->r_sched_opts = options_hash(cfg);
	if (cfg->replay_path != NULL &&
	    (error = read_replay(r, cfg->replay_path)) != 0)
		return error;
	if (cfg->schedule_out != NULL && (r->r_sched_fd =
	    open(cfg->schedule_out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) < 0) {
		fprintf(stderr, "uvmstress: --schedule-out %s: %s%s\n",
		    cfg->schedule_out, strerror(errno), errno == EEXIST ?
		    " (a new file only: uvmstress never overwrites a file it "
		    "did not make in this run)" : "");
		return EXIT_USAGE;
	}
	memset(&dc, 0, sizeof(dc));
	dc.dc_strategy = (enum dsched_strategy)cfg->sched;
	dc.dc_seed = cfg->seed;
	dc.dc_pct_depth = cfg->pct_depth;
	dc.dc_pct_steps = cfg->pct_steps != 0 ? cfg->pct_steps :
	    cfg->steps != 0 ? cfg->steps : STEPS_DEFAULT;
	dc.dc_max_steps = cfg->steps;
	dc.dc_replay = replay_dec;
	dc.dc_nreplay = replay_ndec;
	dc.dc_record = cfg->schedule_out != NULL;
	r->r_sched_wall0 = host_wall_ns();
	if ((error = dsched_start(&dc)) != 0) {
		fprintf(stderr, "uvmstress: cannot start the deterministic "
		    "scheduler: %s\n", strerror(error));
		return EXIT_USAGE;
	}
	return 0;
}

/* The schedule file's header.  => its length in buf */
static int
schedule_head(const struct stress_run *r, size_t n, char *buf, size_t len)
{
	return snprintf(buf, len, SCHED_MAGIC "\nbuild %llx\noptions %llx\n"
	    "sched %s\nseed %llu\nsteps %llu\nhash %016llx\ndecisions %zu\n",
	    (unsigned long long)r->r_sched_build,
	    (unsigned long long)r->r_sched_opts,
	    dsched_strategy_name(r->r_ds.ds_strategy),
	    (unsigned long long)r->r_cfg->seed,
	    (unsigned long long)r->r_ds.ds_steps,
	    (unsigned long long)r->r_ds.ds_hash, n);
}

void
stress_sched_fatal(struct stress_run *r)
{
	const uint32_t *dec;
	char head[512];
	size_t n;
	int len;

	if (r == NULL || !r->r_det || !dsched_active() || r->r_ds_taken)
		return;
	dsched_get_stats(&r->r_ds);
	r->r_ds_taken = true;
	r->r_sched_wall_ns = host_wall_ns() - r->r_sched_wall0;
	if (r->r_sched_fd < 0)
		return;
	n = dsched_decisions(&dec);
	len = schedule_head(r, n, head, sizeof(head));
	if (write(r->r_sched_fd, head, (size_t)len) != len ||
	    write(r->r_sched_fd, dec, n * sizeof(*dec)) !=
	    (ssize_t)(n * sizeof(*dec)))
		(void)!write(STDERR_FILENO, "uvmstress: --schedule-out: "
		    "write error\n", 38);
	close(r->r_sched_fd);
	r->r_sched_fd = -1;
}

static void
write_schedule(struct stress_run *r)
{
	const uint32_t *dec;
	size_t n = dsched_decisions(&dec);
	char head[512];
	int len;
	FILE *f;

	if (r->r_sched_fd < 0)
		return;
	len = schedule_head(r, n, head, sizeof(head));
	if ((f = fdopen(r->r_sched_fd, "wb")) == NULL) {
		close(r->r_sched_fd);
		fprintf(stderr, "uvmstress: --schedule-out %s: %s\n",
		    r->r_cfg->schedule_out, strerror(errno));
	} else if (fwrite(head, 1, (size_t)len, f) != (size_t)len ||
	    fwrite(dec, sizeof(*dec), n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "uvmstress: --schedule-out %s: write error\n",
		    r->r_cfg->schedule_out);
	}
	r->r_sched_fd = -1;
}

void
stress_sched_end(struct stress_run *r)
{
	if (!r->r_det || r->r_ds_taken)
		return;
	dsched_get_stats(&r->r_ds);
	r->r_ds_taken = true;
	r->r_sched_wall_ns = host_wall_ns() - r->r_sched_wall0;
	dsched_stop();
	write_schedule(r);
	free(replay_dec);
	replay_dec = NULL;
}

void
stress_sched_sleep_ms(unsigned int ms)
{
	struct timespec ts;

	if (dsched_self()) {
		hs_sleep_until(host_real_ns() + (uint64_t)ms * 1000000ull);
		return;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000l;
	nanosleep(&ts, NULL);
}

const char *
stress_sched_diverged(const struct stress_run *r, char *buf, size_t len)
{
	if (!r->r_det || !r->r_ds_taken || r->r_cfg->replay_path == NULL)
		return NULL;
	if (r->r_ds.ds_diverged_step != 0)
		snprintf(buf, len, "the replay of %s diverged at step %llu: %s",
		    r->r_cfg->replay_path,
		    (unsigned long long)r->r_ds.ds_diverged_step,
		    r->r_ds.ds_diverged);
	else if (r->r_ds.ds_hash != r->r_replay_hash ||
	    r->r_ds.ds_steps != r->r_replay_steps)
		snprintf(buf, len, "the replay of %s followed every decision "
		    "but ran another trace (hash %016llx after %llu steps, "
		    "recorded %016llx after %llu)", r->r_cfg->replay_path,
		    (unsigned long long)r->r_ds.ds_hash,
		    (unsigned long long)r->r_ds.ds_steps,
		    (unsigned long long)r->r_replay_hash,
		    (unsigned long long)r->r_replay_steps);
	else
		return NULL;
	return buf;
}

void
stress_sched_report(FILE *f, const struct stress_run *r)
{
	const struct dsched_stats *st = &r->r_ds;

	if (!r->r_det || !r->r_ds_taken)
		return;
	fprintf(f, "schedule: %s, %llu steps, %llu switches, %llu blocks, "
	    "%llu timeouts, %.3f virtual s in %.3f wall s, %d threads, trace "
	    "%016llx%s\n", dsched_strategy_name(st->ds_strategy),
	    (unsigned long long)st->ds_steps,
	    (unsigned long long)st->ds_switches,
	    (unsigned long long)st->ds_blocks,
	    (unsigned long long)st->ds_timeouts,
	    (double)st->ds_vnow_ns / 1e9, (double)r->r_sched_wall_ns / 1e9,
	    st->ds_entities,
	    (unsigned long long)st->ds_hash,
	    r->r_cfg->timeout_given ? " (-t: a wall-clock end, not "
	    "reproducible)" : __atomic_load_n(&r->r_signal,
	    __ATOMIC_ACQUIRE) != 0 ? " (interrupted: its end is not "
	    "reproducible)" : "");
}

void
stress_sched_json(struct json *j, const struct stress_run *r)
{
	const struct dsched_stats *st = &r->r_ds;

	json_object_begin(j, "schedule");
	json_string(j, "sched", dsched_strategy_name(r->r_cfg->sched));
	if (r->r_det && r->r_ds_taken) {
		json_u64(j, "steps", st->ds_steps);
		json_u64(j, "switches", st->ds_switches);
		json_u64(j, "blocks", st->ds_blocks);
		json_u64(j, "timeouts", st->ds_timeouts);
		json_u64(j, "idle_jumps", st->ds_idle_jumps);
		json_u64(j, "virtual_ns", st->ds_vnow_ns);
		/* the only wall-clock time of a deterministic run's report */
		json_u64(j, "wall_ns", r->r_sched_wall_ns);
		json_i64(j, "threads", st->ds_entities);
		json_stringf(j, "trace_hash", "%016llx",
		    (unsigned long long)st->ds_hash);
		json_u64(j, "steps_limit_reached_at", st->ds_exhausted_step);
		json_bool(j, "reproducible", !r->r_cfg->timeout_given &&
		    __atomic_load_n(&r->r_signal, __ATOMIC_ACQUIRE) == 0);
		if (r->r_cfg->replay_path != NULL)
			json_u64(j, "replay_diverged_step",
			    st->ds_diverged_step);
	}
	json_object_end(j);
}
