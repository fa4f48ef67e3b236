/*
 * tests/test_witness.c: host/witness.c (lock classes, the held-lock stack
 * and the lock-order checker), driven through kmutex and krwlock.
 *
 * Criterion forks every test, so each starts with no classes and no
 * learned order.  The fixture turns the checker on (release builds have
 * it off) and installs a handler that records reports instead of
 * panicking.  Acquisition lines are captured as `int l = __LINE__; op;` on
 * one line, so that the report's sites can be checked exactly.
 */
#include "host/kassert.h"
#include "host/mutex.h"
#include "host/rwlock.h"
#include "host/spl.h"
#include "host/thread.h"
#include "host/witness.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#define WT_NTHREADS	4
#define WT_LOOPS	500

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char rec_report[1024];		/* [rec_lock] the first report */
static int rec_n;			/* [rec_lock] reports seen */

struct wt_pair {
	kmutex_t	*wp_first;
	kmutex_t	*wp_second;
};

/* local prototypes */
static void record_handler(const char *report);
static void wt_setup(void);
static int nreports(void);
static bool has_site(const char *report, int line);
static void mtx(kmutex_t *m, const char *name);
static void *pair_worker(void *arg);

static void
record_handler(const char *report)
{
	pthread_mutex_lock(&rec_lock);
	if (rec_n++ == 0)
		snprintf(rec_report, sizeof(rec_report), "%s", report);
	pthread_mutex_unlock(&rec_lock);
}

static void
wt_setup(void)
{
	witness_enable(true);
	witness_set_handler(record_handler);
}

static int
nreports(void)
{
	int n;

	pthread_mutex_lock(&rec_lock);
	n = rec_n;
	pthread_mutex_unlock(&rec_lock);
	return n;
}

/* Does the report name this file at `line` (exactly, not a prefix)? */
static bool
has_site(const char *report, int line)
{
	char site[64];
	const char *p = report;
	size_t len;

	len = (size_t)snprintf(site, sizeof(site), "test_witness.c:%d", line);
	while ((p = strstr(p, site)) != NULL) {
		p += len;
		if (*p < '0' || *p > '9')
			return true;
	}
	return false;
}

static void
mtx(kmutex_t *m, const char *name)
{
	mutex_init_class(m, MUTEX_DEFAULT, IPL_NONE, name);
}

static void *
pair_worker(void *arg)
{
	struct wt_pair *wp = arg;
	int i;

	for (i = 0; i < WT_LOOPS; i++) {
		mutex_enter(wp->wp_first);
		mutex_enter(wp->wp_second);
		mutex_exit(wp->wp_second);
		mutex_exit(wp->wp_first);
	}
	return NULL;
}

TestSuite(witness, .init = wt_setup);

Test(witness, ab_ba_inversion_reported)
{
	kmutex_t a, b;

	mtx(&a, "wt_alpha");
	mtx(&b, "wt_beta");
	int la = __LINE__; mutex_enter(&a);
	int lb = __LINE__; mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	cr_assert_eq(nreports(), 0, "a consistent first order was reported");

	int lb2 = __LINE__; mutex_enter(&b);
	int la2 = __LINE__; mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);

	cr_assert_eq(nreports(), 1);
	cr_assert_eq(witness_inversions(), 1);
	cr_assert(strstr(rec_report, "lock order reversal") != NULL, "%s",
	    rec_report);
	cr_assert(strstr(rec_report, "\"wt_alpha\"") != NULL, "%s", rec_report);
	cr_assert(strstr(rec_report, "\"wt_beta\"") != NULL, "%s", rec_report);
	/* The site of the reversed acquire, and where beta was held. */
	cr_assert(has_site(rec_report, la2), "no line %d: %s", la2, rec_report);
	cr_assert(has_site(rec_report, lb2), "no line %d: %s", lb2, rec_report);
	/* The site that established alpha -> beta, and alpha's there. */
	cr_assert(has_site(rec_report, lb), "no line %d: %s", lb, rec_report);
	cr_assert(has_site(rec_report, la), "no line %d: %s", la, rec_report);

	/* The reversed edge was not learned: doing it again reports again. */
	mutex_enter(&b);
	mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 2);
	cr_assert_eq(witness_inversions(), 2);
}

