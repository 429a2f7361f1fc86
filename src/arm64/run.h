/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry points of the arm64 vCPU code (run.c, switch.S) for arch.c and for
 * the assembly.
 */
#ifndef OKVM_ARM64_RUN_H
#define OKVM_ARM64_RUN_H

#include <linux/compiler.h>
#include <linux/types.h>

struct okvm;
struct okvm_vcpu;
struct okvm_arm64_ctxt;
struct okvm_pgtable_ops;
struct kvm_enable_cap;

/* Stage-2 maintenance for a VM's table (TLB by VMID, caches). */
extern const struct okvm_pgtable_ops okvm_arm64_pgtable_ops;

void okvm_arm64_vm_destroy(struct okvm *vm);
void okvm_arm64_mmu_new_root(struct okvm *vm);
int okvm_arm64_vm_enable_cap(struct okvm *vm, const struct kvm_enable_cap *cap);
long okvm_arm64_vm_ioctl(struct okvm *vm, unsigned int ioctl,
			 void __user *argp);
int okvm_arm64_vcpu_create(struct okvm_vcpu *vcpu);
void okvm_arm64_vcpu_destroy(struct okvm_vcpu *vcpu);
long okvm_arm64_vcpu_ioctl(struct okvm_vcpu *vcpu, unsigned int ioctl,
			   void __user *argp);
int okvm_arm64_vcpu_run(struct okvm_vcpu *vcpu);

/* switch.S */
int __okvm_guest_run(struct okvm_arm64_ctxt *ctxt);
void __okvm_fpsimd_load(__uint128_t *vregs);
void __okvm_fpsimd_save(__uint128_t *vregs);
extern char __okvm_vectors[];
/* Called by switch.S on an exception at EL2 during the switch. */
void __noreturn okvm_arm64_hyp_panic(u64 esr, u64 elr, u64 far);

#endif /* OKVM_ARM64_RUN_H */
