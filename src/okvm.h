/* SPDX-License-Identifier: GPL-2.0 */
/*
 * okvm generic internal definitions.
 */
#ifndef OKVM_H
#define OKVM_H

#include <linux/delay.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/rwlock.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/okvm.h>

#include "memslot.h"
#include "pgtable.h"
#include "vcpu.h"

#ifdef CONFIG_ARM64
#include "arm64/vm.h"
#else
struct okvm_vm_arch {
	int unused;
};
#endif

struct mm_struct;
struct okvm_test_pfncache_state;

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

	/*
	 * Guest physical address bits the VM may use (IPA size on arm64,
	 * MAXPHYADDR on x86); set by the architecture at creation.
	 */
	unsigned int gpa_bits;

	/*
	 * Serialises memslot updates. Guards the inactive memslot sets,
	 * nr_memslot_pages and test_fail. Taken before the MMU lock.
	 */
	struct mutex slots_lock;
	/* Readers of vm->memslots hold it for read (srcu_read_lock()). */
	struct srcu_struct srcu;
	/* The active set of each address space; see memslot.h. */
	struct okvm_memslots __rcu *memslots[OKVM_ADDRESS_SPACE_NUM];
	struct okvm_memslots __memslots[OKVM_ADDRESS_SPACE_NUM][2];
	/* Pages in all slots, to refuse a total that would wrap. */
	u64 nr_memslot_pages;
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on; guarded by slots_lock. */
	bool manual_dirty_log_protect;

	/* Test interface: armed failures of memslot update steps. */
	u32 test_fail[OKVM_FAIL_NR_STEPS];
	/* Test interface: microseconds to stall at each OKVM_DELAY_* point. */
	u32 test_delay_us[OKVM_DELAY_NR_POINTS];

	/*
	 * Format of the second-stage table, its flags and its input address
	 * bits (at least gpa_bits); set by vm_init.
	 */
	const struct okvm_pgtable_format *pgt_format;
	u64 pgt_flags;
	unsigned int pgt_ia_bits;

	/*
	 * mmu_lock guards the second-stage table and everything below it in
	 * this struct. Anything that changes the table holds it for write.
	 * It is the innermost VM lock: taken after slots_lock, never held
	 * across anything that sleeps.
	 */
	rwlock_t mmu_lock;
	struct okvm_pgtable pgt;
	/*
	 * Zeroed table pages faults topped up but did not use, for the next
	 * fault; guarded by pgt_spare_lock (innermost, never held across
	 * anything else).
	 */
	spinlock_t pgt_spare_lock;
	struct okvm_pgtable_cache pgt_spare;
	/* Registered on mm at creation; see notifier.c. */
	struct mmu_notifier mmu_notifier;
	/*
	 * Bumped at the end of every invalidation; and the invalidations
	 * between their start and end, and their hva union. The pfn cache
	 * reads seq and in_progress without mmu_lock (see pfncache.c), so
	 * those two are written with WRITE_ONCE.
	 */
	unsigned long mmu_invalidate_seq;
	long mmu_invalidate_in_progress;
	unsigned long mmu_invalidate_start;
	unsigned long mmu_invalidate_end;
	/* The mm was released: nothing may be mapped any more. */
	bool mmu_released;
	/*
	 * A rebuild of the whole table is running (okvm_mmu_rebuild(), seed
	 * 004): no fault installs and no vCPU enters the guest until it is
	 * over. Written under mmu_lock; vCPU entry reads it with interrupts
	 * off. Waiters sleep on rebuild_wq.
	 */
	bool mmu_rebuild_in_progress;
	wait_queue_head_t rebuild_wq;

	/*
	 * Every gfn-to-pfn cache of the VM, for the notifier and memslot
	 * updates to invalidate. pfncache_list_lock guards the list; it is
	 * taken before a cache's own lock, never under it nor under
	 * mmu_lock. See pfncache.c.
	 */
	spinlock_t pfncache_list_lock;
	struct list_head pfncache_list;

	/* Test interface: the test-owned caches; see test.c. */
	struct okvm_test_pfncache_state *test_pfncache;

	/*
	 * vCPUs by creation order. vcpus_lock serialises KVM_CREATE_VCPU;
	 * an entry below online_vcpus is set and never changes until the VM
	 * is destroyed, so readers take no lock: they read online_vcpus
	 * (acquire) and then the entries below it.
	 */
	struct mutex vcpus_lock;
	struct okvm_vcpu *vcpus[OKVM_MAX_VCPUS];
	atomic_t online_vcpus;

	struct okvm_vm_arch arch;
};

/* Stall for the delay the test interface set at @point, if any. */
static inline void okvm_test_delay(struct okvm *vm, unsigned int point)
{
	u32 us = READ_ONCE(vm->test_delay_us[point]);

	if (us)
		fsleep(us);
}

/* Module parameter testing=1: the OKVM_TEST_* ioctls are allowed. */
extern bool okvm_testing;

int okvm_create_vm(unsigned long type);
void okvm_get_vm(struct okvm *vm);
void okvm_put_vm(struct okvm *vm);
void okvm_mark_gpa_dirty(struct okvm *vm, u64 gpa);
long okvm_dirty_log_ioctl(struct okvm *vm, unsigned int ioctl,
			  void __user *argp);
long okvm_test_ioctl(struct okvm *vm, unsigned int ioctl, void __user *argp);
void okvm_test_destroy_vm(struct okvm *vm);
long okvm_test_pfncache_ioctl(struct okvm *vm, void __user *argp);
void okvm_test_pfncache_destroy(struct okvm *vm);
int okvm_check_extension(struct okvm *vm, long cap);

#endif /* OKVM_H */
