// SPDX-License-Identifier: GPL-2.0
/*
 * Paravirtualised stolen time (Arm DEN0057A), with KVM's ABI: userspace
 * gives each vCPU a 64-byte structure in guest memory (vCPU device
 * attribute KVM_ARM_VCPU_PVTIME_CTRL / KVM_ARM_VCPU_PVTIME_IPA); the guest
 * finds it with the PV_TIME_FEATURES and PV_TIME_ST hypercalls; okvm keeps
 * its stolen_time field up to date with the time the vCPU's task waited
 * for a CPU (sched_info.run_delay), written before the vCPU enters the
 * guest through a gfn-to-pfn cache (Documentation/pfncache.rst).
 */
#include <linux/errno.h>
#include <linux/kvm.h>
#include <linux/sched.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "okvm.h"
#include "pfncache.h"
#include "pvtime.h"
#include "vcpu.h"

/* The structure's layout (DEN0057A): little-endian fields, 64 bytes. */
#define OKVM_PVTIME_SIZE	64
#define OKVM_PVTIME_STOLEN_OFF	8

static bool okvm_pvtime_supported(void)
{
	return IS_ENABLED(CONFIG_SCHED_INFO);
}

static u64 okvm_pvtime_run_delay(void)
{
#ifdef CONFIG_SCHED_INFO
	return current->sched_info.run_delay;
#else
	return 0;
#endif
}

void okvm_arm64_pvtime_init(struct okvm_vcpu *vcpu)
{
	struct okvm_arm64_pvtime *pv = &vcpu->arch.pvtime;

	okvm_pfncache_init(&pv->gpc, vcpu->vm);
	pv->base = OKVM_PVTIME_NO_BASE;
}

void okvm_arm64_pvtime_destroy(struct okvm_vcpu *vcpu)
{
	okvm_pfncache_destroy(&vcpu->arch.pvtime.gpc);
}

static int okvm_pvtime_write(struct okvm_vcpu *vcpu, unsigned int offset,
			     void *data, unsigned int len)
{
	struct okvm_arm64_pvtime *pv = &vcpu->arch.pvtime;
	int ret;

	ret = okvm_pfncache_rw(&pv->gpc, offset, data, len, true);
	if (!ret)
		okvm_mark_gpa_dirty(vcpu->vm, pv->base + offset);
	return ret;
}

/*
 * Before each guest entry: add the time the task waited for a CPU since
 * the last update and publish the total. A structure that cannot be
 * reached (its slot deleted, its page unmapped) is left alone, as KVM
 * does; the next entry tries again.
 */
void okvm_arm64_pvtime_update(struct okvm_vcpu *vcpu)
{
	struct okvm_arm64_pvtime *pv = &vcpu->arch.pvtime;
	u64 delay = okvm_pvtime_run_delay();
	__le64 stolen;

	if (pv->base == OKVM_PVTIME_NO_BASE || delay == pv->last_run_delay)
		return;
	pv->stolen += delay - pv->last_run_delay;
	pv->last_run_delay = delay;
	stolen = cpu_to_le64(pv->stolen);
	okvm_pvtime_write(vcpu, OKVM_PVTIME_STOLEN_OFF, &stolen,
			  sizeof(stolen));
}

/*
 * PV_TIME_ST: (re)initialise the structure (revision 0, no attributes,
 * the stolen time so far) and return its IPA, or NOT_SUPPORTED.
 */
long okvm_arm64_pvtime_st(struct okvm_vcpu *vcpu)
{
	struct okvm_arm64_pvtime *pv = &vcpu->arch.pvtime;
	u8 init[OKVM_PVTIME_SIZE] = {};
	__le64 stolen;

	if (pv->base == OKVM_PVTIME_NO_BASE)
		return -1;
	pv->last_run_delay = okvm_pvtime_run_delay();
	stolen = cpu_to_le64(pv->stolen);
	memcpy(init + OKVM_PVTIME_STOLEN_OFF, &stolen, sizeof(stolen));
	okvm_pvtime_write(vcpu, 0, init, sizeof(init));
	return pv->base;
}

/* PV_TIME_FEATURES for @fn: 0 when offered, NOT_SUPPORTED (-1) if not. */
long okvm_arm64_pvtime_features(struct okvm_vcpu *vcpu, u32 fn)
{
	if (vcpu->arch.pvtime.base == OKVM_PVTIME_NO_BASE)
		return -1;
	return fn == OKVM_SMCCC_PV_TIME_FEATURES ||
	       fn == OKVM_SMCCC_PV_TIME_ST ? 0 : -1;
}

static int okvm_pvtime_set_base(struct okvm_vcpu *vcpu, u64 __user *uaddr)
{
	struct okvm_arm64_pvtime *pv = &vcpu->arch.pvtime;
	struct okvm *vm = vcpu->vm;
	struct okvm_memslot *slot;
	int idx, ret;
	u64 ipa;

	if (get_user(ipa, uaddr))
		return -EFAULT;
	if (!IS_ALIGNED(ipa, OKVM_PVTIME_SIZE))
		return -EINVAL;
	if (pv->base != OKVM_PVTIME_NO_BASE)
		return -EEXIST;
	idx = srcu_read_lock(&vm->srcu);
	slot = okvm_gfn_to_memslot(okvm_memslots(vm, 0), ipa >> PAGE_SHIFT);
	ret = slot && !(slot->flags & OKVM_MEMSLOT_INVALID) ? 0 : -EINVAL;
	srcu_read_unlock(&vm->srcu, idx);
	if (ret)
		return ret;

	pv->base = ipa;
	pv->stolen = 0;
	pv->last_run_delay = okvm_pvtime_run_delay();
	/*
	 * The page may not be usable yet (or the slot may go away later):
	 * then the cache stays active but invalid, and each use refreshes.
	 */
	okvm_pfncache_activate(&pv->gpc, ipa, 0, OKVM_PVTIME_SIZE, true);
	return 0;
}

/* KVM_{HAS,GET,SET}_DEVICE_ATTR on a vCPU. */
int okvm_arm64_vcpu_attr(struct okvm_vcpu *vcpu, unsigned int ioctl,
			 const struct kvm_device_attr *attr)
{
	u64 __user *uaddr = u64_to_user_ptr(attr->addr);

	if (attr->group != KVM_ARM_VCPU_PVTIME_CTRL ||
	    attr->attr != KVM_ARM_VCPU_PVTIME_IPA || !okvm_pvtime_supported())
		return -ENXIO;
	switch (ioctl) {
	case KVM_HAS_DEVICE_ATTR:
		return 0;
	case KVM_GET_DEVICE_ATTR:
		return put_user(vcpu->arch.pvtime.base, uaddr) ? -EFAULT : 0;
	default:
		return okvm_pvtime_set_base(vcpu, uaddr);
	}
}
