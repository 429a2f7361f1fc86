/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 per-VM state: the VMID and the stage-2 registers.
 */
#ifndef OKVM_ARM64_VM_H
#define OKVM_ARM64_VM_H

#include <linux/types.h>

struct okvm_vm_arch {
	/*
	 * VMID of the VM's stage-2 translations, 0 while no vCPU exists
	 * (no TLB entry can exist then). Set under vm->vcpus_lock when the
	 * first vCPU is created, read locklessly afterwards; freed at VM
	 * destruction after its TLB entries are invalidated.
	 */
	u16 vmid;
	/* VTTBR_EL2 (root and VMID) and VTCR_EL2 of the VM; set with vmid. */
	u64 vttbr;
	u64 vtcr;
	/*
	 * Per physical CPU: the vCPU that last entered this VM there, or -1.
	 * Entering another vCPU of the VM on that CPU first invalidates the
	 * CPU's local TLB entries of the VMID. Accessed with interrupts off
	 * on the CPU it belongs to.
	 */
	int __percpu *last_vcpu_ran;
};

#endif /* OKVM_ARM64_VM_H */