Test(witness, consistent_order_not_reported)
{
	kmutex_t a, b, c;
	struct wt_pair ab = { &a, &b }, bc = { &b, &c };
	pthread_t t[WT_NTHREADS];
	int i;

	mtx(&a, "wt_c_a");
	mtx(&b, "wt_c_b");
	mtx(&c, "wt_c_c");
	for (i = 0; i < WT_NTHREADS; i++)
		cr_assert_eq(host_thread_create(&t[i], "wt_worker",
		    pair_worker, i % 2 ? &ab : &bc), 0);
	for (i = 0; i < WT_LOOPS; i++) {
		mutex_enter(&a);
		mutex_enter(&b);
		mutex_enter(&c);
		mutex_exit(&c);
		mutex_exit(&b);
		mutex_exit(&a);
	}
	for (i = 0; i < WT_NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(nreports(), 0, "%s", rec_report);
	cr_assert_eq(witness_inversions(), 0);
}

Test(witness, transitive_inversion_reported)
{
	kmutex_t a, b, c;

	mtx(&a, "wt_t_a");
	mtx(&b, "wt_t_b");
	mtx(&c, "wt_t_c");
	mutex_enter(&a);
	int lab = __LINE__; mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	mutex_enter(&b);
	int lbc = __LINE__; mutex_enter(&c);
	mutex_exit(&c);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 0);

	/* a -> b -> c is known; c then a reverses it without a c->a edge. */
	int lc = __LINE__; mutex_enter(&c);
	int la = __LINE__; mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&c);

	cr_assert_eq(nreports(), 1);
	cr_assert(strstr(rec_report, "\"wt_t_a\"") != NULL, "%s", rec_report);
	cr_assert(strstr(rec_report, "\"wt_t_c\"") != NULL, "%s", rec_report);
	cr_assert(strstr(rec_report, "\"wt_t_b\"") != NULL,
	    "the path through b is not shown: %s", rec_report);
	cr_assert(has_site(rec_report, la), "no line %d: %s", la, rec_report);
	cr_assert(has_site(rec_report, lc), "no line %d: %s", lc, rec_report);
	cr_assert(has_site(rec_report, lab), "no line %d: %s", lab, rec_report);
	cr_assert(has_site(rec_report, lbc), "no line %d: %s", lbc, rec_report);
}

Test(witness, trylock_reverse_not_reported)
{
	kmutex_t a, b;
	krwlock_t r;

	mtx(&a, "wt_try_a");
	mtx(&b, "wt_try_b");
	rw_init_class(&r, "wt_try_rw");

	/* A try in "b before a" order is neither checked nor learned ... */
	mutex_enter(&b);
	cr_assert_eq(mutex_tryenter(&a), 1);
	mutex_exit(&a);
	mutex_exit(&b);
	/* ... so the blocking a -> b afterwards is no reversal. */
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	cr_assert_eq(nreports(), 0, "%s", rec_report);

	/* Now a -> b is known: a try in reverse is still allowed. */
	mutex_enter(&b);
	cr_assert_eq(mutex_tryenter(&a), 1);
	mutex_exit(&a);
	mutex_exit(&b);

	/* The same for rwlocks, both spellings of a try. */
	mutex_enter(&a);
	rw_enter(&r, RW_READER);
	rw_exit(&r);
	mutex_exit(&a);
	rw_enter(&r, RW_WRITER);
	cr_assert_eq(mutex_tryenter(&a), 1);
	mutex_exit(&a);
	rw_exit(&r);
	mutex_enter(&b);
	cr_assert_eq(rw_tryenter(&r, RW_READER), 1);
	rw_exit(&r);
	cr_assert_eq(rw_enter(&r, RW_WRITE | RW_NOSLEEP), 0);
	rw_exit(&r);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 0, "%s", rec_report);
	cr_assert_eq(witness_inversions(), 0);
}

