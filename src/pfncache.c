// SPDX-License-Identifier: GPL-2.0
/*
 * The gfn-to-pfn cache (Documentation/pfncache.rst).
 *
 * A cache maps one guest page, found by GPA through the memslots or given
 * by userspace address, into the kernel with okvm's own vmap() mapping, so
 * that code which must not sleep (interrupt handlers, the vCPU entry path)
 * can read and write it. Users do:
 *
 *	read_lock_irqsave(&gpc->lock, flags);
 *	while (!okvm_pfncache_check(gpc, len)) {
 *		read_unlock_irqrestore(&gpc->lock, flags);
 *		if (okvm_pfncache_refresh(gpc, len))	// may sleep
 *			return error;
 *		read_lock_irqsave(&gpc->lock, flags);
 *	}
 *	use okvm_pfncache_ptr(gpc);
 *	read_unlock_irqrestore(&gpc->lock, flags);
 *
 * The rules that make it safe without any lock of the caller's:
 *  - A kernel mapping is only ever used under gpc->lock held for read, and
 *    only while active && valid. Whoever takes a mapping out of the cache
 *    does so under the write lock and unmaps it after every lock is
 *    dropped, so no reader can hold a pointer into it.
 *  - The refresh never keeps anything it read before dropping the lock: it
 *    copies the target under the lock, looks the page up and maps it with
 *    no lock held, then retakes the write lock and installs the new mapping
 *    only if the cache is still active, still has the same target (epoch),
 *    no host invalidation started or ended meanwhile and the memslots did
 *    not change. Otherwise the new mapping is thrown away or the lookup
 *    repeated. This is what seed 001 got wrong.
 *  - The MMU notifier clears valid (under the write lock) on every cache
 *    whose page it invalidates, before invalidate_range_start returns;
 *    memslot updates do the same for GPA targets once the new set is
 *    published. Neither unmaps: a stale mapping is only ever unmapped by
 *    the next refresh, deactivate or destroy, in process context.
 */
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "memslot.h"
#include "okvm.h"
#include "pfncache.h"

/* A host page, a reference to it while it is being installed, and okvm's
 * kernel mapping of it.
 */
struct okvm_pfncache_map {
	struct page *page;
	unsigned long pfn;
	void *khva;
};

void okvm_pfncache_init(struct okvm_pfncache *gpc, struct okvm *vm)
{
	memset(gpc, 0, sizeof(*gpc));
	gpc->vm = vm;
	mutex_init(&gpc->refresh_lock);
	rwlock_init(&gpc->lock);
	gpc->gpa = OKVM_PFNCACHE_NO_GPA;

	spin_lock(&vm->pfncache_list_lock);
	list_add(&gpc->list, &vm->pfncache_list);
	spin_unlock(&vm->pfncache_list_lock);
}

/* Move @gpc's mapping into @m. Write lock held; the cache must be invalid. */
static void okvm_pfncache_take(struct okvm_pfncache *gpc,
			       struct okvm_pfncache_map *m)
{
	lockdep_assert_held_write(&gpc->lock);
	m->page = NULL;
	m->pfn = gpc->pfn;
	m->khva = gpc->khva;
	gpc->pfn = 0;
	gpc->khva = NULL;
}

/* Unmap and release @m. No lock held: vunmap() may sleep. */
static void okvm_pfncache_release(struct okvm_pfncache_map *m)
{
	might_sleep();
	if (m->khva)
		vunmap(m->khva);
	if (m->page)
		put_page(m->page);
	m->khva = NULL;
	m->page = NULL;
}

/*
 * Throw away a mapping that lost. With the seed-001 mutation it may be the
 * old mapping reused, which still belongs to the cache.
 */
static void okvm_pfncache_discard(struct okvm_pfncache_map *new,
				  const struct okvm_pfncache_map *old)
{
#ifdef OKVM_MUTATE_SEED001
	if (new->khva == old->khva)
		new->khva = NULL;
#endif
	okvm_pfncache_release(new);
}

/*
 * Look up the host page at @uhva in the VM's mm and map it into the kernel.
 * Works from any task (the writer's work item has no mm of its own). On
 * success @m holds a page reference, dropped once the mapping is installed
 * or thrown away.
 */
