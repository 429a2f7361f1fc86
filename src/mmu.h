/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic MMU: guest faults resolved through memslots and the host's
 * page tables into okvm's second-stage table, and the MMU notifier that
 * keeps that table a subset of the host's mappings.
 */
#ifndef OKVM_MMU_H
#define OKVM_MMU_H

#include <linux/types.h>

struct okvm;
struct okvm_memslot;

/* okvm_mmu_fault() @flags */
#define OKVM_FAULT_WRITE	BIT(0)
#define OKVM_FAULT_EXEC		BIT(1)

enum okvm_fault_result {
	/* The access can be retried: the table now maps it. */
	OKVM_FAULT_MAPPED,
	/* No usable slot (none, INVALID, or a write to a read-only slot). */
	OKVM_FAULT_MMIO,
};

int okvm_mmu_init(struct okvm *vm);
void okvm_mmu_destroy(struct okvm *vm);
int okvm_mmu_fault(struct okvm *vm, u64 gpa, unsigned int flags,
		   enum okvm_fault_result *result);
int okvm_mmu_rebuild(struct okvm *vm, u64 *entries_seen);
void okvm_mmu_wait_rebuild(struct okvm *vm);
void okvm_mmu_unmap_memslot(struct okvm *vm, const struct okvm_memslot *slot);
void okvm_mmu_wrprotect_memslot(struct okvm *vm,
				const struct okvm_memslot *slot);

int okvm_notifier_register(struct okvm *vm);
void okvm_notifier_unregister(struct okvm *vm);
bool okvm_mmu_invalidate_retry(struct okvm *vm, unsigned long seq,
			       unsigned long hva);

#endif /* OKVM_MMU_H */
