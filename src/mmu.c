// SPDX-License-Identifier: GPL-2.0
/*
 * The generic fault path: gfn -> memslot -> hva -> host page -> an entry in
 * okvm's second-stage table.
 *
 * The contract (Documentation/mmu.rst):
 *   1. read mmu_invalidate_seq;
 *   2. under vm->srcu, find the slot and translate hva -> page with GUP
 *      (lockless first, then the kind that may sleep and fault the page
 *      in); no okvm lock is held;
 *   3. take mmu_lock and install only if the mm is still there, no
 *      invalidation of this hva started or finished since step 1, and the
 *      memslot set is the one step 2 used; otherwise drop the page and
 *      start again.
 * The table never holds a reference to a page: the MMU notifier removes an
 * entry before the host page can go away.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/srcu.h>

#include "arch_ops.h"
#include "memslot.h"
#include "mmu.h"
#include "okvm.h"
#include "pgtable.h"

/*
 * Table pages a fault topped up and did not use go back to the VM's
 * spares, so that the next fault does not allocate and zero them again.
 * The spares are zeroed pages that no table has used.
 */
static void okvm_mmu_cache_get(struct okvm *vm, struct okvm_pgtable_cache *mc)
{
	spin_lock(&vm->pgt_spare_lock);
	while (vm->pgt_spare.nr && mc->nr < OKVM_PGTABLE_CACHE_MAX)
		mc->pages[mc->nr++] = vm->pgt_spare.pages[--vm->pgt_spare.nr];
	spin_unlock(&vm->pgt_spare_lock);
}

static void okvm_mmu_cache_put(struct okvm *vm, struct okvm_pgtable_cache *mc)
{
	spin_lock(&vm->pgt_spare_lock);
	while (mc->nr && vm->pgt_spare.nr < OKVM_PGTABLE_CACHE_MAX)
		vm->pgt_spare.pages[vm->pgt_spare.nr++] = mc->pages[--mc->nr];
	spin_unlock(&vm->pgt_spare_lock);
	okvm_pgtable_cache_free(mc);
}

int okvm_mmu_init(struct okvm *vm)
{
	rwlock_init(&vm->mmu_lock);
	spin_lock_init(&vm->pgt_spare_lock);
	init_waitqueue_head(&vm->rebuild_wq);
	return okvm_pgtable_init(&vm->pgt, vm->pgt_format, vm->pgt_ia_bits,
				 vm->pgt_flags);
}

void okvm_mmu_destroy(struct okvm *vm)
{
	okvm_pgtable_cache_free(&vm->pgt_spare);
	okvm_pgtable_destroy(&vm->pgt);
}

/* Sleep until no rebuild of the table runs. */
void okvm_mmu_wait_rebuild(struct okvm *vm)
{
	wait_event(vm->rebuild_wq, !READ_ONCE(vm->mmu_rebuild_in_progress));
}

static u64 okvm_mmu_sum_entries(struct okvm *vm)
{
	int i, n = atomic_read_acquire(&vm->online_vcpus);
	u64 sum = 0;

	for (i = 0; i < n; i++)
		sum += READ_ONCE(vm->vcpus[i]->stat_entries);
	return sum;
}

static bool okvm_mmu_vcpus_out(struct okvm *vm)
{
	int i, n = atomic_read_acquire(&vm->online_vcpus);

	for (i = 0; i < n; i++)
		if (READ_ONCE(vm->vcpus[i]->cpu) >= 0)
			return false;
	return true;
}

/*
 * Replace the whole second-stage table by an empty one and free the old
 * one: the arch "zap all" (a root switch, as a VMID reset or a change of
 * the table's geometry needs). Seed 004 is about doing this while vCPUs
 * run: a vCPU that had been kicked out must not re-enter on the old table,
 * and no fault may install into it, until it is gone. So:
 *
 *  1. under mmu_lock, mark the rebuild in progress: faults re-check it
 *     under mmu_lock before installing and wait;
 *  2. kick every vCPU and wait until none is in the guest: vCPU entry
 *     re-checks the mark with interrupts off and waits instead of
 *     entering (kick and entry order their accesses with full barriers);
 *  3. under mmu_lock, switch to the new table and let the architecture
 *     load the new root and flush the old translations;
 *  4. free the old table, then clear the mark and wake everyone.
 *
 * Serialised with memslot updates by slots_lock. *@entries_seen gets the
 * number of guest entries that happened during steps 2-4, which the
 * design makes 0 (the test interface reports it).
 */
