/* SPDX-License-Identifier: GPL-2.0 */
/*
 * okvm generic internal definitions.
 */
#ifndef OKVM_H
#define OKVM_H

#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/types.h>

struct mm_struct;

/* One virtual machine, created by KVM_CREATE_VM. */
struct okvm {
	/*
	 * References to this VM. The VM file holds one; the VM is freed when
	 * the count drops to zero. No lock: refcount_t is atomic.
	 */
	refcount_t users;

	/*
	 * Address space of the creating task, pinned with mmgrab(). Set at
	 * creation and never changed, so read without a lock. Only tasks
	 * running on this mm may issue VM ioctls.
	 */
	struct mm_struct *mm;

	/* KVM_CREATE_VM type argument; set at creation, then read-only. */
	unsigned long type;

	/* Entry in okvm_vm_list; guarded by okvm_vm_lock (see vm.c). */
	struct list_head list;
};

int okvm_create_vm(unsigned long type);
int okvm_check_extension(struct okvm *vm, long cap);

#endif /* OKVM_H */