static int okvm_pfncache_map(struct okvm *vm, unsigned long uhva,
			     bool writable, struct okvm_pfncache_map *m)
{
	struct mm_struct *mm = vm->mm;
	struct page *page;
	long n;

	if (!mmget_not_zero(mm))
		return -EFAULT;
	mmap_read_lock(mm);
	n = okvm_get_user_page_remote(mm, uhva, writable ? FOLL_WRITE : 0, &page);
	mmap_read_unlock(mm);
	mmput(mm);
	if (n != 1)
		return n == -ENOMEM ? -ENOMEM : -EFAULT;

	m->khva = vmap(&page, 1, VM_MAP, writable ? PAGE_KERNEL : PAGE_KERNEL_RO);
	if (!m->khva) {
		put_page(page);
		return -ENOMEM;
	}
	m->page = page;
	m->pfn = page_to_pfn(page);
	return 0;
}

/*
 * The hva behind @gpa right now and the generation of the memslot set that
 * said so. A slot being deleted or moved is no slot (seed 000); a read-only
 * slot is refused for a writable cache.
 */
static int okvm_pfncache_lookup(struct okvm *vm, u64 gpa, bool writable,
				unsigned long *uhva, u64 *gen)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	struct okvm_memslots *slots;
	struct okvm_memslot *slot;
	int idx, ret = 0;

	idx = srcu_read_lock(&vm->srcu);
	slots = okvm_memslots(vm, 0);
	*gen = READ_ONCE(slots->generation);
	slot = okvm_gfn_to_memslot(slots, gfn);
	if (!slot || (slot->flags & OKVM_MEMSLOT_INVALID))
		ret = -EFAULT;
	else if (writable && (slot->flags & KVM_MEM_READONLY))
		ret = -EPERM;
	else
		*uhva = slot->userspace_addr +
			((gfn - slot->base_gfn) << PAGE_SHIFT);
	srcu_read_unlock(&vm->srcu, idx);
	return ret;
}

/*
 * The generation of the active memslot set, without vm->srcu: the sets are
 * part of struct okvm, so the pointer always points at one of them. A set
 * being replaced has OKVM_MEMSLOT_GEN_UPDATING set, so it never matches.
 */
static u64 okvm_pfncache_memslots_gen(struct okvm *vm)
{
	return READ_ONCE(rcu_dereference_raw(vm->memslots[0])->generation);
}

/*
 * Did an invalidation of the host mm start or end since @seq was read?
 * Called under gpc->lock, which must not nest mmu_lock (a hard interrupt
 * may spin on gpc->lock while its CPU's mmu_lock holder waits for it), so
 * the fields are read without mmu_lock. Pairs with notifier.c: the count
 * goes up before any cache is walked, and the sequence number goes up
 * before the count goes down.
 */
static bool okvm_pfncache_invalidated(struct okvm *vm, unsigned long seq)
{
	if (READ_ONCE(vm->mmu_invalidate_in_progress))
		return true;
	/* Count before sequence; pairs with the smp_wmb() in notifier.c. */
	smp_rmb();
	return READ_ONCE(vm->mmu_invalidate_seq) != seq;
}

