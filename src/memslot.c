// SPDX-License-Identifier: GPL-2.0
/*
 * Memory slots: lookups, and KVM_SET_USER_MEMORY_REGION(2).
 *
 * An update runs in two phases. The prepare phase checks the request and
 * does everything that can fail: it allocates the new slot, the INVALID
 * copy of the old one, the dirty bitmap, and runs the architecture's
 * preparation. Only when all of that succeeded does the commit phase start,
 * and it cannot fail, so a refused update leaves every slot, mapping and
 * dirty bit as it was (seed 002).
 *
 * The commit phase publishes each step through both sets (see memslot.h):
 *   CREATE:     none -> new
 *   DELETE:     old -> INVALID copy, unmap the old range, INVALID -> none
 *   MOVE:       old -> INVALID copy, unmap the old range, INVALID -> new
 *   FLAGS_ONLY: old -> new
 * While a slot is INVALID no fault or notifier callback may map it (seed
 * 000); guest accesses to it end as MMIO exits.
 */
#include <linux/interval_tree_generic.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "arch_ops.h"
#include "memslot.h"
#include "mmu.h"
#include "okvm.h"
#include "pfncache.h"

#define OKVM_HVA_START(n)	((n)->start)
#define OKVM_HVA_LAST(n)	((n)->last)
INTERVAL_TREE_DEFINE(struct okvm_hva_node, rb, unsigned long, subtree_last,
		     OKVM_HVA_START, OKVM_HVA_LAST, static, okvm_hva_tree)

enum okvm_mr_change {
	OKVM_MR_CREATE,
	OKVM_MR_DELETE,
	OKVM_MR_MOVE,
	OKVM_MR_FLAGS_ONLY,
};

void okvm_memslots_init(struct okvm *vm)
{
	int as_id, i;

	for (as_id = 0; as_id < OKVM_ADDRESS_SPACE_NUM; as_id++) {
		for (i = 0; i < 2; i++) {
			struct okvm_memslots *slots = &vm->__memslots[as_id][i];

			slots->node_idx = i;
			slots->gfn_tree = RB_ROOT;
			slots->hva_tree = RB_ROOT_CACHED;
			hash_init(slots->id_hash);
		}
		RCU_INIT_POINTER(vm->memslots[as_id], &vm->__memslots[as_id][0]);
	}
}

/* The active set, for a reader inside an SRCU read-side section. */
struct okvm_memslots *okvm_memslots(struct okvm *vm, int as_id)
{
	return srcu_dereference_check(vm->memslots[as_id], &vm->srcu,
				      lockdep_is_held(&vm->slots_lock));
}

/* The active set, for the writer. */
static struct okvm_memslots *okvm_active_memslots(struct okvm *vm, int as_id)
{
	return rcu_dereference_protected(vm->memslots[as_id],
					 lockdep_is_held(&vm->slots_lock));
}

static struct okvm_memslots *okvm_inactive_memslots(struct okvm *vm, int as_id)
{
	struct okvm_memslots *active = okvm_active_memslots(vm, as_id);

	return &vm->__memslots[as_id][active->node_idx ^ 1];
}

struct okvm_memslot *okvm_id_to_memslot(struct okvm_memslots *slots, u16 id)
{
	int idx = slots->node_idx;
	struct okvm_memslot *slot;

	hash_for_each_possible(slots->id_hash, slot, id_node[idx], id) {
		if (slot->id == id)
			return slot;
	}
	return NULL;
}

static bool okvm_memslot_has_gfn(const struct okvm_memslot *slot, u64 gfn)
{
	return gfn >= slot->base_gfn && gfn - slot->base_gfn < slot->npages;
}

/*
 * The slot covering @gfn, or NULL. O(log n) in the gfn tree, O(1) when the
 * last lookup hit the same slot.
 */
