// SPDX-License-Identifier: GPL-2.0
/*
 * okvm arm64 architecture code.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/kvm.h>
#include <linux/minmax.h>
#include <linux/cpumask.h>
#include <linux/printk.h>

#include <asm/cpufeature.h>
#include <asm/sysreg.h>
#include <asm/virt.h>

#include "arch_ops.h"
#include "okvm.h"
#include "run.h"
#include "vcpu.h"

/* Largest guest IPA size okvm's stage-2 code is written for. */
#define OKVM_ARM64_MAX_IPA_BITS		48
/* Smallest IPA size KVM accepts in the KVM_CREATE_VM type. */
#define OKVM_ARM64_MIN_IPA_BITS		32
/* IPA size used when the KVM_CREATE_VM type leaves it 0. */
#define OKVM_ARM64_DEFAULT_IPA_BITS	40
/* ID_AA64MMFR0_EL1.PARange is bits [3:0]. */
#define OKVM_ARM64_PARANGE_MASK		0xfULL

/*
 * Guest IPA limit: min(OKVM_ARM64_MAX_IPA_BITS, host PA range). Written
 * once by the hardware check at module load, before any device exists,
 * and only read afterwards, so it needs no lock.
 */
static unsigned int okvm_ipa_limit;

static unsigned int okvm_parange_to_bits(u64 parange)
{
	switch (parange) {
	case 0:
		return 32;
	case 1:
		return 36;
	case 2:
		return 40;
	case 3:
		return 42;
	case 4:
		return 44;
	case 5:
		return 48;
	default:
		/* 52 bits, or a later encoding meaning at least that. */
		return 52;
	}
}

static int okvm_arm64_hardware_check(void)
{
	u64 mmfr0;

	/*
	 * okvm runs its hypervisor code in the kernel's own exception level,
	 * so the host kernel must already run at EL2 (VHE).
	 */
	if (!is_kernel_in_hyp_mode()) {
		pr_err("kernel is not running at EL2 with VHE; boot it at EL2 on a CPU with VHE\n");
		return -ENODEV;
	}

	mmfr0 = read_sanitised_ftr_reg(SYS_ID_AA64MMFR0_EL1);
	okvm_ipa_limit = min_t(unsigned int, OKVM_ARM64_MAX_IPA_BITS,
			       okvm_parange_to_bits(mmfr0 & OKVM_ARM64_PARANGE_MASK));
	return 0;
}

/*
 * There is no exported way to ask whether the built-in KVM owns EL2. An
 * initialised in-tree KVM always registers the KVM misc minor, while KVM
 * booted with kvm-arm.mode=none does not, so a busy minor is taken to mean
 * that KVM owns EL2 and okvm must not load.
 */
static int okvm_arm64_kvm_minor_busy(void)
{
	pr_err("EL2 is owned by KVM; boot with kvm-arm.mode=none\n");
	return -ENODEV;
}

static int okvm_arm64_vm_init(struct okvm *vm, unsigned long type)
{
	unsigned long ipa_bits;

	if (type & ~KVM_VM_TYPE_ARM_IPA_SIZE_MASK)
		return -EINVAL;

	ipa_bits = KVM_VM_TYPE_ARM_IPA_SIZE(type);
	if (!ipa_bits)
		ipa_bits = OKVM_ARM64_DEFAULT_IPA_BITS;
	if (ipa_bits < OKVM_ARM64_MIN_IPA_BITS || ipa_bits > okvm_ipa_limit)
		return -EINVAL;
	vm->gpa_bits = ipa_bits;
	vm->pgt_format = &okvm_stage2_format;
	vm->pgt_ia_bits = ipa_bits;
	/* ID_AA64MMFR2_EL1.FWB (bits 43:40): stage 2 can force write-back. */
	if ((read_sanitised_ftr_reg(SYS_ID_AA64MMFR2_EL1) >> 40) & 0xf)
		vm->pgt_flags |= OKVM_PGT_FWB;
	/* TLB and cache maintenance once a guest can use the table. */
	vm->pgt.ops = &okvm_arm64_pgtable_ops;
	return 0;
}

/* As KVM/arm64: a slot must end inside the IPA space, else -EFAULT. */
static int okvm_arm64_memslot_prepare(struct okvm *vm,
				      const struct okvm_memslot *new)
{
	if (new && new->base_gfn + new->npages >
		   1ULL << (vm->gpa_bits - PAGE_SHIFT))
		return -EFAULT;
	return 0;
}

static int okvm_arm64_check_extension(long cap)
{
	switch (cap) {
	case KVM_CAP_ARM_VM_IPA_SIZE:
		return okvm_ipa_limit;
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_ARM_NISV_TO_USER:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_ONE_REG:
	case KVM_CAP_ARM_PSCI:
	case KVM_CAP_ARM_PSCI_0_2:
		return 1;
	case KVM_CAP_STEAL_TIME:
		return IS_ENABLED(CONFIG_SCHED_INFO);
	case KVM_CAP_NR_VCPUS:
		return min_t(int, num_online_cpus(), OKVM_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return OKVM_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return OKVM_MAX_VCPU_ID;
	default:
		return 0;
	}
}

const struct okvm_arch_ops okvm_arch_ops = {
	.name			= "arm64",
	.hardware_check		= okvm_arm64_hardware_check,
	.kvm_minor_busy		= okvm_arm64_kvm_minor_busy,
	.kvm_minor_probe	= true,
	.vm_init		= okvm_arm64_vm_init,
	.memslot_prepare	= okvm_arm64_memslot_prepare,
	.check_extension	= okvm_arm64_check_extension,
	/* kvm_arch_vm_ioctl() on arm64 ends in -EINVAL. */
	.unknown_vm_ioctl_errno	= -EINVAL,
	.mmu_new_root		= okvm_arm64_mmu_new_root,
	.vm_enable_cap		= okvm_arm64_vm_enable_cap,
	.vm_destroy		= okvm_arm64_vm_destroy,
	.vm_ioctl		= okvm_arm64_vm_ioctl,
	.vcpu_create		= okvm_arm64_vcpu_create,
	.vcpu_destroy		= okvm_arm64_vcpu_destroy,
	.vcpu_ioctl		= okvm_arm64_vcpu_ioctl,
	.vcpu_run		= okvm_arm64_vcpu_run,
};
