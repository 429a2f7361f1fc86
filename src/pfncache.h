/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The gfn-to-pfn cache: a kernel mapping of one guest page (or part of
 * one), usable from atomic context, kept coherent with memslot changes and
 * with the host mm through the MMU notifier. See Documentation/pfncache.rst.
 */
#ifndef OKVM_PFNCACHE_H
#define OKVM_PFNCACHE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwlock.h>
#include <linux/types.h>

struct okvm;

/* gpa of a cache activated by userspace address. */
#define OKVM_PFNCACHE_NO_GPA	(~0ULL)

struct okvm_pfncache {
	/* Set by okvm_pfncache_init(), then read-only. */
	struct okvm *vm;
	/* Entry in vm->pfncache_list; guarded by vm->pfncache_list_lock. */
	struct list_head list;

	/*
	 * refresh_lock serialises activate, refresh and deactivate, so one
	 * cache never has two lookups in flight. It is an optimisation and
	 * keeps the story simple; correctness does not depend on it (see
	 * okvm_pfncache_refresh()). Taken before lock; may sleep.
	 */
	struct mutex refresh_lock;

	/*
	 * lock guards every field below. Readers of the mapping take it for
	 * read, from any context including hard interrupts; everything that
	 * changes a field takes it for write with interrupts off. Nothing
	 * that sleeps runs under it, and no other lock is taken inside it.
	 */
	rwlock_t lock;
	/* Between activate and deactivate. */
	bool active;
	/* khva maps the page at uhva right now; cleared by invalidations. */
	bool valid;
	/* The mapping may be written; a read-only target is refused. */
	bool writable;
	/*
	 * The target: a GPA (or OKVM_PFNCACHE_NO_GPA), the page-aligned hva
	 * backing it (for a GPA, as of the last lookup) and the offset of
	 * the first byte used inside that page.
	 */
	u64 gpa;
	unsigned long uhva;
	unsigned int offset;
	/* Bumped whenever the target changes or the cache is deactivated. */
	unsigned long epoch;
	/* The host page and okvm's own kernel mapping of it, or 0/NULL. */
	unsigned long pfn;
	void *khva;
};

void okvm_pfncache_init(struct okvm_pfncache *gpc, struct okvm *vm);
void okvm_pfncache_destroy(struct okvm_pfncache *gpc);
int okvm_pfncache_activate(struct okvm_pfncache *gpc, u64 gpa,
			   unsigned long uhva, unsigned long len, bool writable);
void okvm_pfncache_deactivate(struct okvm_pfncache *gpc);
int okvm_pfncache_refresh(struct okvm_pfncache *gpc, unsigned long len);
bool okvm_pfncache_check(struct okvm_pfncache *gpc, unsigned long len);
int okvm_pfncache_rw(struct okvm_pfncache *gpc, unsigned int offset,
		     void *buf, unsigned int len, bool write);

/* The kernel address of the target; valid while check() holds. */
static inline void *okvm_pfncache_ptr(struct okvm_pfncache *gpc)
{
	return gpc->khva + gpc->offset;
}

/* Hooks of the memslot code and the MMU notifier. */
void okvm_pfncache_memslots_changed(struct okvm *vm);
void okvm_pfncache_invalidate_hva(struct okvm *vm, unsigned long start,
				  unsigned long end);

#endif /* OKVM_PFNCACHE_H */