Test(witness, same_class_nesting_not_reported)
{
	kmutex_t o1, o2, x;

	mtx(&o1, "wt_vmobj");
	mtx(&o2, "wt_vmobj");
	mtx(&x, "wt_pageq");
	cr_assert_eq(o1.mtx_lo.lo_class, o2.mtx_lo.lo_class);

	mutex_enter(&o1);
	mutex_enter(&o2);
	mutex_exit(&o2);
	mutex_exit(&o1);
	mutex_enter(&o2);
	mutex_enter(&o1);
	mutex_enter(&x);	/* vmobj -> pageq, from both objects */
	mutex_exit(&x);
	mutex_exit(&o1);
	mutex_exit(&o2);
	cr_assert_eq(nreports(), 0, "%s", rec_report);

	/* The class still takes part in ordering against other classes. */
	mutex_enter(&x);
	mutex_enter(&o2);
	mutex_exit(&o2);
	mutex_exit(&x);
	cr_assert_eq(nreports(), 1);
	cr_assert(strstr(rec_report, "\"wt_vmobj\"") != NULL, "%s", rec_report);
	cr_assert(strstr(rec_report, "\"wt_pageq\"") != NULL, "%s", rec_report);
}

Test(witness, rwlocks_participate)
{
	krwlock_t map, amap;
	kmutex_t obj;

	rw_init_class(&map, "wt_map");
	rw_init_class(&amap, "wt_amap");
	mtx(&obj, "wt_obj");

	/* map (read) -> amap (write) -> obj */
	int lmap1 = __LINE__; rw_enter(&map, RW_READER);
	rw_enter(&amap, RW_WRITER);
	int lobj1 = __LINE__; mutex_enter(&obj);
	mutex_exit(&obj);
	rw_exit(&amap);
	rw_exit(&map);
	cr_assert_eq(nreports(), 0, "%s", rec_report);

	/*
	 * obj then map, in either mode, reverses map -> obj (learned
	 * directly: obj was wanted while map and amap were both held).
	 */
	int lobj = __LINE__; mutex_enter(&obj);
	int lmap = __LINE__; rw_enter(&map, RW_WRITER);
	rw_exit(&map);
	mutex_exit(&obj);
	cr_assert_eq(nreports(), 1);
	cr_assert(strstr(rec_report, "\"wt_map\"") != NULL, "%s", rec_report);
	cr_assert(strstr(rec_report, "\"wt_obj\"") != NULL, "%s", rec_report);
	cr_assert(has_site(rec_report, lmap), "no line %d: %s", lmap,
	    rec_report);
	cr_assert(has_site(rec_report, lobj), "no line %d: %s", lobj,
	    rec_report);
	cr_assert(has_site(rec_report, lobj1), "no line %d: %s", lobj1,
	    rec_report);
	cr_assert(has_site(rec_report, lmap1), "no line %d: %s", lmap1,
	    rec_report);

	/* rwlock against rwlock, taken shared. */
	rw_enter(&amap, RW_READER);
	rw_enter(&map, RW_READER);
	rw_exit(&map);
	rw_exit(&amap);
	cr_assert_eq(nreports(), 2);
}

