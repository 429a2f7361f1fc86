// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging: KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG and the
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 mode.
 *
 * A slot with KVM_MEM_LOG_DIRTY_PAGES has a bitmap. Turning logging on
 * write-protects the slot (memslot.c), the fault path sets a page's bit when
 * it maps the page writable, and both run under mmu_lock. So a pass that,
 * under mmu_lock, takes the bits and write-protects their pages sees each
 * page written since the previous pass exactly once: a later write faults
 * again and is logged for the next pass.
 *
 * Without manual protection KVM_GET_DIRTY_LOG does that whole pass. With
 * it, KVM_GET_DIRTY_LOG only copies the bitmap, and KVM_CLEAR_DIRTY_LOG
 * takes (clears and re-protects) the pages userspace names.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "memslot.h"
#include "mmu.h"
#include "okvm.h"
#include "pgtable.h"

/*
 * The slot named by a dirty-log ioctl, with logging on. Called with
 * slots_lock held, so the slot stays valid while it is held.
 */
static struct okvm_memslot *okvm_dirty_log_slot(struct okvm *vm, u32 slot_arg)
{
	struct okvm_memslot *slot;
	u16 as_id = slot_arg >> 16;
	u16 id = slot_arg;

	lockdep_assert_held(&vm->slots_lock);
	if (as_id >= OKVM_ADDRESS_SPACE_NUM || id >= OKVM_USER_MEM_SLOTS)
		return ERR_PTR(-EINVAL);
	slot = okvm_id_to_memslot(okvm_memslots(vm, as_id), id);
	if (!slot || !slot->dirty_bitmap)
		return ERR_PTR(-ENOENT);
	return slot;
}

/*
 * Take the bits of @mask from word @word of the slot's bitmap. Returns the
 * bits taken; the caller write-protects their pages. mmu_lock held.
 */
static unsigned long okvm_dirty_take(struct okvm *vm, struct okvm_memslot *slot,
				     unsigned long word, unsigned long mask)
{
	unsigned long *p = &slot->dirty_bitmap[word];
	unsigned long taken;

	lockdep_assert_held_write(&vm->mmu_lock);
	taken = READ_ONCE(*p) & mask;
	if (taken)
		WRITE_ONCE(*p, *p & ~taken);
	return taken;
}

/*
 * Write-protect the pages whose bits are set in @bits (@nbits bits, the
 * first for page @first of @slot), one call per run of set bits, so that
 * a slot written all over costs one walk and one TLB flush, not one per
 * page. mmu_lock held.
 */
static void okvm_dirty_wrprotect(struct okvm *vm, struct okvm_memslot *slot,
				 const unsigned long *bits, unsigned long nbits,
				 unsigned long first)
{
	unsigned long start, end = 0;

	lockdep_assert_held_write(&vm->mmu_lock);
	for (;;) {
		start = find_next_bit(bits, nbits, end);
		if (start >= nbits)
			break;
		end = find_next_zero_bit(bits, nbits, start);
		okvm_pgtable_wrprotect(&vm->pgt, okvm_memslot_gpa(slot) +
				       ((u64)(first + start) << PAGE_SHIFT),
				       (u64)(end - start) << PAGE_SHIFT);
	}
}

