// SPDX-License-Identifier: GPL-2.0
/*
 * The test interface (module parameter testing=1): VM ioctls that let the
 * selftests observe and perturb okvm's memory core. Each one goes through
 * the same code and locks as the real paths it observes.
 */
#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "mmu.h"
#include "okvm.h"
#include "pgtable.h"

static int okvm_test_memslot_lookup(struct okvm *vm, void __user *argp)
{
	struct okvm_test_memslot t;
	struct okvm_memslots *slots;
	struct okvm_memslot *slot;
	int idx, ret = 0;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.as_id >= OKVM_ADDRESS_SPACE_NUM ||
	    (t.lookup != OKVM_LOOKUP_GPA && t.lookup != OKVM_LOOKUP_HVA))
		return -EINVAL;

	idx = srcu_read_lock(&vm->srcu);
	slots = okvm_memslots(vm, t.as_id);
	if (t.lookup == OKVM_LOOKUP_GPA)
		slot = okvm_gfn_to_memslot(slots, t.addr >> PAGE_SHIFT);
	else
		slot = okvm_hva_range_first(slots, t.addr, t.addr);
	if (slot) {
		t.slot = slot->id;
		t.flags = slot->flags;
		t.guest_phys_addr = okvm_memslot_gpa(slot);
		t.memory_size = okvm_memslot_size(slot);
		t.userspace_addr = slot->userspace_addr;
	} else {
		ret = -ENOENT;
	}
	t.generation = READ_ONCE(slots->generation);
	srcu_read_unlock(&vm->srcu, idx);

	if (ret)
		return ret;
	return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
}

static int okvm_test_fail_step(struct okvm *vm, void __user *argp)
{
	struct okvm_test_fail t;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.step >= OKVM_FAIL_NR_STEPS)
		return -EINVAL;

	mutex_lock(&vm->slots_lock);
	vm->test_fail[t.step] = t.nth;
	mutex_unlock(&vm->slots_lock);
	return 0;
}

static int okvm_test_resolve(struct okvm *vm, void __user *argp)
{
	struct okvm_test_resolve t;
	enum okvm_fault_result result;
	unsigned int flags = 0;
	int ret;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.access & ~(OKVM_ACCESS_WRITE | OKVM_ACCESS_EXEC))
		return -EINVAL;
	if (t.access & OKVM_ACCESS_WRITE)
		flags |= OKVM_FAULT_WRITE;
	if (t.access & OKVM_ACCESS_EXEC)
		flags |= OKVM_FAULT_EXEC;

	ret = okvm_mmu_fault(vm, t.gpa, flags, &result);
	if (ret)
		return ret;
	t.result = result == OKVM_FAULT_MMIO ? OKVM_RESOLVE_MMIO :
					       OKVM_RESOLVE_MAPPED;
	return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
}

static int okvm_test_read_entry(struct okvm *vm, void __user *argp)
{
	struct okvm_pgtable_leaf leaf;
	struct okvm_test_entry t;
	int ret;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;

	read_lock(&vm->mmu_lock);
	ret = okvm_pgtable_get_leaf(&vm->pgt, t.gpa & PAGE_MASK, &leaf);
	read_unlock(&vm->mmu_lock);
	if (ret)
		return ret;

	t.present = leaf.present;
	t.writable = leaf.present && leaf.writable;
	t.executable = leaf.present && leaf.executable;
	t.young = leaf.present && leaf.young;
	t.dirty = leaf.present && leaf.dirty;
	t.pad = 0;
	t.size = leaf.present ? leaf.size : 0;
	/* The page of gpa itself, not the start of its block. */
	t.phys = leaf.present ?
		 leaf.phys + ((t.gpa & (leaf.size - 1)) & PAGE_MASK) : 0;
	return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
}

static int okvm_test_set_delay(struct okvm *vm, void __user *argp)
{
	struct okvm_test_delay t;

	if (copy_from_user(&t, argp, sizeof(t)))
		return -EFAULT;
	if (t.point >= OKVM_DELAY_NR_POINTS || t.usecs > USEC_PER_SEC)
		return -EINVAL;
	WRITE_ONCE(vm->test_delay_us[t.point], t.usecs);
	return 0;
}

static int okvm_test_rebuild(struct okvm *vm, void __user *argp)
{
	struct okvm_test_rebuild t = {};
	u64 start = ktime_get_ns();
	int ret;

	mutex_lock(&vm->slots_lock);
	ret = okvm_mmu_rebuild(vm, &t.entries_during);
	mutex_unlock(&vm->slots_lock);
	if (ret)
		return ret;
	t.nsecs = ktime_get_ns() - start;
	return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
}

/* Returns -ENOIOCTLCMD for an ioctl that is not part of the interface. */
long okvm_test_ioctl(struct okvm *vm, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case OKVM_TEST_MEMSLOT_LOOKUP:
	case OKVM_TEST_FAIL_STEP:
	case OKVM_TEST_RESOLVE:
	case OKVM_TEST_READ_ENTRY:
	case OKVM_TEST_SET_DELAY:
	case OKVM_TEST_PFNCACHE:
	case OKVM_TEST_REBUILD:
		if (!okvm_testing)
			return -EPERM;
		break;
	case OKVM_TEST_PGTABLE_SELFTEST:
		return okvm_test_pgtable_selftest(vm, argp);
	default:
		return -ENOIOCTLCMD;
	}

	switch (ioctl) {
	case OKVM_TEST_MEMSLOT_LOOKUP:
		return okvm_test_memslot_lookup(vm, argp);
	case OKVM_TEST_FAIL_STEP:
		return okvm_test_fail_step(vm, argp);
	case OKVM_TEST_RESOLVE:
		return okvm_test_resolve(vm, argp);
	case OKVM_TEST_READ_ENTRY:
		return okvm_test_read_entry(vm, argp);
	case OKVM_TEST_PFNCACHE:
		return okvm_test_pfncache_ioctl(vm, argp);
	case OKVM_TEST_REBUILD:
		return okvm_test_rebuild(vm, argp);
	default:
		return okvm_test_set_delay(vm, argp);
	}
}

/* Tear down what the test interface created in @vm. */
void okvm_test_destroy_vm(struct okvm *vm)
{
	okvm_test_pfncache_destroy(vm);
}