/* Make @gpc valid for @len bytes. Called with refresh_lock held. */
static int okvm_pfncache_do_refresh(struct okvm_pfncache *gpc,
				    unsigned long len)
{
	struct okvm_pfncache_map old = {}, new = {};
	struct okvm *vm = gpc->vm;
	unsigned long epoch, uhva, seq;
	bool writable;
	u64 gpa, gen = 0;
	int ret;

	lockdep_assert_held(&gpc->refresh_lock);

	write_lock_irq(&gpc->lock);
	if (!gpc->active || !len || gpc->offset + len > PAGE_SIZE) {
		write_unlock_irq(&gpc->lock);
		return -EINVAL;
	}
	if (gpc->valid) {
		write_unlock_irq(&gpc->lock);
		return 0;
	}
	/* Work on copies: nothing read here is trusted after the unlock. */
	gpa = gpc->gpa;
	uhva = gpc->uhva;
	writable = gpc->writable;
	epoch = gpc->epoch;
#ifndef OKVM_MUTATE_SEED001
	/* No reader uses an invalid cache's mapping: drop it right away. */
	okvm_pfncache_take(gpc, &old);
#else
	/* Mutation, seed 001: remember the old mapping to reuse it later. */
	old.pfn = gpc->pfn;
	old.khva = gpc->khva;
#endif
	write_unlock_irq(&gpc->lock);
#ifndef OKVM_MUTATE_SEED001
	okvm_pfncache_release(&old);
#endif

	for (;;) {
		seq = READ_ONCE(vm->mmu_invalidate_seq);
		/* Read the sequence before the memslots and the host page. */
		smp_rmb();
		if (gpa != OKVM_PFNCACHE_NO_GPA) {
			ret = okvm_pfncache_lookup(vm, gpa, writable, &uhva,
						   &gen);
			if (ret)
				return ret;
		}
		okvm_test_delay(vm, OKVM_DELAY_PFNCACHE_REFRESH);
		ret = okvm_pfncache_map(vm, uhva, writable, &new);
		if (ret)
			return ret;
#ifdef OKVM_MUTATE_SEED001
		if (old.khva && new.pfn == old.pfn) {
			vunmap(new.khva);
			new.khva = old.khva;
		}
#endif

		write_lock_irq(&gpc->lock);
#ifndef OKVM_MUTATE_SEED001
		if (!gpc->active || gpc->epoch != epoch) {
			/* Deactivated or retargeted meanwhile: it lost. */
			write_unlock_irq(&gpc->lock);
			okvm_pfncache_discard(&new, &old);
			return -EAGAIN;
		}
#else
		/* Mutation, seed 001: install whatever happened meanwhile. */
		(void)epoch;
#endif
		if (READ_ONCE(vm->mmu_released)) {
			write_unlock_irq(&gpc->lock);
			okvm_pfncache_discard(&new, &old);
			return -EFAULT;
		}
		if (okvm_pfncache_invalidated(vm, seq) ||
		    (gpa != OKVM_PFNCACHE_NO_GPA &&
		     okvm_pfncache_memslots_gen(vm) != gen)) {
			write_unlock_irq(&gpc->lock);
			okvm_pfncache_discard(&new, &old);
			if (fatal_signal_pending(current))
				return -EINTR;
			/* Let a running invalidation finish. */
			if (READ_ONCE(vm->mmu_invalidate_in_progress))
				usleep_range(10, 50);
			cond_resched();
			continue;
		}
#ifndef OKVM_MUTATE_SEED001
		okvm_pfncache_take(gpc, &old);
#else
		if (new.khva == old.khva)
			old.khva = NULL;
#endif
		gpc->uhva = uhva;
		gpc->pfn = new.pfn;
		gpc->khva = new.khva;
		gpc->valid = true;
		write_unlock_irq(&gpc->lock);

		/*
		 * The notifier now guards the page: drop the lookup's
		 * reference, and the replaced mapping, if there was one.
		 */
		put_page(new.page);
		okvm_pfncache_release(&old);
		return 0;
	}
}

/*
 * Make the cache valid for @len bytes from its target, looking the page up
 * again if it is not. Sleeps. Returns 0, -EINVAL (inactive, or @len does
 * not fit), -EFAULT (no usable slot or host page), -EPERM (read-only slot
 * for a writable cache), -ENOMEM, -EINTR, or -EAGAIN (the cache was
 * deactivated or retargeted while the page was being looked up).
 */
int okvm_pfncache_refresh(struct okvm_pfncache *gpc, unsigned long len)
{
	int ret;

	mutex_lock(&gpc->refresh_lock);
	ret = okvm_pfncache_do_refresh(gpc, len);
	mutex_unlock(&gpc->refresh_lock);
	return ret;
}

/*
 * Point the cache at @gpa, or at @uhva if @gpa is OKVM_PFNCACHE_NO_GPA,
 * for @len bytes, and refresh it. Bad arguments (-EINVAL) change nothing.
 * Otherwise the cache is active from here on, even when the refresh fails
 * (its error is returned); a later refresh may succeed.
 */
int okvm_pfncache_activate(struct okvm_pfncache *gpc, u64 gpa,
			   unsigned long uhva, unsigned long len, bool writable)
{
	bool by_gpa = gpa != OKVM_PFNCACHE_NO_GPA;
	struct okvm_pfncache_map old = {};
	unsigned int offset;
	int ret;

	offset = by_gpa ? offset_in_page(gpa) : offset_in_page(uhva);
	if (!len || len > PAGE_SIZE - offset)
		return -EINVAL;
	if (!by_gpa && !access_ok((void __user *)uhva, len))
		return -EFAULT;
	uhva = by_gpa ? 0 : uhva & PAGE_MASK;

	mutex_lock(&gpc->refresh_lock);
	write_lock_irq(&gpc->lock);
	if (gpc->gpa != gpa || (!by_gpa && gpc->uhva != uhva) ||
	    gpc->writable != writable) {
		gpc->gpa = gpa;
		gpc->uhva = uhva;
		gpc->writable = writable;
		gpc->epoch++;
		gpc->valid = false;
		okvm_pfncache_take(gpc, &old);
	}
	gpc->offset = offset;
	gpc->active = true;
	write_unlock_irq(&gpc->lock);
	okvm_pfncache_release(&old);

	ret = okvm_pfncache_do_refresh(gpc, len);
	mutex_unlock(&gpc->refresh_lock);
	return ret;
}