struct okvm_memslot *okvm_gfn_to_memslot(struct okvm_memslots *slots,
					 u64 gfn)
{
	struct okvm_memslot *slot = READ_ONCE(slots->last_used);
	int idx = slots->node_idx;
	struct rb_node *node;

#ifdef OKVM_MUTATE_SEED003
	/* Mutation: a GPA squeezed through 32 bits on its way. */
	gfn = (u32)(gfn << PAGE_SHIFT) >> PAGE_SHIFT;
#endif

	if (slot && okvm_memslot_has_gfn(slot, gfn))
		return slot;

	node = slots->gfn_tree.rb_node;
	while (node) {
		slot = container_of(node, struct okvm_memslot, gfn_node[idx]);
		if (gfn < slot->base_gfn) {
			node = node->rb_left;
		} else if (gfn - slot->base_gfn >= slot->npages) {
			node = node->rb_right;
		} else {
			WRITE_ONCE(slots->last_used, slot);
			return slot;
		}
	}
	return NULL;
}

static struct okvm_memslot *okvm_hva_node_slot(struct okvm_memslots *slots,
					       struct okvm_hva_node *node)
{
	return node ? container_of(node, struct okvm_memslot,
				   hva_node[slots->node_idx]) : NULL;
}

/*
 * Walk the slots whose userspace range meets [start, last]: the first one,
 * then each next one after @slot; NULL at the end.
 */
struct okvm_memslot *okvm_hva_range_first(struct okvm_memslots *slots,
					  unsigned long start,
					  unsigned long last)
{
	return okvm_hva_node_slot(slots,
				  okvm_hva_tree_iter_first(&slots->hva_tree,
							   start, last));
}

struct okvm_memslot *okvm_hva_range_next(struct okvm_memslots *slots,
					 struct okvm_memslot *slot,
					 unsigned long start,
					 unsigned long last)
{
	return okvm_hva_node_slot(slots,
				  okvm_hva_tree_iter_next(&slot->hva_node[slots->node_idx],
							  start, last));
}

/* The first gfn after the slot of @node. */
static u64 okvm_gfn_node_end(struct rb_node *node, int idx)
{
	struct okvm_memslot *slot;

	slot = container_of(node, struct okvm_memslot, gfn_node[idx]);
	return slot->base_gfn + slot->npages;
}

/* Does any slot other than @id cover a gfn in [start, end)? */
static bool okvm_memslot_overlap(struct okvm_memslots *slots, u16 id,
				 u64 start, u64 end)
{
	int idx = slots->node_idx;
	struct rb_node *node = slots->gfn_tree.rb_node;
	struct okvm_memslot *slot;

	/* Descend to the slots that end after start, leftmost first. */
	while (node) {
		slot = container_of(node, struct okvm_memslot, gfn_node[idx]);
		if (slot->base_gfn + slot->npages <= start)
			node = node->rb_right;
		else if (slot->base_gfn >= end)
			node = node->rb_left;
		else
			break;
	}
	if (!node)
		return false;
	if (slot->id != id)
		return true;

	/*
	 * The slot being moved overlaps its own old range; its neighbours
	 * are the only other candidates.
	 */
	node = rb_prev(&slot->gfn_node[idx]);
	if (node && okvm_gfn_node_end(node, idx) > start)
		return true;
	node = rb_next(&slot->gfn_node[idx]);
	return node && container_of(node, struct okvm_memslot,
				    gfn_node[idx])->base_gfn < end;
}

static void okvm_memslot_insert(struct okvm_memslots *slots,
				struct okvm_memslot *slot)
{
	int idx = slots->node_idx;
	struct rb_node **link = &slots->gfn_tree.rb_node, *parent = NULL;

	while (*link) {
		struct okvm_memslot *cur;

		parent = *link;
		cur = container_of(parent, struct okvm_memslot, gfn_node[idx]);
		if (slot->base_gfn < cur->base_gfn)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&slot->gfn_node[idx], parent, link);
	rb_insert_color(&slot->gfn_node[idx], &slots->gfn_tree);

	slot->hva_node[idx].start = slot->userspace_addr;
	slot->hva_node[idx].last = slot->userspace_addr +
				   okvm_memslot_size(slot) - 1;
	okvm_hva_tree_insert(&slot->hva_node[idx], &slots->hva_tree);

	hash_add(slots->id_hash, &slot->id_node[idx], slot->id);
	slots->nr_slots++;
}

