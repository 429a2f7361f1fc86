/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one interface between okvm's generic code and its architecture code.
 *
 * Exactly one architecture file is linked into okvm.ko (see Kbuild) and it
 * provides the single instance okvm_arch_ops. Generic code never tests the
 * architecture itself; everything that differs goes through this table.
 */
#ifndef OKVM_ARCH_OPS_H
#define OKVM_ARCH_OPS_H

#include <linux/types.h>

struct okvm;
struct okvm_memslot;
struct okvm_vcpu;
struct kvm_enable_cap;

struct okvm_arch_ops {
	/* Short architecture name, for log messages. */
	const char *name;

	/*
	 * Can this CPU host guests? Returns 0, or -ENODEV after printing
	 * exactly one pr_err() line saying why not. Called once at load.
	 */
	int (*hardware_check)(void);

	/*
	 * Called at load when the KVM misc minor (/dev/kvm) is already
	 * registered by another driver. Returns 0 to carry on without the
	 * /dev/kvm alias (after one pr_info() line), or -ENODEV after one
	 * pr_err() line when that owner makes okvm unusable.
	 */
	int (*kvm_minor_busy)(void);

	/*
	 * True if the KVM minor must be probed at load even when the alias
	 * is disabled, because kvm_minor_busy() can refuse the load.
	 */
	bool kvm_minor_probe;

	/*
	 * Check the KVM_CREATE_VM @type (-EINVAL if bad) and set up the
	 * architecture's part of @vm: at least vm->gpa_bits.
	 */
	int (*vm_init)(struct okvm *vm, unsigned long type);

	/*
	 * Last check and preparation of a memslot update that can fail; @new
	 * is NULL for DELETE. Returns 0 or a negative errno (KVM's, e.g. for
	 * a range beyond the VM's guest physical address space).
	 */
	int (*memslot_prepare)(struct okvm *vm, const struct okvm_memslot *new);

	/* KVM_CHECK_EXTENSION answer for @cap: 0 when not supported. */
	int (*check_extension)(long cap);

	/* Negative errno KVM returns for an unknown VM ioctl. */
	int unknown_vm_ioctl_errno;

	/*
	 * The VM's table has a new root (okvm_mmu_rebuild()): point the
	 * hardware's root register value at it and drop every TLB entry of
	 * the old one. Called with mmu_lock held for write, while no vCPU
	 * is in the guest.
	 */
	void (*mmu_new_root)(struct okvm *vm);

	/* KVM_ENABLE_CAP of an architecture capability; -EINVAL if none. */
	int (*vm_enable_cap)(struct okvm *vm, const struct kvm_enable_cap *cap);

	/* Release what vm_init() and the vCPUs set up (the VMID). */
	void (*vm_destroy)(struct okvm *vm);
	/*
	 * Architecture VM ioctls (KVM_ARM_PREFERRED_TARGET, KVM_IRQ_LINE);
	 * -ENOIOCTLCMD for one that is not the architecture's.
	 */
	long (*vm_ioctl)(struct okvm *vm, unsigned int ioctl,
			 void __user *argp);

	/*
	 * vCPUs. vcpu_create() sets up the architecture state of a new vCPU
	 * (-EINVAL where the architecture has no vCPUs yet); vcpu_ioctl()
	 * handles the architecture's vCPU ioctls under vcpu->mutex
	 * (-ENOIOCTLCMD for others); vcpu_run() is KVM_RUN, also under the
	 * mutex, and returns 0 with vcpu->run->exit_reason set or an errno.
	 */
	int (*vcpu_create)(struct okvm_vcpu *vcpu);
	void (*vcpu_destroy)(struct okvm_vcpu *vcpu);
	long (*vcpu_ioctl)(struct okvm_vcpu *vcpu, unsigned int ioctl,
			   void __user *argp);
	int (*vcpu_run)(struct okvm_vcpu *vcpu);
};

extern const struct okvm_arch_ops okvm_arch_ops;

#endif /* OKVM_ARCH_OPS_H */
