// SPDX-License-Identifier: GPL-2.0
/*
 * The MMU notifier: okvm's second-stage table may only map host pages that
 * the VM creator's mm maps, with no more permission than it has there.
 *
 * Every change of the host mapping is bracketed by invalidate_range_start
 * and invalidate_range_end. Start unmaps the affected guest ranges and
 * counts the invalidation as in progress, recording the union of the host
 * ranges being invalidated; end bumps the sequence number and then drops
 * the count. A fault reads the sequence number before it translates an hva
 * and, under mmu_lock, installs its result only if the number is unchanged
 * and no invalidation covering its hva is in progress (see
 * okvm_mmu_invalidate_retry()). Because that check is by hva, not by slot,
 * a memslot update does not need to wait for invalidations to finish.
 *
 * No callback here ever installs or widens a mapping; they only remove or
 * age them. In particular change_pte (kernels before 6.9, used by KSM) drops
 * the entry instead of pointing it at the new page, so a slot that is
 * being deleted or moved can never be mapped from here (seed 000).
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/srcu.h>

#include "memslot.h"
#include "mmu.h"
#include "okvm.h"
#include "pfncache.h"
#include "pgtable.h"

/* The young callbacks return bool in newer kernels, int in older ones. */
#define okvm_young_t \
	typeof(((struct mmu_notifier_ops *)NULL)->test_young(NULL, NULL, 0))

static struct okvm *okvm_from_notifier(struct mmu_notifier *mn)
{
	return container_of(mn, struct okvm, mmu_notifier);
}

/* What to do with the guest ranges behind a host range. */
enum okvm_range_op {
	OKVM_RANGE_UNMAP,
	OKVM_RANGE_TEST_YOUNG,
	OKVM_RANGE_CLEAR_YOUNG,
};

static bool okvm_gpa_range_op(struct okvm *vm, u64 gpa, u64 size,
			      enum okvm_range_op op)
{
	switch (op) {
	case OKVM_RANGE_UNMAP:
		okvm_pgtable_unmap(&vm->pgt, gpa, size);
		return false;
	case OKVM_RANGE_TEST_YOUNG:
		return okvm_pgtable_test_clear_young(&vm->pgt, gpa, size, false);
	default:
		return okvm_pgtable_test_clear_young(&vm->pgt, gpa, size, true);
	}
}

/*
 * Apply @op to the part of each slot's guest range that [start, end) of
 * the host address space backs. Called under vm->srcu and mmu_lock (write).
 * Returns whether any entry was young, for the ageing operations.
 */
static bool okvm_hva_range_op(struct okvm *vm, unsigned long start,
			      unsigned long end, enum okvm_range_op op)
{
	struct okvm_memslots *slots = okvm_memslots(vm, 0);
	struct okvm_memslot *slot;
	bool ret = false;

	if (start >= end)
		return false;
	for (slot = okvm_hva_range_first(slots, start, end - 1); slot;
	     slot = okvm_hva_range_next(slots, slot, start, end - 1)) {
		unsigned long s = max(start, slot->userspace_addr);
		unsigned long e = min_t(unsigned long, end,
					slot->userspace_addr +
					okvm_memslot_size(slot));
		u64 gpa = okvm_memslot_gpa(slot) + (s - slot->userspace_addr);

		ret |= okvm_gpa_range_op(vm, gpa & PAGE_MASK,
					 PAGE_ALIGN(gpa + (e - s)) -
					 (gpa & PAGE_MASK), op);
	}
	return ret;
}

/* okvm_hva_range_op() under vm->srcu and mmu_lock, for the callbacks. */
static bool okvm_handle_hva_range(struct okvm *vm, unsigned long start,
				  unsigned long end, enum okvm_range_op op)
{
	bool ret;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	write_lock(&vm->mmu_lock);
	ret = okvm_hva_range_op(vm, start, end, op);
	write_unlock(&vm->mmu_lock);
	srcu_read_unlock(&vm->srcu, idx);
	return ret;
}

static int okvm_mn_invalidate_range_start(struct mmu_notifier *mn,
					  const struct mmu_notifier_range *range)
{
	struct okvm *vm = okvm_from_notifier(mn);
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	write_lock(&vm->mmu_lock);
	WRITE_ONCE(vm->mmu_invalidate_in_progress,
		   vm->mmu_invalidate_in_progress + 1);
	if (vm->mmu_invalidate_in_progress == 1) {
		vm->mmu_invalidate_start = range->start;
		vm->mmu_invalidate_end = range->end;
	} else {
		vm->mmu_invalidate_start = min(vm->mmu_invalidate_start,
					       range->start);
		vm->mmu_invalidate_end = max(vm->mmu_invalidate_end,
					     range->end);
	}
	okvm_hva_range_op(vm, range->start, range->end, OKVM_RANGE_UNMAP);
	write_unlock(&vm->mmu_lock);
	srcu_read_unlock(&vm->srcu, idx);

	/*
	 * Only now, with the invalidation counted, invalidate the pfn caches:
	 * a refresh that installs after this sees the count (pfncache.c).
	 * Their locks nest outside mmu_lock, so not under it.
	 */
	okvm_pfncache_invalidate_hva(vm, range->start, range->end);
	return 0;
}