static void okvm_memslot_remove(struct okvm_memslots *slots,
				struct okvm_memslot *slot)
{
	int idx = slots->node_idx;

	if (READ_ONCE(slots->last_used) == slot)
		WRITE_ONCE(slots->last_used, NULL);
	rb_erase(&slot->gfn_node[idx], &slots->gfn_tree);
	okvm_hva_tree_remove(&slot->hva_node[idx], &slots->hva_tree);
	hash_del(&slot->id_node[idx]);
	slots->nr_slots--;
}

/* In one set (not the active one), replace @old by @new; either may be NULL. */
static void okvm_memslot_replace(struct okvm_memslots *slots,
				 struct okvm_memslot *old,
				 struct okvm_memslot *new)
{
	if (old)
		okvm_memslot_remove(slots, old);
	if (new)
		okvm_memslot_insert(slots, new);
}

/*
 * Make the inactive set of @as_id the active one. On return no reader
 * uses the old active set any more, and it is returned as the new
 * inactive set.
 */
static struct okvm_memslots *okvm_swap_active_memslots(struct okvm *vm,
						       int as_id)
{
	struct okvm_memslots *old = okvm_active_memslots(vm, as_id);
	struct okvm_memslots *new = okvm_inactive_memslots(vm, as_id);
	u64 gen = old->generation & ~OKVM_MEMSLOT_GEN_UPDATING;

	/*
	 * Readers still on the old set see that it is being replaced, so
	 * anything they derive from it (a cached translation, a pfn cache)
	 * is known to be stale.
	 */
	WRITE_ONCE(old->generation, gen | OKVM_MEMSLOT_GEN_UPDATING);
	WRITE_ONCE(new->generation, gen + 2);
	rcu_assign_pointer(vm->memslots[as_id], new);
	okvm_pfncache_memslots_changed(vm);
	synchronize_srcu_expedited(&vm->srcu);
	return old;
}

/*
 * Replace @old by @new in both sets of @as_id: edit the inactive set,
 * publish it, then edit the set that was active until then.
 */
static void okvm_memslot_publish(struct okvm *vm, int as_id,
				 struct okvm_memslot *old,
				 struct okvm_memslot *new)
{
	struct okvm_memslots *slots = okvm_inactive_memslots(vm, as_id);

	okvm_memslot_replace(slots, old, new);
	slots = okvm_swap_active_memslots(vm, as_id);
	okvm_memslot_replace(slots, old, new);
}

static unsigned long okvm_dirty_bitmap_bytes(const struct okvm_memslot *slot)
{
	return BITS_TO_LONGS(slot->npages) * sizeof(long);
}

static void okvm_memslot_free(struct okvm_memslot *slot, bool free_bitmap)
{
	if (!slot)
		return;
	if (free_bitmap)
		kvfree(slot->dirty_bitmap);
	kfree(slot);
}

/* The test interface's fault injection: fail this pass through @step? */
static bool okvm_fail_step(struct okvm *vm, unsigned int step)
{
	lockdep_assert_held(&vm->slots_lock);
	if (!vm->test_fail[step])
		return false;
	return --vm->test_fail[step] == 0;
}

static struct okvm_memslot *okvm_memslot_alloc(struct okvm *vm,
					       unsigned int step)
{
	if (okvm_fail_step(vm, step))
		return NULL;
	return kzalloc(sizeof(struct okvm_memslot), GFP_KERNEL_ACCOUNT);
}

static int okvm_arch_prepare(struct okvm *vm, const struct okvm_memslot *new)
{
	if (okvm_fail_step(vm, OKVM_FAIL_ARCH_PREPARE))
		return -ENOMEM;
	return okvm_arch_ops.memslot_prepare(vm, new);
}

/*
 * Everything of an update that can fail. On success *@invalid holds the
 * INVALID copy of @old for DELETE and MOVE, and @new (if any) has its dirty
 * bitmap. On failure nothing visible has changed and the caller frees @new.
 */
static int okvm_prepare_memory_region(struct okvm *vm,
				      enum okvm_mr_change change,
				      struct okvm_memslot *old,
				      struct okvm_memslot *new,
				      struct okvm_memslot **invalid)
{
	int ret;