int okvm_mmu_rebuild(struct okvm *vm, u64 *entries_seen)
{
	struct okvm_pgtable new = { .ops = vm->pgt.ops }, old;
	u64 entries;
	int ret;

	lockdep_assert_held(&vm->slots_lock);
	ret = okvm_pgtable_init(&new, vm->pgt_format, vm->pgt_ia_bits,
				vm->pgt_flags);
	if (ret)
		return ret;

	write_lock(&vm->mmu_lock);
	WRITE_ONCE(vm->mmu_rebuild_in_progress, true);
	write_unlock(&vm->mmu_lock);
	/* The mark before the vCPUs' state: pairs with vCPU entry. */
	smp_mb();
	okvm_kick_all_vcpus(vm);
	while (!okvm_mmu_vcpus_out(vm)) {
		usleep_range(20, 100);
		okvm_kick_all_vcpus(vm);
	}
	entries = okvm_mmu_sum_entries(vm);

	write_lock(&vm->mmu_lock);
	old = vm->pgt;
	vm->pgt = new;
	okvm_arch_ops.mmu_new_root(vm);
	write_unlock(&vm->mmu_lock);

	okvm_test_delay(vm, OKVM_DELAY_REBUILD);
	/* Its translations are gone already: free it without a flush. */
	old.ops = &okvm_pgtable_noguest_ops;
	okvm_pgtable_destroy(&old);
	*entries_seen = okvm_mmu_sum_entries(vm) - entries;

	write_lock(&vm->mmu_lock);
	WRITE_ONCE(vm->mmu_rebuild_in_progress, false);
	write_unlock(&vm->mmu_lock);
	wake_up_all(&vm->rebuild_wq);
	return 0;
}

/* Drop every entry of @slot's guest range (DELETE and MOVE). */
void okvm_mmu_unmap_memslot(struct okvm *vm, const struct okvm_memslot *slot)
{
	write_lock(&vm->mmu_lock);
	okvm_pgtable_unmap(&vm->pgt, okvm_memslot_gpa(slot),
			   okvm_memslot_size(slot));
	write_unlock(&vm->mmu_lock);
}

/*
 * Write-protect @slot's guest range, so that writes fault and get logged.
 * Blocks stay, read-only; the write fault that maps a page inside one
 * breaks it up, since a logging slot is only ever mapped in pages.
 */
void okvm_mmu_wrprotect_memslot(struct okvm *vm, const struct okvm_memslot *slot)
{
	write_lock(&vm->mmu_lock);
	okvm_pgtable_wrprotect(&vm->pgt, okvm_memslot_gpa(slot),
			       okvm_memslot_size(slot));
	write_unlock(&vm->mmu_lock);
}

/*
 * Size of the host mapping of @hva in the current mm: PAGE_SIZE, PMD_SIZE
 * or PUD_SIZE. Reads the host's page tables without their locks, as GUP
 * does, with interrupts off so no table page is freed under the walk. Only
 * meaningful under mmu_lock after the invalidation check passed: then the
 * mapping cannot have changed since the page was looked up.
 */
static unsigned long okvm_host_mapping_size(unsigned long hva)
{
	unsigned long size = PAGE_SIZE, flags;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(current->mm, hva));
	if (pgd_none(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || !p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		size = PUD_SIZE;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_present(pmd) && pmd_leaf(pmd))
		size = PMD_SIZE;
out:
	local_irq_restore(flags);
	return size;
}

/*
 * Largest leaf that may map @gfn: the host maps the whole block with one
 * entry, the slot covers the whole block, guest and host addresses are
 * equally aligned inside it, and dirty logging is off.
 */
static unsigned long okvm_fault_map_size(const struct okvm_memslot *slot,
					 u64 gfn, unsigned long hva)
{
	unsigned long size;

	if (slot->dirty_bitmap)
		return PAGE_SIZE;
	for (size = okvm_host_mapping_size(hva); size > PAGE_SIZE;
	     size = size == PUD_SIZE ? PMD_SIZE : PAGE_SIZE) {
		u64 gpa = gfn << PAGE_SHIFT;
		u64 start = gpa & ~((u64)size - 1);

		if ((gpa & (size - 1)) != (hva & (size - 1)))
			continue;
		if (start >= okvm_memslot_gpa(slot) &&
		    start + size <= okvm_memslot_gpa(slot) +
				    okvm_memslot_size(slot))
			break;
	}
	return size;
}

/*
 * Does a page leaf already map @gpa to @phys (read-only: a write fault
 * after dirty logging or a read fault write-protected it)? Then a write
 * only needs the permission added. mmu_lock held.
 */
static bool okvm_fault_is_upgrade(struct okvm *vm, u64 gpa, u64 phys)
{
	struct okvm_pgtable_leaf leaf;

	return !okvm_pgtable_get_leaf(&vm->pgt, gpa, &leaf) && leaf.present &&
	       leaf.size == PAGE_SIZE && leaf.phys == phys;
}