Test(witness, held_stack)
{
	kmutex_t a;
	krwlock_t r;

	mtx(&a, "wt_h_a");
	rw_init_class(&r, "wt_h_rw");
	cr_assert_eq(witness_nheld(), 0);
	cr_assert(!witness_held(&a.mtx_lo, 0));

	mutex_enter(&a);
	cr_assert(witness_held(&a.mtx_lo, 0));
	cr_assert(witness_held(&a.mtx_lo, LM_EXCL));
	cr_assert(!witness_held(&a.mtx_lo, LM_SHARED));
	cr_assert(!witness_held(&r.rw_lo, 0));
	cr_assert_eq(witness_nheld(), 1);

	rw_enter(&r, RW_WRITER);
	cr_assert(witness_held(&r.rw_lo, LM_EXCL));
	cr_assert_eq(witness_nheld(), 2);
	rw_downgrade(&r);
	cr_assert(witness_held(&r.rw_lo, LM_SHARED));
	cr_assert(!witness_held(&r.rw_lo, LM_EXCL));
	cr_assert(rw_read_held(&r));
	cr_assert_eq(rw_tryupgrade(&r), 1);
	cr_assert(witness_held(&r.rw_lo, LM_EXCL));
	rw_exit(&r);
	cr_assert(!witness_held(&r.rw_lo, 0));

	/* The stack is another thread's business only in dumps. */
	struct host_thread *ht = host_thread_self();
	cr_assert_eq(ht->ht_nheld, 1);
	cr_assert_eq(ht->ht_held[0].hl_lock, &a.mtx_lo);
	cr_assert_eq(ht->ht_held[0].hl_mode, LM_EXCL);
	cr_assert(strstr(ht->ht_held[0].hl_file, "test_witness.c") != NULL);

	mutex_exit(&a);
	cr_assert(!witness_held(&a.mtx_lo, 0));
	cr_assert_eq(witness_nheld(), 0);
}

Test(witness, held_stack_is_kept_with_checker_off)
{
	kmutex_t a;

	witness_enable(false);
	mtx(&a, "wt_off");
	mutex_enter(&a);
	cr_assert(witness_held(&a.mtx_lo, LM_EXCL));
	cr_assert_eq(witness_nheld(), 1);
	mutex_exit(&a);
	cr_assert_eq(witness_nheld(), 0);
}

Test(witness, out_of_order_release)
{
	kmutex_t a, b, c;

	mtx(&a, "wt_o_a");
	mtx(&b, "wt_o_b");
	mtx(&c, "wt_o_c");
	mutex_enter(&a);
	int lb = __LINE__; mutex_enter(&b);
	int lc = __LINE__; mutex_enter(&c);
	mutex_exit(&a);			/* the bottom one first */
	cr_assert_eq(witness_nheld(), 2);
	cr_assert(!witness_held(&a.mtx_lo, 0));
	cr_assert(witness_held(&b.mtx_lo, 0));
	cr_assert(witness_held(&c.mtx_lo, 0));

	/* The survivors kept their own acquisition sites. */
	struct host_thread *ht = host_thread_self();
	cr_assert_eq(ht->ht_held[0].hl_lock, &b.mtx_lo);
	cr_assert_eq(ht->ht_held[0].hl_line, lb);
	cr_assert_eq(ht->ht_held[1].hl_lock, &c.mtx_lo);
	cr_assert_eq(ht->ht_held[1].hl_line, lc);

	mutex_exit(&c);			/* then the top */
	cr_assert_eq(witness_nheld(), 1);
	cr_assert(witness_held(&b.mtx_lo, 0));
	mutex_exit(&b);
	cr_assert_eq(witness_nheld(), 0);
}

Test(witness, mode_changed_on_the_right_entry)
{
	struct lock_object x, y;

	lock_object_init(&x, LK_RWLOCK, "wt_m_x", __FILE__, __LINE__);
	lock_object_init(&y, LK_RWLOCK, "wt_m_y", __FILE__, __LINE__);
	witness_acquired(&x, LM_EXCL, __FILE__, __LINE__);
	witness_acquired(&y, LM_EXCL, __FILE__, __LINE__);
	witness_mode_changed(&x, LM_SHARED);
	cr_assert(witness_held(&x, LM_SHARED));
	cr_assert(witness_held(&y, LM_EXCL));
	cr_assert(!witness_held(&y, LM_SHARED));
	witness_released(&x, __FILE__, __LINE__);
	witness_released(&y, __FILE__, __LINE__);
	cr_assert_eq(witness_nheld(), 0);
}

