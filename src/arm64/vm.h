/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 per-VM state: the VMID and the stage-2 registers.
 */
#ifndef OKVM_ARM64_VM_H
#define OKVM_ARM64_VM_H

#include <linux/atomic.h>
#include <linux/types.h>

struct okvm_vm_arch {
	/*
	 * VMID (generation | number) of the VM's stage-2 translations, 0
	 * before it first ran (no TLB entry can exist then). Managed by
	 * vmid.c: replaced at guest entry when its generation is old.
	 */
	atomic64_t vmid;
	/*
	 * VTTBR_EL2.BADDR of the current table (the VMID is added at entry)
	 * and VTCR_EL2. Set when the first vCPU is created; root changes
	 * under mmu_lock with no vCPU in the guest (okvm_mmu_rebuild()).
	 */
	u64 root;
	u64 vtcr;
	/*
	 * Per physical CPU: the vCPU that last entered this VM there, or -1.
	 * Entering another vCPU of the VM on that CPU first invalidates the
	 * CPU's local TLB entries of the VMID. Accessed with interrupts off
	 * on the CPU it belongs to.
	 */
	int __percpu *last_vcpu_ran;
	/*
	 * KVM_CAP_ARM_NISV_TO_USER is on: a data abort outside guest memory
	 * without a valid syndrome exits as KVM_EXIT_ARM_NISV instead of
	 * failing KVM_RUN. Set once by KVM_ENABLE_CAP, read by vCPUs.
	 */
	bool nisv_to_user;
};

#endif /* OKVM_ARM64_VM_H */
