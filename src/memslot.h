/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory slots: which host virtual range backs which guest physical range.
 *
 * Each address space of a VM has two memslot sets. Readers (the fault
 * path, notifiers, lookups) use the active set under vm->srcu and never
 * take a lock. A writer, holding vm->slots_lock, edits the inactive set,
 * publishes it as the active one, waits for the readers of the old one to
 * leave (synchronize_srcu) and then repeats the edit on the old set, so the
 * two sets are identical again whenever no update is running. A slot
 * object is shared by both sets (it has one tree node per set) and never
 * changes after it was published; an update replaces it by a new object.
 */
#ifndef OKVM_MEMSLOT_H
#define OKVM_MEMSLOT_H

#include <linux/hashtable.h>
#include <linux/kvm.h>
#include <linux/rbtree.h>
#include <linux/types.h>

#include <linux/okvm.h>

struct okvm;

/*
 * Slot ids userspace may use: KVM_CAP_NR_MEMSLOTS. The same number x86 KVM
 * reports, so selftests written for KVM size their loops alike.
 */
#define OKVM_USER_MEM_SLOTS		32764
/* okvm has one address space (no SMM). */
#define OKVM_ADDRESS_SPACE_NUM		1
/* The largest slot KVM accepts, in pages. */
#define OKVM_MEM_MAX_NR_PAGES		((1ULL << 31) - 1)

/* Flag of a slot being deleted or moved: it must never be mapped again. */
#define OKVM_MEMSLOT_INVALID		BIT(16)

/* Bit 0 of a set's generation: an update of the memslots is in progress. */
#define OKVM_MEMSLOT_GEN_UPDATING	1ULL

/* A slot's place in a set's interval tree of userspace ranges. */
struct okvm_hva_node {
	struct rb_node rb;
	unsigned long start;		/* userspace_addr */
	unsigned long last;		/* last byte of the range */
	unsigned long subtree_last;	/* kept by the interval tree */
};

struct okvm_memslot {
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	/* KVM_MEM_* flags, plus OKVM_MEMSLOT_INVALID. */
	u32 flags;
	u16 id;
	u16 as_id;
	/*
	 * One bit per page, set when the page was written while dirty
	 * logging is on; NULL when it is off. The bitmap is handed on from
	 * the old slot to its replacement on MOVE and FLAGS_ONLY.
	 */
	unsigned long *dirty_bitmap;

	/* Membership in each of the two sets, indexed by set->node_idx. */
	struct rb_node gfn_node[2];
	struct okvm_hva_node hva_node[2];
	struct hlist_node id_node[2];
};

struct okvm_memslots {
	/*
	 * Even, and larger than that of every set published before; bit 0
	 * (OKVM_MEMSLOT_GEN_UPDATING) is set while this set is being
	 * replaced. Written by the writer under slots_lock, read locklessly.
	 */
	u64 generation;
	/* Index of this set's nodes in struct okvm_memslot: 0 or 1. */
	int node_idx;
	/* Number of slots in the set. */
	int nr_slots;
	/*
	 * Slot of the last successful gfn lookup, a hint only. Readers race
	 * on it harmlessly; the writer clears it when it removes that slot.
	 */
	struct okvm_memslot *last_used;
	/* By base_gfn; slots never overlap. */
	struct rb_root gfn_tree;
	/* By userspace address range; ranges may overlap. */
	struct rb_root_cached hva_tree;
	/* By slot id. */
	DECLARE_HASHTABLE(id_hash, 8);
};

void okvm_memslots_init(struct okvm *vm);
void okvm_memslots_destroy(struct okvm *vm);
int okvm_set_memory_region(struct okvm *vm,
			   const struct kvm_userspace_memory_region2 *mem);

struct okvm_memslots *okvm_memslots(struct okvm *vm, int as_id);
struct okvm_memslot *okvm_id_to_memslot(struct okvm_memslots *slots, u16 id);
struct okvm_memslot *okvm_gfn_to_memslot(struct okvm_memslots *slots,
					 u64 gfn);
struct okvm_memslot *okvm_hva_range_first(struct okvm_memslots *slots,
					  unsigned long start,
					  unsigned long last);
struct okvm_memslot *okvm_hva_range_next(struct okvm_memslots *slots,
					 struct okvm_memslot *slot,
					 unsigned long start,
					 unsigned long last);

static inline u64 okvm_memslot_gpa(const struct okvm_memslot *slot)
{
	return slot->base_gfn << PAGE_SHIFT;
}

static inline u64 okvm_memslot_size(const struct okvm_memslot *slot)
{
	return slot->npages << PAGE_SHIFT;
}

#endif /* OKVM_MEMSLOT_H */