	*invalid = NULL;
	if (change == OKVM_MR_DELETE || change == OKVM_MR_MOVE) {
		*invalid = okvm_memslot_alloc(vm, OKVM_FAIL_INVALID_ALLOC);
		if (!*invalid)
			return -ENOMEM;
		(*invalid)->base_gfn = old->base_gfn;
		(*invalid)->npages = old->npages;
		(*invalid)->userspace_addr = old->userspace_addr;
		(*invalid)->flags = old->flags | OKVM_MEMSLOT_INVALID;
		(*invalid)->id = old->id;
		(*invalid)->as_id = old->as_id;
		/* Shared with @old, so dirty bits survive the INVALID phase. */
		(*invalid)->dirty_bitmap = old->dirty_bitmap;
	}

	if (new && (new->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
		if (old && old->dirty_bitmap) {
			new->dirty_bitmap = old->dirty_bitmap;
		} else if (!okvm_fail_step(vm, OKVM_FAIL_BITMAP_ALLOC)) {
			new->dirty_bitmap = kvzalloc(okvm_dirty_bitmap_bytes(new),
						     GFP_KERNEL_ACCOUNT);
		}
		if (!new->dirty_bitmap) {
			ret = -ENOMEM;
			goto err;
		}
	}

#ifndef OKVM_MUTATE_SEED002
	ret = okvm_arch_prepare(vm, new);
	if (ret)
		goto err;
#endif
	return 0;

err:
	if (new && new->dirty_bitmap != (old ? old->dirty_bitmap : NULL))
		kvfree(new->dirty_bitmap);
	if (new)
		new->dirty_bitmap = NULL;
	okvm_memslot_free(*invalid, false);
	*invalid = NULL;
	return ret;
}

/* The commit phase: cannot fail. Frees what the update replaced. */
static void okvm_commit_memory_region(struct okvm *vm,
				      enum okvm_mr_change change, int as_id,
				      struct okvm_memslot *old,
				      struct okvm_memslot *new,
				      struct okvm_memslot *invalid)
{
	switch (change) {
	case OKVM_MR_CREATE:
		okvm_memslot_publish(vm, as_id, NULL, new);
		vm->nr_memslot_pages += new->npages;
		break;
	case OKVM_MR_DELETE:
	case OKVM_MR_MOVE:
		/*
		 * From here on every reader sees the slot INVALID; once its
		 * range is unmapped nothing can map it again.
		 */
		okvm_memslot_publish(vm, as_id, old, invalid);
		okvm_mmu_unmap_memslot(vm, old);
		okvm_test_delay(vm, OKVM_DELAY_MEMSLOT_INVALID);
		okvm_memslot_publish(vm, as_id, invalid, new);
		okvm_memslot_free(invalid, false);
		if (change == OKVM_MR_DELETE)
			vm->nr_memslot_pages -= old->npages;
		okvm_memslot_free(old, !new ||
				  new->dirty_bitmap != old->dirty_bitmap);
		break;
	case OKVM_MR_FLAGS_ONLY:
		okvm_memslot_publish(vm, as_id, old, new);
		/*
		 * Logging just turned on: every write from now on must fault
		 * so it is logged, and block entries must give way to pages.
		 */
		if (new->dirty_bitmap && !old->dirty_bitmap)
			okvm_mmu_wrprotect_memslot(vm, new);
		okvm_memslot_free(old, new->dirty_bitmap != old->dirty_bitmap);
		break;
	}
}

/* KVM's checks on the request itself; -EINVAL for every malformed one. */
static int okvm_check_memory_region(const struct kvm_userspace_memory_region2 *mem)
{
	if (mem->flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY))
		return -EINVAL;
	if ((mem->slot >> 16) >= OKVM_ADDRESS_SPACE_NUM ||
	    (u16)mem->slot >= OKVM_USER_MEM_SLOTS)
		return -EINVAL;
	if (!PAGE_ALIGNED(mem->memory_size) ||
	    !PAGE_ALIGNED(mem->guest_phys_addr) ||
	    !PAGE_ALIGNED(mem->userspace_addr))
		return -EINVAL;
	/* Tagged addresses, and ranges that wrap or leave user space. */
	if (mem->userspace_addr != untagged_addr(mem->userspace_addr) ||
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if ((mem->memory_size >> PAGE_SHIFT) > OKVM_MEM_MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

int okvm_set_memory_region(struct okvm *vm,
			   const struct kvm_userspace_memory_region2 *mem)
{
	struct okvm_memslot *old, *new = NULL, *invalid;
	int as_id = mem->slot >> 16;
	enum okvm_mr_change change;
	struct okvm_memslots *slots;
	u64 base_gfn, npages;
	u16 id = mem->slot;
	int ret;

	lockdep_assert_held(&vm->slots_lock);

	ret = okvm_check_memory_region(mem);
	if (ret)
		return ret;

	slots = okvm_active_memslots(vm, as_id);
	old = okvm_id_to_memslot(slots, id);
	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	npages = mem->memory_size >> PAGE_SHIFT;

	if (!npages) {
		if (!old)
			return -EINVAL;
		change = OKVM_MR_DELETE;
	} else if (!old) {
		if (vm->nr_memslot_pages + npages < vm->nr_memslot_pages)
			return -EINVAL;
		change = OKVM_MR_CREATE;
	} else {
		/* Size, host range and read-only-ness of a slot are fixed. */
		if (mem->userspace_addr != old->userspace_addr ||
		    npages != old->npages ||
		    ((mem->flags ^ old->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (base_gfn != old->base_gfn)
			change = OKVM_MR_MOVE;
		else if (mem->flags != old->flags)
			change = OKVM_MR_FLAGS_ONLY;
		else
			return 0;
	}

	if ((change == OKVM_MR_CREATE || change == OKVM_MR_MOVE) &&
	    okvm_memslot_overlap(slots, id, base_gfn, base_gfn + npages))
		return -EEXIST;

	if (change != OKVM_MR_DELETE) {
		new = okvm_memslot_alloc(vm, OKVM_FAIL_SLOT_ALLOC);
		if (!new)
			return -ENOMEM;
		new->base_gfn = base_gfn;
		new->npages = npages;
		new->userspace_addr = mem->userspace_addr;
		new->flags = mem->flags;
		new->id = id;
		new->as_id = as_id;
	}

	ret = okvm_prepare_memory_region(vm, change, old, new, &invalid);
	if (ret) {
		okvm_memslot_free(new, false);
		return ret;
	}

#ifdef OKVM_MUTATE_SEED002
	/*
	 * Mutation: the architecture is asked only after the old slot was
	 * invalidated and unmapped; a refusal then puts the old slot back,
	 * but its mappings and the generation have already changed.
	 */
	if (change == OKVM_MR_DELETE || change == OKVM_MR_MOVE) {
		okvm_memslot_publish(vm, as_id, old, invalid);
		okvm_mmu_unmap_memslot(vm, old);
		ret = okvm_arch_prepare(vm, new);
		okvm_memslot_publish(vm, as_id, invalid, old);
	} else {
		ret = okvm_arch_prepare(vm, new);
	}
	if (ret) {
		if (new && (!old || new->dirty_bitmap != old->dirty_bitmap))
			kvfree(new->dirty_bitmap);
		okvm_memslot_free(new, false);
		okvm_memslot_free(invalid, false);
		return ret;
	}
#endif
	okvm_commit_memory_region(vm, change, as_id, old, new, invalid);
	return 0;
}

/* VM teardown: no reader is left, both sets hold the same slots. */
void okvm_memslots_destroy(struct okvm *vm)
{
	int as_id, bkt;

	for (as_id = 0; as_id < OKVM_ADDRESS_SPACE_NUM; as_id++) {
		struct okvm_memslots *slots = &vm->__memslots[as_id][0];
		struct okvm_memslot *slot;
		struct hlist_node *tmp;

		hash_for_each_safe(slots->id_hash, bkt, tmp, slot, id_node[0])
			okvm_memslot_free(slot, true);
	}
}