static int okvm_get_dirty_log(struct okvm *vm, struct kvm_dirty_log *log)
{
	struct okvm_memslot *slot;
	unsigned long *snap, words, i;
	size_t bytes;
	int ret = 0;

	mutex_lock(&vm->slots_lock);
	slot = okvm_dirty_log_slot(vm, log->slot);
	if (IS_ERR(slot)) {
		ret = PTR_ERR(slot);
		goto out;
	}
	words = BITS_TO_LONGS(slot->npages);
	bytes = words * sizeof(long);
	/* Allocate before anything is taken: a failure loses no bit. */
	snap = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!snap) {
		ret = -ENOMEM;
		goto out;
	}

	write_lock(&vm->mmu_lock);
	for (i = 0; i < words; i++) {
		if (vm->manual_dirty_log_protect)
			snap[i] = READ_ONCE(slot->dirty_bitmap[i]);
		else
			snap[i] = okvm_dirty_take(vm, slot, i, ~0UL);
	}
	if (!vm->manual_dirty_log_protect)
		okvm_dirty_wrprotect(vm, slot, snap, slot->npages, 0);
	write_unlock(&vm->mmu_lock);

	if (copy_to_user(log->dirty_bitmap, snap, bytes)) {
		/* Put the bits back, so that no write goes unreported. */
		if (!vm->manual_dirty_log_protect) {
			for (i = 0; i < words; i++)
				set_mask_bits(&slot->dirty_bitmap[i], 0, snap[i]);
		}
		ret = -EFAULT;
	}
	kvfree(snap);
out:
	mutex_unlock(&vm->slots_lock);
	return ret;
}

static int okvm_clear_dirty_log(struct okvm *vm, struct kvm_clear_dirty_log *log)
{
	struct okvm_memslot *slot;
	unsigned long *mask, words, i;
	size_t bytes;
	int ret = 0;

	if (!vm->manual_dirty_log_protect)
		return -EINVAL;
	/* KVM's rules: a 64-page aligned start, whole words but at the end. */
	if (log->first_page & 63)
		return -EINVAL;

	mutex_lock(&vm->slots_lock);
	slot = okvm_dirty_log_slot(vm, log->slot);
	if (IS_ERR(slot)) {
		ret = PTR_ERR(slot);
		goto out;
	}
	if (log->first_page > slot->npages ||
	    log->num_pages > slot->npages - log->first_page ||
	    (log->num_pages & 63 &&
	     log->first_page + log->num_pages != slot->npages)) {
		ret = -EINVAL;
		goto out;
	}
	words = BITS_TO_LONGS(log->num_pages);
	bytes = words * sizeof(long);
	mask = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!mask) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(mask, log->dirty_bitmap, bytes)) {
		ret = -EFAULT;
		goto out_free;
	}
	if (log->num_pages % BITS_PER_LONG)
		mask[words - 1] &= BIT(log->num_pages % BITS_PER_LONG) - 1;

	write_lock(&vm->mmu_lock);
	for (i = 0; i < words; i++)
		mask[i] = okvm_dirty_take(vm, slot,
					  log->first_page / BITS_PER_LONG + i,
					  mask[i]);
	okvm_dirty_wrprotect(vm, slot, mask, log->num_pages, log->first_page);
	write_unlock(&vm->mmu_lock);
out_free:
	kvfree(mask);
out:
	mutex_unlock(&vm->slots_lock);
	return ret;
}

long okvm_dirty_log_ioctl(struct okvm *vm, unsigned int ioctl,
			  void __user *argp)
{
	struct kvm_clear_dirty_log clear;
	struct kvm_dirty_log get;

	if (ioctl == KVM_GET_DIRTY_LOG) {
		if (copy_from_user(&get, argp, sizeof(get)))
			return -EFAULT;
		return okvm_get_dirty_log(vm, &get);
	}
	if (copy_from_user(&clear, argp, sizeof(clear)))
		return -EFAULT;
	return okvm_clear_dirty_log(vm, &clear);
}

/*
 * okvm itself wrote guest memory at @gpa (a pfn cache user): log the page
 * as a guest write would be, if its slot logs dirty pages.
 */
void okvm_mark_gpa_dirty(struct okvm *vm, u64 gpa)
{
	struct okvm_memslot *slot;
	u64 gfn = gpa >> PAGE_SHIFT;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	slot = okvm_gfn_to_memslot(okvm_memslots(vm, 0), gfn);
	if (slot && slot->dirty_bitmap && !(slot->flags & OKVM_MEMSLOT_INVALID))
		set_bit(gfn - slot->base_gfn, slot->dirty_bitmap);
	srcu_read_unlock(&vm->srcu, idx);
}