Test(witness, release_unheld_panics, .signal = SIGABRT)
{
	struct lock_object held, other;

	cr_redirect_stderr();
	lock_object_init(&held, LK_MUTEX, "wt_u_held", __FILE__, __LINE__);
	lock_object_init(&other, LK_MUTEX, "wt_u_other", __FILE__, __LINE__);
	witness_acquired(&held, LM_EXCL, __FILE__, __LINE__);
	witness_released(&other, __FILE__, __LINE__);
}

Test(witness, release_on_empty_stack_panics, .signal = SIGABRT)
{
	struct lock_object lo;

	cr_redirect_stderr();
	lock_object_init(&lo, LK_MUTEX, "wt_u_empty", __FILE__, __LINE__);
	witness_released(&lo, __FILE__, __LINE__);
}

Test(witness, held_stack_overflow_panics, .signal = SIGABRT)
{
	static struct lock_object lo[HOST_HELD_MAX + 1];
	int i;

	cr_redirect_stderr();
	for (i = 0; i < HOST_HELD_MAX; i++) {
		lock_object_init(&lo[i], LK_MUTEX, "wt_many", __FILE__,
		    __LINE__);
		witness_acquired(&lo[i], LM_EXCL, __FILE__, __LINE__);
	}
	cr_assert_eq(witness_nheld(), HOST_HELD_MAX);
	lock_object_init(&lo[i], LK_MUTEX, "wt_many", __FILE__, __LINE__);
	witness_acquired(&lo[i], LM_EXCL, __FILE__, __LINE__);
}

Test(witness, default_handler_panics, .signal = SIGABRT)
{
	kmutex_t a, b;

	cr_redirect_stderr();
	witness_set_handler(NULL);
	mtx(&a, "wt_d_a");
	mtx(&b, "wt_d_b");
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	mutex_enter(&b);
	mutex_enter(&a);	/* panics here */
}

Test(witness, class_interning)
{
	struct lock_object a1, a2, s1, s2, s3;
	char name[32];

	lock_object_init(&a1, LK_MUTEX, "wt_i_name", __FILE__, __LINE__);
	/* The name is copied: a class survives its caller's buffer. */
	snprintf(name, sizeof(name), "wt_i_name");
	lock_object_init(&a2, LK_RWLOCK, name, __FILE__, __LINE__);
	memset(name, 0, sizeof(name));
	cr_assert_neq(a1.lo_class, 0);
	cr_assert_eq(a1.lo_class, a2.lo_class);
	cr_assert_str_eq(a2.lo_name, "wt_i_name");
	cr_assert_str_eq(witness_class_name(a1.lo_class), "wt_i_name");
	cr_assert_eq(a1.lo_kind, LK_MUTEX);
	cr_assert_eq(a2.lo_kind, LK_RWLOCK);

	/* Unnamed locks: one class per init site. */
	lock_object_init(&s1, LK_MUTEX, NULL, "vm/uvm_x.c", 10);
	lock_object_init(&s2, LK_MUTEX, NULL, "vm/uvm_x.c", 10);
	lock_object_init(&s3, LK_MUTEX, NULL, "vm/uvm_x.c", 11);
	cr_assert_str_eq(s1.lo_name, "vm/uvm_x.c:10");
	cr_assert_eq(s1.lo_class, s2.lo_class);
	cr_assert_neq(s1.lo_class, s3.lo_class);
	cr_assert_neq(s1.lo_class, a1.lo_class);

	/* mutex_init() without a name takes its caller's site. */
	kmutex_t m;
	int lm = __LINE__; mutex_init(&m, MUTEX_DEFAULT, IPL_NONE);
	snprintf(name, sizeof(name), ":%d", lm);
	cr_assert(strstr(m.mtx_lo.lo_name, "test_witness.c") != NULL &&
	    strstr(m.mtx_lo.lo_name, name) != NULL, "%s", m.mtx_lo.lo_name);

	cr_assert_null(witness_class_name(0));
	cr_assert_null(witness_class_name(WITNESS_MAXCLASS - 1));
}