/*
 * Resolve a guest access to @gpa as a vCPU fault would. Returns 0 with
 * *@result saying whether the table now maps it or the access is MMIO, or a
 * negative errno (-EFAULT when the host has no usable page, -ENOMEM).
 */
int okvm_mmu_fault(struct okvm *vm, u64 gpa, unsigned int flags,
		   enum okvm_fault_result *result)
{
	bool write = flags & OKVM_FAULT_WRITE;
	struct okvm_pgtable_cache mc = {};
	u64 gfn = gpa >> PAGE_SHIFT;
	struct okvm_memslots *slots;
	struct okvm_memslot *slot;
	unsigned long seq, hva, size;
	enum okvm_prot prot;
	struct page *page;
	int idx, ret;
	u64 gen, phys;

	if (gpa >> vm->gpa_bits)
		goto mmio;
retry:
	seq = READ_ONCE(vm->mmu_invalidate_seq);
	/* Read the sequence before anything it protects; see notifier.c. */
	smp_rmb();

	idx = srcu_read_lock(&vm->srcu);
	slots = okvm_memslots(vm, 0);
	gen = READ_ONCE(slots->generation);
	slot = okvm_gfn_to_memslot(slots, gfn);
	if (!slot || (write && (slot->flags & KVM_MEM_READONLY)))
		goto mmio_unlock;
#ifndef OKVM_MUTATE_SEED000
	/* A slot being deleted or moved is never mapped again (seed 000). */
	if (slot->flags & OKVM_MEMSLOT_INVALID)
		goto mmio_unlock;
#endif
	hva = slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);

	/*
	 * The page is usually there already (a write to a page that dirty
	 * logging write-protected, a re-fault after an unmap): try the
	 * lockless lookup first, and fault it in only when that fails.
	 */
	if (get_user_page_fast_only(hva, write ? FOLL_WRITE : 0, &page))
		ret = 1;
	else
		ret = get_user_pages_unlocked(hva, 1, &page,
					      write ? FOLL_WRITE : 0);
	if (ret != 1) {
		srcu_read_unlock(&vm->srcu, idx);
		okvm_mmu_cache_put(vm, &mc);
		return ret < 0 ? ret : -EFAULT;
	}
	if (mc.nr < vm->pgt.levels)
		okvm_mmu_cache_get(vm, &mc);
	ret = okvm_pgtable_cache_topup(&mc, vm->pgt.levels);
	if (ret)
		goto out_put;

	okvm_test_delay(vm, OKVM_DELAY_FAULT_INSTALL);

	write_lock(&vm->mmu_lock);
	if (vm->mmu_released) {
		ret = -EFAULT;
		goto out_unlock;
	}
	if (okvm_mmu_invalidate_retry(vm, seq, hva) ||
	    READ_ONCE(slots->generation) != gen) {
		write_unlock(&vm->mmu_lock);
		put_page(page);
		srcu_read_unlock(&vm->srcu, idx);
		cond_resched();
		goto retry;
	}
#ifndef OKVM_MUTATE_SEED004
	/* Nothing is installed while the whole table is rebuilt (seed 004). */
	if (vm->mmu_rebuild_in_progress) {
		write_unlock(&vm->mmu_lock);
		put_page(page);
		srcu_read_unlock(&vm->srcu, idx);
		okvm_mmu_wait_rebuild(vm);
		goto retry;
	}
#endif

	size = okvm_fault_map_size(slot, gfn, hva);
	phys = PFN_PHYS(page_to_pfn(page)) - (hva & (size - 1) & PAGE_MASK);
	prot = OKVM_PROT_R | OKVM_PROT_X;
	if (write)
		prot |= OKVM_PROT_W;
	if (write && size == PAGE_SIZE &&
	    okvm_fault_is_upgrade(vm, gfn << PAGE_SHIFT, phys))
		/* Only the permission changes: no break-before-make, no flush. */
		ret = okvm_pgtable_relax_perms(&vm->pgt, gfn << PAGE_SHIFT,
					       OKVM_PROT_W);
	else
		ret = okvm_pgtable_map(&vm->pgt,
				       (gfn << PAGE_SHIFT) & ~((u64)size - 1),
				       size, phys, prot, &mc);
	if (!ret && write && slot->dirty_bitmap)
		set_bit(gfn - slot->base_gfn, slot->dirty_bitmap);
out_unlock:
	write_unlock(&vm->mmu_lock);
out_put:
	if (!ret && write)
		set_page_dirty_lock(page);
	put_page(page);
	srcu_read_unlock(&vm->srcu, idx);
	okvm_mmu_cache_put(vm, &mc);
	if (!ret)
		*result = OKVM_FAULT_MAPPED;
	return ret;

mmio_unlock:
	srcu_read_unlock(&vm->srcu, idx);
mmio:
	*result = OKVM_FAULT_MMIO;
	return 0;
}