static void okvm_mn_invalidate_range_end(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct okvm *vm = okvm_from_notifier(mn);

	write_lock(&vm->mmu_lock);
	/* A fault that translated before this point must not install. */
	WRITE_ONCE(vm->mmu_invalidate_seq, vm->mmu_invalidate_seq + 1);
	/* The pfn cache reads both without mmu_lock: sequence first. */
	smp_wmb();
	WRITE_ONCE(vm->mmu_invalidate_in_progress,
		   vm->mmu_invalidate_in_progress - 1);
	write_unlock(&vm->mmu_lock);
}

static okvm_young_t okvm_mn_clear_flush_young(struct mmu_notifier *mn,
					      struct mm_struct *mm,
					      unsigned long start,
					      unsigned long end)
{
	/* The table's flush hook runs for every entry that changed. */
	return okvm_handle_hva_range(okvm_from_notifier(mn), start, end,
				     OKVM_RANGE_CLEAR_YOUNG);
}

static okvm_young_t okvm_mn_clear_young(struct mmu_notifier *mn,
					struct mm_struct *mm,
					unsigned long start, unsigned long end)
{
	return okvm_handle_hva_range(okvm_from_notifier(mn), start, end,
				     OKVM_RANGE_CLEAR_YOUNG);
}

static okvm_young_t okvm_mn_test_young(struct mmu_notifier *mn,
				       struct mm_struct *mm,
				       unsigned long address)
{
	return okvm_handle_hva_range(okvm_from_notifier(mn), address,
				     address + 1, OKVM_RANGE_TEST_YOUNG);
}

/* change_pte and set_pte_at_notify() are gone since Linux 6.9. */
#ifdef set_pte_at_notify
/*
 * The host pte at @address now points at another page (KSM merged it, or
 * a COW completed). Never follow it: drop the guest's entry, and let the
 * next fault map the new page through the checked fault path.
 */
static void okvm_mn_change_pte(struct mmu_notifier *mn, struct mm_struct *mm,
			       unsigned long address, pte_t pte)
{
	okvm_handle_hva_range(okvm_from_notifier(mn), address,
			      address + PAGE_SIZE, OKVM_RANGE_UNMAP);
}
#endif

/* The mm is going away: unmap everything and map nothing from now on. */
static void okvm_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct okvm *vm = okvm_from_notifier(mn);

	write_lock(&vm->mmu_lock);
	WRITE_ONCE(vm->mmu_released, true);
	okvm_pgtable_unmap(&vm->pgt, 0, 1ULL << vm->pgt.ia_bits);
	write_unlock(&vm->mmu_lock);
	okvm_pfncache_invalidate_hva(vm, 0, ULONG_MAX);
}

static const struct mmu_notifier_ops okvm_mmu_notifier_ops = {
	.invalidate_range_start	= okvm_mn_invalidate_range_start,
	.invalidate_range_end	= okvm_mn_invalidate_range_end,
	.clear_flush_young	= okvm_mn_clear_flush_young,
	.clear_young		= okvm_mn_clear_young,
	.test_young		= okvm_mn_test_young,
#ifdef set_pte_at_notify
	.change_pte		= okvm_mn_change_pte,
#endif
	.release		= okvm_mn_release,
};

/*
 * Must a fault that read @seq before translating @hva retry? Called with
 * mmu_lock held, right before it would install its result.
 */
bool okvm_mmu_invalidate_retry(struct okvm *vm, unsigned long seq,
			       unsigned long hva)
{
	lockdep_assert_held_write(&vm->mmu_lock);
#ifdef OKVM_MUTATE_NOTIFIER_RETRY
	/* Mutation: install whatever was looked up, however stale. */
	return false;
#endif
	if (vm->mmu_invalidate_in_progress &&
	    hva >= vm->mmu_invalidate_start && hva < vm->mmu_invalidate_end)
		return true;
	return vm->mmu_invalidate_seq != seq;
}

int okvm_notifier_register(struct okvm *vm)
{
	vm->mmu_notifier.ops = &okvm_mmu_notifier_ops;
	return mmu_notifier_register(&vm->mmu_notifier, vm->mm);
}

void okvm_notifier_unregister(struct okvm *vm)
{
	mmu_notifier_unregister(&vm->mmu_notifier, vm->mm);
}
