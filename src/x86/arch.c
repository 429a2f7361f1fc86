// SPDX-License-Identifier: GPL-2.0
/*
 * okvm x86_64 architecture code.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kvm.h>
#include <linux/printk.h>
#include <linux/smp.h>

#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>

#include "arch_ops.h"
#include "okvm.h"

/* <asm/kvm.h> before Linux 6.8 does not name the default VM type. */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM	0
#endif

/* VM_CR.SVMDIS (AMD APM vol. 2): firmware has disabled SVM. */
#define OKVM_VM_CR_SVMDIS	BIT(4)

struct okvm_x86_probe {
	bool svm;		/* probe EFER.SVME instead of CR4.VMXE */
	atomic_t busy_cpus;	/* CPUs where virtualization is enabled */
};

/* Runs on every online CPU, with interrupts off. */
static void okvm_x86_probe_cpu(void *data)
{
	struct okvm_x86_probe *probe = data;
	u32 lo, hi;
	bool busy;

	if (probe->svm)
		busy = !rdmsr_safe(MSR_EFER, &lo, &hi) && (lo & EFER_SVME);
	else
		busy = native_read_cr4() & X86_CR4_VMXE;

	if (busy)
		atomic_inc(&probe->busy_cpus);
}

static int okvm_x86_hardware_check(void)
{
	struct okvm_x86_probe probe = { .busy_cpus = ATOMIC_INIT(0) };
	u32 lo, hi;
	int busy;

	/*
	 * The kernel clears X86_FEATURE_VMX when firmware locked VMX off in
	 * IA32_FEAT_CTL, so the feature bit alone covers that case.
	 */
	if (!boot_cpu_has(X86_FEATURE_VMX)) {
		if (!boot_cpu_has(X86_FEATURE_SVM)) {
			pr_err("CPU has neither VMX nor SVM\n");
			return -ENODEV;
		}
		probe.svm = true;
		if (!rdmsr_safe(MSR_VM_CR, &lo, &hi) &&
		    (lo & OKVM_VM_CR_SVMDIS)) {
			pr_err("SVM is disabled by firmware (VM_CR.SVMDIS is set)\n");
			return -ENODEV;
		}
	}

	on_each_cpu(okvm_x86_probe_cpu, &probe, 1);
	busy = atomic_read(&probe.busy_cpus);
	if (busy) {
		pr_err("%s is already enabled on %d CPU(s) by another hypervisor\n",
		       probe.svm ? "SVM" : "VMX", busy);
		return -ENODEV;
	}
	return 0;
}

/* On x86 another /dev/kvm owner only costs okvm its alias. */
static int okvm_x86_kvm_minor_busy(void)
{
	pr_info("/dev/kvm belongs to another driver; only /dev/okvm is provided\n");
	return 0;
}

static int okvm_x86_vm_init(struct okvm *vm, unsigned long type)
{
	bool ept = boot_cpu_has(X86_FEATURE_VMX);

	if (type == OKVM_VM_TYPE_TEST_EPT && okvm_testing)
		ept = true;
	else if (type != KVM_X86_DEFAULT_VM)
		return -EINVAL;
	vm->pgt_format = ept ? &okvm_ept_format : &okvm_npt_format;
	/* Nested paging walks as many levels as the host's own paging. */
	vm->pgt_ia_bits = 48;
	if (native_read_cr4() & X86_CR4_LA57) {
		vm->pgt_flags |= OKVM_PGT_5LEVEL;
		vm->pgt_ia_bits = 57;
	}
	/*
	 * The guest physical address space is the CPU's MAXPHYADDR, but a
	 * 4-level table cannot map more than 48 bits of it.
	 */
	vm->gpa_bits = min_t(unsigned int, boot_cpu_data.x86_phys_bits,
			     vm->pgt_ia_bits);
	return 0;
}

/* As KVM/x86: a slot's last gfn must lie below MAXPHYADDR, else -EINVAL. */
static int okvm_x86_memslot_prepare(struct okvm *vm,
				    const struct okvm_memslot *new)
{
	if (new && new->base_gfn + new->npages - 1 >=
		   1ULL << (vm->gpa_bits - PAGE_SHIFT))
		return -EINVAL;
	return 0;
}

static int okvm_x86_check_extension(long cap)
{
	/* No capability is implemented yet. */
	return 0;
}

static void okvm_x86_vm_destroy(struct okvm *vm)
{
}

static int okvm_x86_vm_enable_cap(struct okvm *vm,
				  const struct kvm_enable_cap *cap)
{
	return -EINVAL;
}

/* No vCPU uses an x86 table yet: nothing caches the old root. */
static void okvm_x86_mmu_new_root(struct okvm *vm)
{
}

static long okvm_x86_vm_ioctl(struct okvm *vm, unsigned int ioctl,
			      void __user *argp)
{
	return -ENOIOCTLCMD;
}

/* x86 has no vCPUs yet: KVM_CREATE_VCPU fails, nothing else is reached. */
static int okvm_x86_vcpu_create(struct okvm_vcpu *vcpu)
{
	return -EINVAL;
}

static void okvm_x86_vcpu_destroy(struct okvm_vcpu *vcpu)
{
}

static long okvm_x86_vcpu_ioctl(struct okvm_vcpu *vcpu, unsigned int ioctl,
				void __user *argp)
{
	return -ENOIOCTLCMD;
}

static int okvm_x86_vcpu_run(struct okvm_vcpu *vcpu)
{
	return -ENOEXEC;
}

const struct okvm_arch_ops okvm_arch_ops = {
	.name			= "x86_64",
	.hardware_check		= okvm_x86_hardware_check,
	.kvm_minor_busy		= okvm_x86_kvm_minor_busy,
	.kvm_minor_probe	= false,
	.vm_init		= okvm_x86_vm_init,
	.memslot_prepare	= okvm_x86_memslot_prepare,
	.check_extension	= okvm_x86_check_extension,
	/* kvm_arch_vm_ioctl() on x86 ends in -ENOTTY. */
	.unknown_vm_ioctl_errno	= -ENOTTY,
	.mmu_new_root		= okvm_x86_mmu_new_root,
	.vm_enable_cap		= okvm_x86_vm_enable_cap,
	.vm_destroy		= okvm_x86_vm_destroy,
	.vm_ioctl		= okvm_x86_vm_ioctl,
	.vcpu_create		= okvm_x86_vcpu_create,
	.vcpu_destroy		= okvm_x86_vcpu_destroy,
	.vcpu_ioctl		= okvm_x86_vcpu_ioctl,
	.vcpu_run		= okvm_x86_vcpu_run,
};
