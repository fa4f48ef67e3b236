/*
 * host/param.h: machine parameters and the basic VM types.
 *
 * The simulated machine has 4 KiB pages, 64-bit addresses and the BSD
 * names for them.  Everything in vm/ and host/ includes this first.
 */
#ifndef HOST_PARAM_H
#define HOST_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

typedef uintptr_t vaddr_t;	/* a virtual address in some address space */
typedef uint64_t paddr_t;	/* a physical address: byte offset in RAM */
typedef uintptr_t vsize_t;
typedef uint64_t psize_t;
typedef uint64_t voff_t;	/* an offset in a uvm_object */
typedef int vm_prot_t;
typedef int vm_inherit_t;

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(PAGE_SIZE - 1)

#define atop(x)		((uint64_t)(x) >> PAGE_SHIFT)
#define ptoa(x)		((uint64_t)(x) << PAGE_SHIFT)
#define trunc_page(x)	((x) & ~(__typeof__(x))PAGE_MASK)
#define round_page(x)	(((x) + PAGE_MASK) & ~(__typeof__(x))PAGE_MASK)

#define VM_PROT_NONE	0x0
#define VM_PROT_READ	0x1
#define VM_PROT_WRITE	0x2
#define VM_PROT_EXECUTE	0x4
#define VM_PROT_ALL	(VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE)

/* hz and the tick: the clock (host/clock.h) makes them real. */
#define HZ_DEFAULT	100

#ifndef MIN
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#endif
#define howmany(x, y)	(((x) + ((y) - 1)) / (y))
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* (libbsd's <bsd/sys/cdefs.h> may have defined some of these already) */
#ifndef __predict_true
#define __predict_true(e)	__builtin_expect(!!(e), 1)
#endif
#ifndef __predict_false
#define __predict_false(e)	__builtin_expect(!!(e), 0)
#endif
#ifndef __unused
#define __unused		__attribute__((__unused__))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((__noreturn__))
#endif
#ifndef __printflike
#define __printflike(f, a)	__attribute__((__format__(__printf__, f, a)))
#endif

/* SPINLOCK_SPIN_HOOK: the body of a busy-wait loop. */
#if defined(__x86_64__) || defined(__i386__)
#define SPINLOCK_SPIN_HOOK	__builtin_ia32_pause()
#elif defined(__aarch64__)
#define SPINLOCK_SPIN_HOOK	__asm__ __volatile__("yield")
#else
#define SPINLOCK_SPIN_HOOK	((void)0)
#endif

/* Sleep priorities and flags (tsleep(9)); priorities are recorded only. */
#define PVM		4
#define PSWP		0
#define PRIBIO		16
#define PZERO		22
#define PUSER		50
#define PCATCH		0x100	/* accepted, no signals to catch here */
#define PNORELOCK	0x200	/* msleep: do not re-take the interlock */

#define EWOULDBLOCK	EAGAIN
#define EJUSTRETURN	(-2)	/* done: do not touch the return value */

#endif /* HOST_PARAM_H */
