/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic vCPU object: file, kvm_run page, locking, blocking and kicks.
 * The architecture's state is struct okvm_vcpu_arch (src/<arch>/vcpu.h).
 */
#ifndef OKVM_VCPU_H
#define OKVM_VCPU_H

#include <linux/kvm.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#ifdef CONFIG_ARM64
#include "arm64/vcpu.h"
#else
/* x86 has no vCPUs yet. */
struct okvm_vcpu_arch {
	int unused;
};
#endif

struct okvm;

/* KVM's limits, so that VMMs size their tables alike. */
#define OKVM_MAX_VCPUS		512
#define OKVM_MAX_VCPU_ID	OKVM_MAX_VCPUS

struct okvm_vcpu {
	/* Set at creation, then read-only. */
	struct okvm *vm;
	u32 vcpu_id;
	/* Index in vm->vcpus[]. */
	u32 idx;
	/* The page userspace maps at offset 0 of the vCPU file. */
	struct kvm_run *run;

	/*
	 * mutex serialises the vCPU's ioctls (KVM_RUN included, which holds
	 * it for the whole run). Everything in arch is guarded by it, except
	 * what the arch header says is also touched from other vCPUs (PSCI
	 * CPU_ON, KVM_IRQ_LINE), which then takes wq.lock.
	 */
	struct mutex mutex;
	/* Where a blocked vCPU (WFI, powered off) waits; see okvm_vcpu_kick(). */
	wait_queue_head_t wq;
	/* CPU the vCPU is running guest code on, or -1; for kicks. */
	int cpu;
	/* A kick arrived: leave the guest and look at the world again. */
	bool kicked;
	/* Guest entries so far; written by the vCPU's thread only. */
	u64 stat_entries;

	struct okvm_vcpu_arch arch;
};

int okvm_vm_create_vcpu(struct okvm *vm, unsigned long id);
void okvm_vm_destroy_vcpus(struct okvm *vm);
/* Wake @vcpu if it blocks, and make it leave the guest if it runs. */
void okvm_vcpu_kick(struct okvm_vcpu *vcpu);
void okvm_kick_all_vcpus(struct okvm *vm);
struct okvm_vcpu *okvm_get_vcpu_by_id(struct okvm *vm, u32 id);

#endif /* OKVM_VCPU_H */