Test(witness, too_many_classes_panics, .signal = SIGABRT)
{
	struct lock_object lo;
	unsigned prev = 0;
	char name[32];
	int i;

	cr_redirect_stderr();
	/* Ids 1..WITNESS_MAXCLASS-1 exist; the next new name panics. */
	for (i = 0; i <= WITNESS_MAXCLASS; i++) {
		snprintf(name, sizeof(name), "wt_class_%d", i);
		lock_object_init(&lo, LK_MUTEX, name, __FILE__, __LINE__);
		cr_assert_gt(lo.lo_class, prev);
		cr_assert_lt(lo.lo_class, WITNESS_MAXCLASS);
		cr_assert_str_eq(witness_class_name(lo.lo_class), name);
		prev = lo.lo_class;
	}
	cr_assert_fail("%d classes made without a panic", i);
}

Test(witness, disabled_checks_and_learns_nothing)
{
	kmutex_t a, b;

	mtx(&a, "wt_off_a");
	mtx(&b, "wt_off_b");
	witness_enable(false);
	cr_assert(!witness_enabled());
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	mutex_enter(&b);
	mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 0);

	/* Nothing was learned while off: b -> a is a first order. */
	witness_enable(true);
	mutex_enter(&b);
	mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 0, "%s", rec_report);
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	cr_assert_eq(nreports(), 1);
}

Test(witness, reset_forgets_order_keeps_classes)
{
	kmutex_t a, b;
	unsigned ca;

	mtx(&a, "wt_r_a");
	mtx(&b, "wt_r_b");
	ca = a.mtx_lo.lo_class;
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	witness_reset();
	mutex_enter(&b);
	mutex_enter(&a);
	mutex_exit(&a);
	mutex_exit(&b);
	cr_assert_eq(nreports(), 0, "%s", rec_report);
	cr_assert_str_eq(witness_class_name(ca), "wt_r_a");

	/* And the order learned after the reset holds. */
	mutex_enter(&a);
	mutex_enter(&b);
	mutex_exit(&b);
	mutex_exit(&a);
	cr_assert_eq(nreports(), 1);
}

Test(witness, concurrent_learning)
{
	kmutex_t first[WT_NTHREADS], second[WT_NTHREADS], top;
	struct wt_pair wp[WT_NTHREADS];
	pthread_t t[WT_NTHREADS];
	char name[32];
	int i;

	mtx(&top, "wt_cl_top");
	for (i = 0; i < WT_NTHREADS; i++) {
		snprintf(name, sizeof(name), "wt_cl_first%d", i);
		mtx(&first[i], name);
		snprintf(name, sizeof(name), "wt_cl_second%d", i);
		mtx(&second[i], name);
		wp[i] = (struct wt_pair){ &first[i], &second[i] };
	}
	/* top -> first[i] learned by the main thread, while the workers
	 * learn first[i] -> second[i] at the same time. */
	for (i = 0; i < WT_NTHREADS; i++)
		cr_assert_eq(host_thread_create(&t[i], "wt_learner",
		    pair_worker, &wp[i]), 0);
	for (i = 0; i < WT_NTHREADS; i++) {
		mutex_enter(&top);
		mutex_enter(&first[i]);
		mutex_exit(&first[i]);
		mutex_exit(&top);
	}
	for (i = 0; i < WT_NTHREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(nreports(), 0, "%s", rec_report);

	/* Every edge, and top -> second[i] by transitivity, is known. */
	for (i = 0; i < WT_NTHREADS; i++) {
		mutex_enter(&second[i]);
		mutex_enter(&top);
		mutex_exit(&top);
		mutex_exit(&second[i]);
		cr_assert_eq(nreports(), 2 * i + 1, "top after second%d", i);
		mutex_enter(&second[i]);
		mutex_enter(&first[i]);
		mutex_exit(&first[i]);
		mutex_exit(&second[i]);
		cr_assert_eq(nreports(), 2 * i + 2, "first%d after second", i);
	}
	cr_assert_eq(witness_inversions(), 2 * WT_NTHREADS);
}