/*
 * Stop using the cache. When this returns, no reader uses a pointer it got
 * from the cache before, and the mapping is gone. Safe against a
 * concurrent activate or refresh from any task.
 */
void okvm_pfncache_deactivate(struct okvm_pfncache *gpc)
{
	struct okvm_pfncache_map old = {};

#ifndef OKVM_MUTATE_SEED001
	mutex_lock(&gpc->refresh_lock);
#endif
	write_lock_irq(&gpc->lock);
	gpc->active = false;
	gpc->valid = false;
	gpc->epoch++;
	okvm_pfncache_take(gpc, &old);
	write_unlock_irq(&gpc->lock);
#ifndef OKVM_MUTATE_SEED001
	mutex_unlock(&gpc->refresh_lock);
#endif
	okvm_pfncache_release(&old);
}

void okvm_pfncache_destroy(struct okvm_pfncache *gpc)
{
	struct okvm *vm = gpc->vm;

	okvm_pfncache_deactivate(gpc);
	spin_lock(&vm->pfncache_list_lock);
	list_del(&gpc->list);
	spin_unlock(&vm->pfncache_list_lock);
	mutex_destroy(&gpc->refresh_lock);
}

/* Is the mapping usable for @len bytes right now? gpc->lock held. */
bool okvm_pfncache_check(struct okvm_pfncache *gpc, unsigned long len)
{
	lockdep_assert_held(&gpc->lock);
	return gpc->active && gpc->valid && len &&
	       len <= PAGE_SIZE - gpc->offset;
}

/* Clear valid on the caches selected by @match. */
static void okvm_pfncache_invalidate(struct okvm *vm,
				     bool (*match)(struct okvm_pfncache *,
						   unsigned long,
						   unsigned long),
				     unsigned long start, unsigned long end)
{
	struct okvm_pfncache *gpc;

	spin_lock(&vm->pfncache_list_lock);
	list_for_each_entry(gpc, &vm->pfncache_list, list) {
		write_lock_irq(&gpc->lock);
		if (gpc->valid && match(gpc, start, end))
			gpc->valid = false;
		write_unlock_irq(&gpc->lock);
	}
	spin_unlock(&vm->pfncache_list_lock);
}

static bool okvm_pfncache_match_hva(struct okvm_pfncache *gpc,
				    unsigned long start, unsigned long end)
{
	return gpc->uhva >= start && gpc->uhva < end;
}

static bool okvm_pfncache_match_gpa(struct okvm_pfncache *gpc,
				    unsigned long start, unsigned long end)
{
	return gpc->gpa != OKVM_PFNCACHE_NO_GPA;
}

/*
 * The host pages of [start, end) are about to change: called from
 * invalidate_range_start after the invalidation was counted, and from
 * release.
 */
void okvm_pfncache_invalidate_hva(struct okvm *vm, unsigned long start,
				  unsigned long end)
{
	okvm_pfncache_invalidate(vm, okvm_pfncache_match_hva, start, end);
}

/*
 * A new memslot set was published: every GPA target must be looked up
 * again. Called with slots_lock held, after the set's generation changed.
 */
void okvm_pfncache_memslots_changed(struct okvm *vm)
{
	okvm_pfncache_invalidate(vm, okvm_pfncache_match_gpa, 0, 0);
}

/*
 * Copy @len bytes at @offset of the target's page to or from @buf, from
 * process context: check, and refresh when the check fails. Returns 0 or
 * the refresh's error.
 */
int okvm_pfncache_rw(struct okvm_pfncache *gpc, unsigned int offset,
		     void *buf, unsigned int len, bool write)
{
	unsigned long flags;
	int tries, ret;

	might_sleep();
	for (tries = 0; tries < 100; tries++) {
		read_lock_irqsave(&gpc->lock, flags);
		if (write && !gpc->writable) {
			read_unlock_irqrestore(&gpc->lock, flags);
			return -EPERM;
		}
		if (okvm_pfncache_check(gpc, offset + len)) {
			void *p = okvm_pfncache_ptr(gpc) + offset;

			if (write)
				memcpy(p, buf, len);
			else
				memcpy(buf, p, len);
			read_unlock_irqrestore(&gpc->lock, flags);
			return 0;
		}
		read_unlock_irqrestore(&gpc->lock, flags);
		ret = okvm_pfncache_refresh(gpc, offset + len);
		if (ret && ret != -EAGAIN)
			return ret;
	}
	return -EAGAIN;
}
