// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 vCPUs: the run loop, the EL2 configuration around the world
 * switch (switch.S), exits (stage-2 aborts, MMIO, HVC/SMC and PSCI, WFI,
 * trapped system registers), the VMID and stage-2 TLB maintenance.
 * Documentation/vcpu-arm64.rst describes the design.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <asm/barrier.h>
#include <asm/cacheflush.h>
#include <asm/cpufeature.h>
#include <asm/cputype.h>
#include <asm/neon.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "mmu.h"
#include "okvm.h"
#include "run.h"
#include "vcpu.h"
#include "vmid.h"

/* HCR_EL2 bits (Arm ARM D23.2.48). */
#define OKVM_HCR_VM		BIT_ULL(0)	/* stage 2 on */
#define OKVM_HCR_SWIO		BIT_ULL(1)
#define OKVM_HCR_PTW		BIT_ULL(2)
#define OKVM_HCR_FMO		BIT_ULL(3)	/* FIQ to EL2 */
#define OKVM_HCR_IMO		BIT_ULL(4)	/* IRQ to EL2 */
#define OKVM_HCR_AMO		BIT_ULL(5)	/* SError to EL2 */
#define OKVM_HCR_VF		BIT_ULL(6)	/* virtual FIQ pending */
#define OKVM_HCR_VI		BIT_ULL(7)	/* virtual IRQ pending */
#define OKVM_HCR_FB		BIT_ULL(9)	/* broadcast TLBI/IC */
#define OKVM_HCR_BSU_IS		BIT_ULL(10)
#define OKVM_HCR_TWI		BIT_ULL(13)	/* trap WFI */
#define OKVM_HCR_TID3		BIT_ULL(18)	/* trap ID registers */
#define OKVM_HCR_TSC		BIT_ULL(19)	/* trap SMC */
#define OKVM_HCR_TIDCP		BIT_ULL(20)
#define OKVM_HCR_TACR		BIT_ULL(21)
#define OKVM_HCR_TSW		BIT_ULL(22)	/* trap DC by set/way */
#define OKVM_HCR_TGE		BIT_ULL(27)
#define OKVM_HCR_RW		BIT_ULL(31)	/* EL1 is AArch64 */
#define OKVM_HCR_E2H		BIT_ULL(34)
#define OKVM_HCR_TLOR		BIT_ULL(35)
#define OKVM_HCR_FWB		BIT_ULL(46)

/* What a guest runs with; E2H stays set, TGE clear. */
#define OKVM_HCR_GUEST	(OKVM_HCR_VM | OKVM_HCR_SWIO | OKVM_HCR_PTW | \
			 OKVM_HCR_FMO | OKVM_HCR_IMO | OKVM_HCR_AMO | \
			 OKVM_HCR_FB | OKVM_HCR_BSU_IS | OKVM_HCR_TWI | \
			 OKVM_HCR_TID3 | OKVM_HCR_TSC | OKVM_HCR_TIDCP | \
			 OKVM_HCR_TACR | OKVM_HCR_TSW | OKVM_HCR_RW | \
			 OKVM_HCR_E2H | OKVM_HCR_TLOR)

/* MDCR_EL2: trap debug, OS lock, debug ROM and PMU accesses. */
#define OKVM_MDCR_TRAPS	(BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(9) | \
			 BIT_ULL(10) | BIT_ULL(11))

/* CPTR_EL2 in its E2H layout (the CPACR_EL1 name from EL2). */
#define OKVM_CPTR_ZEN		GENMASK_ULL(17, 16)
#define OKVM_CPTR_FPEN		GENMASK_ULL(21, 20)
#define OKVM_CPTR_SMEN		GENMASK_ULL(25, 24)
#define OKVM_CPTR_TTA		BIT_ULL(28)

/* CNTHCTL_EL2 with E2H: guest EL1 may read the counter, not the timer. */
#define OKVM_CNTHCTL_EL1PCTEN	BIT_ULL(10)
#define OKVM_CNTHCTL_EL1PTEN	BIT_ULL(11)

/* CNTV_CTL_EL0.IMASK: the timer's interrupt is masked. */
#define OKVM_CNTV_CTL_IMASK	BIT_ULL(1)

/* VTCR_EL2.VS: 16-bit VMIDs. */
#define OKVM_VTCR_VS		BIT_ULL(19)

/* The _EL12/_EL02 aliases of the guest's EL1 registers, from EL2. */
#define OKVM_SCTLR_EL12		sys_reg(3, 5, 1, 0, 0)
#define OKVM_CPACR_EL12		sys_reg(3, 5, 1, 0, 2)
#define OKVM_TTBR0_EL12		sys_reg(3, 5, 2, 0, 0)
#define OKVM_TTBR1_EL12		sys_reg(3, 5, 2, 0, 1)
#define OKVM_TCR_EL12		sys_reg(3, 5, 2, 0, 2)
#define OKVM_SPSR_EL12		sys_reg(3, 5, 4, 0, 0)
#define OKVM_ELR_EL12		sys_reg(3, 5, 4, 0, 1)
#define OKVM_AFSR0_EL12		sys_reg(3, 5, 5, 1, 0)
#define OKVM_AFSR1_EL12		sys_reg(3, 5, 5, 1, 1)
#define OKVM_ESR_EL12		sys_reg(3, 5, 5, 2, 0)
#define OKVM_FAR_EL12		sys_reg(3, 5, 6, 0, 0)
#define OKVM_MAIR_EL12		sys_reg(3, 5, 10, 2, 0)
#define OKVM_AMAIR_EL12		sys_reg(3, 5, 10, 3, 0)
#define OKVM_VBAR_EL12		sys_reg(3, 5, 12, 0, 0)
#define OKVM_CONTEXTIDR_EL12	sys_reg(3, 5, 13, 0, 1)
#define OKVM_CNTKCTL_EL12	sys_reg(3, 5, 14, 1, 0)
#define OKVM_CNTV_CTL_EL02	sys_reg(3, 5, 14, 3, 1)
#define OKVM_CNTV_CVAL_EL02	sys_reg(3, 5, 14, 3, 2)

/* ESR_ELx fields. */
#define OKVM_ESR_EC(esr)	(((esr) >> 26) & 0x3f)
#define OKVM_ESR_IL		BIT_ULL(25)
#define OKVM_EC_UNKNOWN		0x00
#define OKVM_EC_WFX		0x01
#define OKVM_EC_HVC64		0x16
#define OKVM_EC_SMC64		0x17
#define OKVM_EC_SYS64		0x18
#define OKVM_EC_IABT_LOW	0x20
#define OKVM_EC_IABT_CUR	0x21
#define OKVM_EC_DABT_LOW	0x24
#define OKVM_EC_DABT_CUR	0x25
/* Data/instruction abort ISS. */
#define OKVM_ISS_ISV		BIT_ULL(24)
#define OKVM_ISS_SAS(esr)	(((esr) >> 22) & 3)
#define OKVM_ISS_SSE		BIT_ULL(21)
#define OKVM_ISS_SRT(esr)	(((esr) >> 16) & 0x1f)
#define OKVM_ISS_SF		BIT_ULL(15)
#define OKVM_ISS_CM		BIT_ULL(8)
#define OKVM_ISS_S1PTW		BIT_ULL(7)
#define OKVM_ISS_WNR		BIT_ULL(6)
#define OKVM_ISS_FSC(esr)	((esr) & 0x3f)
#define OKVM_FSC_EXTABT		0x10
/* WFx ISS bit 0: WFE rather than WFI. */
#define OKVM_ISS_WFE		BIT_ULL(0)

/* SMCCC / PSCI function ids (SMC Calling Convention, PSCI 1.0). */
#define OKVM_SMCCC_VERSION		0x80000000
#define OKVM_SMCCC_ARCH_FEATURES	0x80000001
#define OKVM_PSCI_VERSION		0x84000000
#define OKVM_PSCI_CPU_SUSPEND		0x84000001
#define OKVM_PSCI_CPU_OFF		0x84000002
#define OKVM_PSCI_CPU_ON		0x84000003
#define OKVM_PSCI_AFFINITY_INFO		0x84000004
#define OKVM_PSCI_MIGRATE_INFO_TYPE	0x84000006
#define OKVM_PSCI_SYSTEM_OFF		0x84000008
#define OKVM_PSCI_SYSTEM_RESET		0x84000009
#define OKVM_PSCI_FEATURES		0x8400000a
/* The SMC64 variant of a function: bit 30 set. */
#define OKVM_SMCCC_64			0x40000000
#define OKVM_PSCI_RET_SUCCESS		0
#define OKVM_PSCI_RET_NOT_SUPPORTED	(-1)
#define OKVM_PSCI_RET_INVALID_PARAMS	(-2)
#define OKVM_PSCI_RET_ALREADY_ON	(-4)
#define OKVM_SMCCC_VERSION_1_1		0x10001
#define OKVM_PSCI_AFFINITY_ON		0
#define OKVM_PSCI_AFFINITY_OFF		1
#define OKVM_PSCI_TOS_MP		2

/* What the run loop does after handling an exit. */
enum okvm_exit_action {
	OKVM_RESUME,		/* enter the guest again */
	OKVM_TO_USER,		/* return to userspace; run->exit_reason set */
};

/* Host VBAR_EL2 (the kernel's vectors, the same on every CPU). */
static u64 okvm_host_vbar;

static unsigned int okvm_host_pa_bits(void)
{
	static const unsigned int bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	u64 parange = read_sanitised_ftr_reg(SYS_ID_AA64MMFR0_EL1) & 0xf;

	return parange < ARRAY_SIZE(bits) ? bits[parange] : 52;
}

/*
 * Invalidate the VM's stage-1 and stage-2 TLB entries for [ipa, ipa+size)
 * on every CPU (ipa == size == 0: all of the VM's entries). The TLBI
 * instructions act on the VMID in VTTBR_EL2 and on the EL1&0 regime, so
 * for their duration the host points VTTBR_EL2 at the VM and clears TGE,
 * with interrupts off.
 */
static void okvm_arm64_tlbi(struct okvm *vm, u64 ipa, u64 size)
{
	u16 vmid = okvm_vmid_last(vm);
	u64 hcr, vttbr, a;
	unsigned long flags;

	if (!vmid)
		return;
	local_irq_save(flags);
	vttbr = read_sysreg(vttbr_el2);
	hcr = read_sysreg(hcr_el2);
	write_sysreg(READ_ONCE(vm->arch.root) | (u64)vmid << 48, vttbr_el2);
	write_sysreg(hcr & ~OKVM_HCR_TGE, hcr_el2);
	isb();
	/* The table update must be visible before the invalidation. */
	dsb(ishst);
	if (!size || size > 64 * PAGE_SIZE) {
		__tlbi(vmalls12e1is);
	} else {
		for (a = ipa; a < ipa + size; a += PAGE_SIZE)
			__tlbi(ipas2e1is, a >> 12);
		dsb(ish);
		/* Stage-1 entries may hold the combined translation. */
		__tlbi(vmalle1is);
	}
	dsb(ish);
	isb();
	write_sysreg(hcr, hcr_el2);
	write_sysreg(vttbr, vttbr_el2);
	isb();
	local_irq_restore(flags);
}

static struct okvm *okvm_pgt_to_vm(struct okvm_pgtable *pgt)
{
	return container_of(pgt, struct okvm, pgt);
}

static void okvm_arm64_flush_range(struct okvm_pgtable *pgt, u64 addr,
				   u64 size, int level)
{
	okvm_arm64_tlbi(okvm_pgt_to_vm(pgt), addr, size);
}

/* Clean and invalidate [phys, phys + size) to the point of coherency. */
static void okvm_arm64_clean_dcache(struct okvm_pgtable *pgt, u64 phys,
				    u64 size)
{
	/* CTR_EL0.DminLine, bits [19:16]: log2 of words per line. */
	unsigned long line = 4UL << ((read_cpuid_cachetype() >> 16) & 0xf);
	unsigned long va = (unsigned long)phys_to_virt(phys);
	unsigned long end = va + size;

	for (va &= ~(line - 1); va < end; va += line)
		asm volatile("dc civac, %0" : : "r" (va) : "memory");
	dsb(ish);
}

static void okvm_arm64_inval_icache(struct okvm_pgtable *pgt, u64 phys,
				    u64 size)
{
	unsigned long va = (unsigned long)phys_to_virt(phys);

	/* CTR_EL0.DIC (bit 29): no instruction-cache maintenance needed. */
	if (read_cpuid_cachetype() & BIT(29))
		return;
	caches_clean_inval_pou(va, va + size);
}

const struct okvm_pgtable_ops okvm_arm64_pgtable_ops = {
	.flush_range	= okvm_arm64_flush_range,
	.clean_dcache	= okvm_arm64_clean_dcache,
	.inval_icache	= okvm_arm64_inval_icache,
};

/*
 * First vCPU of a VM: the per-CPU state and the stage-2 registers. The
 * VMID comes at the first entry (vmid.c). Called under vm->vcpus_lock.
 */
static int okvm_arm64_vm_setup(struct okvm *vm)
{
	int cpu;

	lockdep_assert_held(&vm->vcpus_lock);
	if (vm->arch.last_vcpu_ran)
		return 0;

	vm->arch.last_vcpu_ran = alloc_percpu_gfp(int, GFP_KERNEL_ACCOUNT);
	if (!vm->arch.last_vcpu_ran)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		int *last = per_cpu_ptr(vm->arch.last_vcpu_ran, cpu);

		*last = -1;
	}
	okvm_host_vbar = read_sysreg(vbar_el2);
	write_lock(&vm->mmu_lock);
	WRITE_ONCE(vm->arch.root, okvm_pgtable_root_reg(&vm->pgt));
	write_unlock(&vm->mmu_lock);
	vm->arch.vtcr = okvm_stage2_vtcr(&vm->pgt, okvm_host_pa_bits());
	if (okvm_vmid_hw_bits() == 16)
		vm->arch.vtcr |= OKVM_VTCR_VS;
	return 0;
}

/* After okvm_mmu_rebuild() switched tables: the new root, no old TLBs. */
void okvm_arm64_mmu_new_root(struct okvm *vm)
{
	lockdep_assert_held_write(&vm->mmu_lock);
	WRITE_ONCE(vm->arch.root, okvm_pgtable_root_reg(&vm->pgt));
	okvm_arm64_tlbi(vm, 0, 0);
}

/*
 * VM destruction: no vCPU runs. Drop the translations of its VMID (the
 * number itself is recycled by the next rollover).
 */
void okvm_arm64_vm_destroy(struct okvm *vm)
{
	okvm_arm64_tlbi(vm, 0, 0);
	free_percpu(vm->arch.last_vcpu_ran);
}

int okvm_arm64_vcpu_create(struct okvm_vcpu *vcpu)
{
	int ret = okvm_arm64_vm_setup(vcpu->vm);

	if (ret)
		return ret;
	okvm_arm64_vcpu_reset(vcpu);
	okvm_arm64_pvtime_init(vcpu);
	return 0;
}

void okvm_arm64_vcpu_destroy(struct okvm_vcpu *vcpu)
{
	okvm_arm64_pvtime_destroy(vcpu);
}

void __noreturn okvm_arm64_hyp_panic(u64 esr, u64 elr, u64 far)
{
	write_sysreg(okvm_host_vbar, vbar_el2);
	isb();
	panic("okvm: exception at EL2 in the world switch: ESR %llx ELR %llx FAR %llx\n",
	      esr, elr, far);
}

/* Host EL2/EL1 state the world switch changes, saved per entry. */
struct okvm_arm64_host {
	u64 hcr, vbar, cptr, mdcr, cnthctl, cntvoff, vttbr, vtcr;
	u64 tpidr_el0, tpidrro_el0, tpidr_el1, par, csselr;
};

static void okvm_arm64_load_guest(struct okvm_vcpu *vcpu,
				  struct okvm_arm64_host *h)
{
	struct okvm_arm64_ctxt *g = &vcpu->arch.ctxt;
	struct okvm *vm = vcpu->vm;
	u64 hcr = OKVM_HCR_GUEST;
	int *last;

	h->hcr = read_sysreg(hcr_el2);
	h->vbar = read_sysreg(vbar_el2);
	h->cptr = read_sysreg(cpacr_el1);
	h->mdcr = read_sysreg(mdcr_el2);
	h->cnthctl = read_sysreg(cnthctl_el2);
	h->cntvoff = read_sysreg(cntvoff_el2);
	h->vttbr = read_sysreg(vttbr_el2);
	h->vtcr = read_sysreg(vtcr_el2);
	h->tpidr_el0 = read_sysreg(tpidr_el0);
	h->tpidrro_el0 = read_sysreg(tpidrro_el0);
	h->tpidr_el1 = read_sysreg(tpidr_el1);
	h->par = read_sysreg(par_el1);
	h->csselr = read_sysreg(csselr_el1);

	if (vm->pgt_flags & OKVM_PGT_FWB)
		hcr |= OKVM_HCR_FWB;
	if (READ_ONCE(vcpu->arch.irq_line))
		hcr |= OKVM_HCR_VI;
	if (READ_ONCE(vcpu->arch.fiq_line))
		hcr |= OKVM_HCR_VF;
	write_sysreg(vm->arch.vtcr, vtcr_el2);
	write_sysreg(READ_ONCE(vm->arch.root) | (u64)okvm_vmid_get(vm) << 48,
		     vttbr_el2);
	write_sysreg(hcr, hcr_el2);
	isb();

	/*
	 * Another vCPU of this VM ran here last: its local TLB entries
	 * (the guest's non-broadcast invalidations only reach this CPU)
	 * must not be used by this one.
	 */
	last = this_cpu_ptr(vm->arch.last_vcpu_ran);
	if (*last != vcpu->idx) {
		if (*last != -1) {
			__tlbi(vmalls12e1);
			dsb(nsh);
			isb();
		}
		*last = vcpu->idx;
	}

	write_sysreg_s(g->sys[OKVM_SCTLR_EL1], OKVM_SCTLR_EL12);
	write_sysreg_s(g->sys[OKVM_CPACR_EL1], OKVM_CPACR_EL12);
	write_sysreg_s(g->sys[OKVM_TTBR0_EL1], OKVM_TTBR0_EL12);
	write_sysreg_s(g->sys[OKVM_TTBR1_EL1], OKVM_TTBR1_EL12);
	write_sysreg_s(g->sys[OKVM_TCR_EL1], OKVM_TCR_EL12);
	write_sysreg_s(g->sys[OKVM_ESR_EL1], OKVM_ESR_EL12);
	write_sysreg_s(g->sys[OKVM_AFSR0_EL1], OKVM_AFSR0_EL12);
	write_sysreg_s(g->sys[OKVM_AFSR1_EL1], OKVM_AFSR1_EL12);
	write_sysreg_s(g->sys[OKVM_FAR_EL1], OKVM_FAR_EL12);
	write_sysreg_s(g->sys[OKVM_MAIR_EL1], OKVM_MAIR_EL12);
	write_sysreg_s(g->sys[OKVM_AMAIR_EL1], OKVM_AMAIR_EL12);
	write_sysreg_s(g->sys[OKVM_VBAR_EL1], OKVM_VBAR_EL12);
	write_sysreg_s(g->sys[OKVM_CONTEXTIDR_EL1], OKVM_CONTEXTIDR_EL12);
	write_sysreg_s(g->sys[OKVM_CNTKCTL_EL1], OKVM_CNTKCTL_EL12);
	write_sysreg_s(g->sys[OKVM_CNTV_CVAL_EL0], OKVM_CNTV_CVAL_EL02);
	write_sysreg_s(g->sys[OKVM_CNTV_CTL_EL0], OKVM_CNTV_CTL_EL02);
	write_sysreg_s(g->spsr_el1, OKVM_SPSR_EL12);
	write_sysreg_s(g->elr_el1, OKVM_ELR_EL12);
	write_sysreg(g->sp_el1, sp_el1);
	write_sysreg(g->sys[OKVM_TPIDR_EL0], tpidr_el0);
	write_sysreg(g->sys[OKVM_TPIDRRO_EL0], tpidrro_el0);
	write_sysreg(g->sys[OKVM_TPIDR_EL1], tpidr_el1);
	write_sysreg(g->sys[OKVM_PAR_EL1], par_el1);
	write_sysreg(g->sys[OKVM_CSSELR_EL1], csselr_el1);
	write_sysreg(g->sys[OKVM_MPIDR_EL1], vmpidr_el2);
	write_sysreg(read_cpuid_id(), vpidr_el2);
	write_sysreg(vcpu->arch.cntvoff, cntvoff_el2);

	/* FP/SIMD for the guest; SVE, SME and trace trap to EL2. */
	write_sysreg((h->cptr & ~(OKVM_CPTR_ZEN | OKVM_CPTR_SMEN)) |
		     OKVM_CPTR_FPEN | OKVM_CPTR_TTA, cpacr_el1);
	write_sysreg(h->mdcr | OKVM_MDCR_TRAPS, mdcr_el2);
	write_sysreg((h->cnthctl | OKVM_CNTHCTL_EL1PCTEN) &
		     ~OKVM_CNTHCTL_EL1PTEN, cnthctl_el2);
	isb();
	__okvm_fpsimd_load(g->vregs);
}

static void okvm_arm64_save_guest(struct okvm_vcpu *vcpu,
				  const struct okvm_arm64_host *h)
{
	struct okvm_arm64_ctxt *g = &vcpu->arch.ctxt;

	__okvm_fpsimd_save(g->vregs);
	g->sys[OKVM_SCTLR_EL1] = read_sysreg_s(OKVM_SCTLR_EL12);
	g->sys[OKVM_CPACR_EL1] = read_sysreg_s(OKVM_CPACR_EL12);
	g->sys[OKVM_TTBR0_EL1] = read_sysreg_s(OKVM_TTBR0_EL12);
	g->sys[OKVM_TTBR1_EL1] = read_sysreg_s(OKVM_TTBR1_EL12);
	g->sys[OKVM_TCR_EL1] = read_sysreg_s(OKVM_TCR_EL12);
	g->sys[OKVM_ESR_EL1] = read_sysreg_s(OKVM_ESR_EL12);
	g->sys[OKVM_AFSR0_EL1] = read_sysreg_s(OKVM_AFSR0_EL12);
	g->sys[OKVM_AFSR1_EL1] = read_sysreg_s(OKVM_AFSR1_EL12);
	g->sys[OKVM_FAR_EL1] = read_sysreg_s(OKVM_FAR_EL12);
	g->sys[OKVM_MAIR_EL1] = read_sysreg_s(OKVM_MAIR_EL12);
	g->sys[OKVM_AMAIR_EL1] = read_sysreg_s(OKVM_AMAIR_EL12);
	g->sys[OKVM_VBAR_EL1] = read_sysreg_s(OKVM_VBAR_EL12);
	g->sys[OKVM_CONTEXTIDR_EL1] = read_sysreg_s(OKVM_CONTEXTIDR_EL12);
	g->sys[OKVM_CNTKCTL_EL1] = read_sysreg_s(OKVM_CNTKCTL_EL12);
	g->sys[OKVM_CNTV_CTL_EL0] = read_sysreg_s(OKVM_CNTV_CTL_EL02);
	g->sys[OKVM_CNTV_CVAL_EL0] = read_sysreg_s(OKVM_CNTV_CVAL_EL02);
	g->spsr_el1 = read_sysreg_s(OKVM_SPSR_EL12);
	g->elr_el1 = read_sysreg_s(OKVM_ELR_EL12);
	g->sp_el1 = read_sysreg(sp_el1);
	g->sys[OKVM_TPIDR_EL0] = read_sysreg(tpidr_el0);
	g->sys[OKVM_TPIDRRO_EL0] = read_sysreg(tpidrro_el0);
	g->sys[OKVM_TPIDR_EL1] = read_sysreg(tpidr_el1);
	g->sys[OKVM_PAR_EL1] = read_sysreg(par_el1);
	g->sys[OKVM_CSSELR_EL1] = read_sysreg(csselr_el1);

	/*
	 * The guest's virtual timer must not fire into the host while the
	 * vCPU is out: okvm does not deliver it (no vGIC yet).
	 */
	write_sysreg_s(g->sys[OKVM_CNTV_CTL_EL0] | OKVM_CNTV_CTL_IMASK,
		       OKVM_CNTV_CTL_EL02);

	write_sysreg(h->hcr, hcr_el2);
	isb();
	write_sysreg(h->cptr, cpacr_el1);
	write_sysreg(h->mdcr, mdcr_el2);
	write_sysreg(h->cnthctl, cnthctl_el2);
	write_sysreg(h->cntvoff, cntvoff_el2);
	write_sysreg(h->vttbr, vttbr_el2);
	write_sysreg(h->vtcr, vtcr_el2);
	write_sysreg(h->tpidr_el0, tpidr_el0);
	write_sysreg(h->tpidrro_el0, tpidrro_el0);
	write_sysreg(h->tpidr_el1, tpidr_el1);
	write_sysreg(h->par, par_el1);
	write_sysreg(h->csselr, csselr_el1);
	isb();
}

/*
 * Is the VM's table being rebuilt? Then the vCPU must not enter: the
 * rebuild is about to free the table its VTTBR points to (seed 004).
 * Checked with interrupts off, after the CPU was published.
 */
static bool okvm_arm64_rebuild_pending(struct okvm *vm)
{
#ifdef OKVM_MUTATE_SEED004
	/* Mutation: re-enter without looking, as the seed-004 bug did. */
	return false;
#endif
	return READ_ONCE(vm->mmu_rebuild_in_progress);
}

/*
 * Enter the guest once. Returns OKVM_EXIT_*, or -EAGAIN when something
 * arrived (a kick, a signal) between the decision to enter and the moment
 * interrupts went off, in which case the guest did not run.
 */
static int okvm_arm64_enter(struct okvm_vcpu *vcpu)
{
	struct user_fpsimd_state neon;
	struct okvm_arm64_host h;
	u64 daif;
	int exit;

	okvm_neon_begin(&neon);
	local_irq_disable();
	WRITE_ONCE(vcpu->cpu, smp_processor_id());
	/* cpu before kicked: pairs with okvm_vcpu_kick(). */
	smp_mb();
	if (READ_ONCE(vcpu->kicked) || signal_pending(current) ||
	    okvm_arm64_rebuild_pending(vcpu->vm)) {
		WRITE_ONCE(vcpu->cpu, -1);
		local_irq_enable();
		okvm_neon_end(&neon);
		return -EAGAIN;
	}

	/* IRQs are masked; an exception from the guest masks D and A too. */
	daif = read_sysreg(daif);
	okvm_arm64_load_guest(vcpu, &h);
	WRITE_ONCE(vcpu->stat_entries, vcpu->stat_entries + 1);
	write_sysreg((u64)__okvm_vectors, vbar_el2);
	isb();
	exit = __okvm_guest_run(&vcpu->arch.ctxt);
	write_sysreg(h.vbar, vbar_el2);
	isb();
	/* Debug and SError exceptions back on, as the host had them. */
	write_sysreg(daif, daif);
	okvm_arm64_save_guest(vcpu, &h);

	WRITE_ONCE(vcpu->cpu, -1);
	/* A host interrupt that made the guest exit is taken here. */
	local_irq_enable();
	okvm_neon_end(&neon);
	return exit;
}

/*
 * Deliver a synchronous exception to the guest's EL1, as the CPU would:
 * the vector is VBAR_EL1 plus the offset for the EL and stack it came
 * from, with everything masked.
 */
static void okvm_arm64_inject_sync(struct okvm_vcpu *vcpu, u64 esr, u64 far,
				   bool has_far)
{
	struct okvm_arm64_ctxt *g = &vcpu->arch.ctxt;
	u64 mode = g->pstate & PSR_MODE_MASK;
	u64 offset;

	if (mode == PSR_MODE_EL1h)
		offset = 0x200;
	else if (mode == PSR_MODE_EL1t)
		offset = 0x000;
	else
		offset = 0x400;
	g->spsr_el1 = g->pstate;
	g->elr_el1 = g->pc;
	g->sys[OKVM_ESR_EL1] = esr;
	if (has_far)
		g->sys[OKVM_FAR_EL1] = far;
	g->pc = g->sys[OKVM_VBAR_EL1] + offset;
	g->pstate = PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT |
		    PSR_F_BIT;
}

/* The instruction that trapped is undefined for the guest. */
static void okvm_arm64_inject_undef(struct okvm_vcpu *vcpu)
{
	okvm_arm64_inject_sync(vcpu, OKVM_EC_UNKNOWN << 26 | OKVM_ESR_IL, 0,
			       false);
}

/* A synchronous external abort on the access that trapped. */
static void okvm_arm64_inject_abort(struct okvm_vcpu *vcpu, bool instr)
{
	struct okvm_arm64_ctxt *g = &vcpu->arch.ctxt;
	bool from_el1 = (g->pstate & PSR_MODE_MASK) != PSR_MODE_EL0t;
	u64 ec;

	if (instr)
		ec = from_el1 ? OKVM_EC_IABT_CUR : OKVM_EC_IABT_LOW;
	else
		ec = from_el1 ? OKVM_EC_DABT_CUR : OKVM_EC_DABT_LOW;
	okvm_arm64_inject_sync(vcpu, ec << 26 | OKVM_ESR_IL | OKVM_FSC_EXTABT,
			       g->far_el2, true);
}

static void okvm_arm64_skip_instr(struct okvm_vcpu *vcpu)
{
	vcpu->arch.ctxt.pc += 4;
}

static u64 okvm_arm64_get_x(struct okvm_vcpu *vcpu, unsigned int rt)
{
	return rt == 31 ? 0 : vcpu->arch.ctxt.regs[rt];
}

/* A guest load or store outside guest memory: hand it to userspace. */
static int okvm_arm64_mmio_exit(struct okvm_vcpu *vcpu, u64 ipa, u64 esr)
{
	struct okvm_arm64_mmio *m = &vcpu->arch.mmio;
	struct kvm_run *run = vcpu->run;
	u64 data;

	m->is_write = esr & OKVM_ISS_WNR;
	m->sign_extend = esr & OKVM_ISS_SSE;
	m->sixty_four = esr & OKVM_ISS_SF;
	m->rt = OKVM_ISS_SRT(esr);
	m->len = 1 << OKVM_ISS_SAS(esr);
	m->pending = true;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = ipa;
	run->mmio.len = m->len;
	run->mmio.is_write = m->is_write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (m->is_write) {
		data = okvm_arm64_get_x(vcpu, m->rt);
		memcpy(run->mmio.data, &data, m->len);
	}
	return OKVM_TO_USER;
}

/* KVM_RUN after a KVM_EXIT_MMIO: finish the access, step past it. */
static void okvm_arm64_mmio_complete(struct okvm_vcpu *vcpu)
{
	struct okvm_arm64_mmio *m = &vcpu->arch.mmio;
	u64 data = 0, sign;

	if (!m->pending)
		return;
	m->pending = false;
	if (!m->is_write) {
		memcpy(&data, vcpu->run->mmio.data, m->len);
		if (m->sign_extend && m->len < 8) {
			sign = 1ULL << (m->len * 8 - 1);
			data = (data ^ sign) - sign;
		}
		if (!m->sixty_four)
			data &= 0xffffffffULL;
		if (m->rt != 31)
			vcpu->arch.ctxt.regs[m->rt] = data;
	}
	okvm_arm64_skip_instr(vcpu);
}

/* A stage-2 data or instruction abort. */
static int okvm_arm64_handle_abort(struct okvm_vcpu *vcpu, bool instr)
{
	struct okvm_arm64_ctxt *g = &vcpu->arch.ctxt;
	u64 esr = g->esr_el2, fsc = OKVM_ISS_FSC(esr);
	enum okvm_fault_result result;
	unsigned int flags = 0;
	u64 ipa;
	int ret;

	/* HPFAR_EL2.FIPA holds IPA[51:12] in bits [43:4]; FAR the rest. */
	ipa = (g->hpfar_el2 & GENMASK_ULL(43, 4)) << 8 |
	      (g->far_el2 & ~PAGE_MASK);

	/* Only translation, access-flag and permission faults are ours. */
	if (fsc < 0x04 || fsc > 0x0f) {
		okvm_arm64_inject_abort(vcpu, instr);
		return OKVM_RESUME;
	}
	if (instr)
		flags |= OKVM_FAULT_EXEC;
	else if ((esr & OKVM_ISS_S1PTW) ||
		 ((esr & OKVM_ISS_WNR) && !(esr & OKVM_ISS_CM)))
		/* A table walk may write the access/dirty flags. */
		flags |= OKVM_FAULT_WRITE;

	ret = okvm_mmu_fault(vcpu->vm, ipa, flags, &result);
	if (ret)
		return ret;
	if (result == OKVM_FAULT_MAPPED)
		return OKVM_RESUME;

	/* Outside guest memory (or a write to a read-only slot). */
	if (instr || (esr & OKVM_ISS_S1PTW)) {
		okvm_arm64_inject_abort(vcpu, instr);
		return OKVM_RESUME;
	}
	if (esr & OKVM_ISS_CM) {
		/* Cache maintenance of MMIO: nothing to do. */
		okvm_arm64_skip_instr(vcpu);
		return OKVM_RESUME;
	}
	/*
	 * Without a valid syndrome the access cannot be decoded: as KVM,
	 * fail KVM_RUN, or hand the raw fault to userspace if it asked.
	 */
	if (!(esr & OKVM_ISS_ISV)) {
		if (!READ_ONCE(vcpu->vm->arch.nisv_to_user))
			return -ENOSYS;
		vcpu->run->exit_reason = KVM_EXIT_ARM_NISV;
		vcpu->run->arm_nisv.esr_iss = esr & (OKVM_ISS_CM | OKVM_ISS_WNR |
						     0x3f);
		vcpu->run->arm_nisv.fault_ipa = ipa;
		return OKVM_TO_USER;
	}
	return okvm_arm64_mmio_exit(vcpu, ipa, esr);
}

static struct okvm_vcpu *okvm_arm64_vcpu_by_mpidr(struct okvm *vm, u64 mpidr)
{
	int i, n = atomic_read_acquire(&vm->online_vcpus);

	mpidr &= MPIDR_HWID_BITMASK;
	for (i = 0; i < n; i++)
		if ((vm->vcpus[i]->arch.ctxt.sys[OKVM_MPIDR_EL1] &
		     MPIDR_HWID_BITMASK) == mpidr)
			return vm->vcpus[i];
	return NULL;
}

/* Power @target on at @pc with x0 = @ctx (PSCI CPU_ON). */
static long okvm_arm64_psci_cpu_on(struct okvm_vcpu *vcpu, u64 mpidr, u64 pc,
				   u64 ctx)
{
	struct okvm_vcpu *target = okvm_arm64_vcpu_by_mpidr(vcpu->vm, mpidr);
	long ret = OKVM_PSCI_RET_SUCCESS;

	if (!target)
		return OKVM_PSCI_RET_INVALID_PARAMS;
	spin_lock(&target->wq.lock);
	if (!target->arch.power_off) {
		ret = OKVM_PSCI_RET_ALREADY_ON;
	} else {
		/* The target applies the reset itself, in its own thread. */
		target->arch.reset_pending = true;
		target->arch.reset_pc = pc;
		target->arch.reset_x0 = ctx;
		WRITE_ONCE(target->arch.power_off, false);
	}
	spin_unlock(&target->wq.lock);
	if (ret == OKVM_PSCI_RET_SUCCESS)
		okvm_vcpu_kick(target);
	return ret;
}

/* SYSTEM_OFF/RESET: every vCPU stops; this one exits to userspace. */
static int okvm_arm64_system_event(struct okvm_vcpu *vcpu, u32 type)
{
	struct okvm *vm = vcpu->vm;
	int i, n = atomic_read_acquire(&vm->online_vcpus);

	for (i = 0; i < n; i++) {
		struct okvm_vcpu *v = vm->vcpus[i];

		spin_lock(&v->wq.lock);
		WRITE_ONCE(v->arch.power_off, true);
		spin_unlock(&v->wq.lock);
		if (v != vcpu)
			okvm_vcpu_kick(v);
	}
	memset(&vcpu->run->system_event, 0, sizeof(vcpu->run->system_event));
	vcpu->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	vcpu->run->system_event.type = type;
	vcpu->run->system_event.ndata = 1;
	return OKVM_TO_USER;
}

static bool okvm_arm64_psci_fn_supported(u32 fn)
{
	switch (fn & ~OKVM_SMCCC_64) {
	case OKVM_PSCI_VERSION:
	case OKVM_PSCI_CPU_SUSPEND:
	case OKVM_PSCI_CPU_OFF:
	case OKVM_PSCI_CPU_ON:
	case OKVM_PSCI_AFFINITY_INFO:
	case OKVM_PSCI_MIGRATE_INFO_TYPE:
	case OKVM_PSCI_SYSTEM_OFF:
	case OKVM_PSCI_SYSTEM_RESET:
	case OKVM_PSCI_FEATURES:
		return true;
	default:
		return false;
	}
}

/* An HVC: the SMC Calling Convention, PSCI only. Result in x0. */
static int okvm_arm64_handle_hvc(struct okvm_vcpu *vcpu)
{
	u64 *x = vcpu->arch.ctxt.regs;
	u32 fn = x[0];
	long ret = OKVM_PSCI_RET_NOT_SUPPORTED;
	struct okvm_vcpu *target;
	bool psci = vcpu->arch.psci_version >= 0x2;

	if (fn == OKVM_SMCCC_VERSION) {
		ret = OKVM_SMCCC_VERSION_1_1;
	} else if (fn == OKVM_SMCCC_ARCH_FEATURES) {
		/* Of the optional calls, okvm has the stolen-time service. */
		ret = (u32)x[1] == OKVM_SMCCC_PV_TIME_FEATURES ?
		      0 : OKVM_PSCI_RET_NOT_SUPPORTED;
	} else if (fn == OKVM_SMCCC_PV_TIME_FEATURES) {
		ret = okvm_arm64_pvtime_features(vcpu, x[1]);
	} else if (fn == OKVM_SMCCC_PV_TIME_ST) {
		ret = okvm_arm64_pvtime_st(vcpu);
	} else if (!psci || !okvm_arm64_psci_fn_supported(fn)) {
		ret = OKVM_PSCI_RET_NOT_SUPPORTED;
	} else {
		switch (fn & ~OKVM_SMCCC_64) {
		case OKVM_PSCI_VERSION:
			ret = vcpu->arch.psci_version;
			break;
		case OKVM_PSCI_CPU_SUSPEND:
			/* A valid implementation: return at once. */
			ret = OKVM_PSCI_RET_SUCCESS;
			break;
		case OKVM_PSCI_CPU_OFF:
			spin_lock(&vcpu->wq.lock);
			WRITE_ONCE(vcpu->arch.power_off, true);
			spin_unlock(&vcpu->wq.lock);
			return OKVM_RESUME;
		case OKVM_PSCI_CPU_ON:
			ret = okvm_arm64_psci_cpu_on(vcpu, x[1], x[2], x[3]);
			break;
		case OKVM_PSCI_AFFINITY_INFO:
			target = okvm_arm64_vcpu_by_mpidr(vcpu->vm, x[1]);
			if (!target || x[2])
				ret = OKVM_PSCI_RET_INVALID_PARAMS;
			else
				ret = READ_ONCE(target->arch.power_off) ?
				      OKVM_PSCI_AFFINITY_OFF :
				      OKVM_PSCI_AFFINITY_ON;
			break;
		case OKVM_PSCI_MIGRATE_INFO_TYPE:
			ret = OKVM_PSCI_TOS_MP;
			break;
		case OKVM_PSCI_SYSTEM_OFF:
			return okvm_arm64_system_event(vcpu,
						KVM_SYSTEM_EVENT_SHUTDOWN);
		case OKVM_PSCI_SYSTEM_RESET:
			return okvm_arm64_system_event(vcpu,
						KVM_SYSTEM_EVENT_RESET);
		case OKVM_PSCI_FEATURES:
			ret = okvm_arm64_psci_fn_supported(x[1]) ||
			      (u32)x[1] == OKVM_SMCCC_VERSION ?
			      OKVM_PSCI_RET_SUCCESS :
			      OKVM_PSCI_RET_NOT_SUPPORTED;
			break;
		}
	}
	x[0] = ret;
	return OKVM_RESUME;
}

/* WFI: sleep until an interrupt line is up, a kick or a signal. */
static int okvm_arm64_handle_wfx(struct okvm_vcpu *vcpu)
{
	okvm_arm64_skip_instr(vcpu);
	if (vcpu->arch.ctxt.esr_el2 & OKVM_ISS_WFE) {
		cond_resched();
		return OKVM_RESUME;
	}
	wait_event_interruptible(vcpu->wq,
				 READ_ONCE(vcpu->arch.irq_line) ||
				 READ_ONCE(vcpu->arch.fiq_line) ||
				 READ_ONCE(vcpu->kicked));
	return OKVM_RESUME;
}

static int okvm_arm64_handle_sync(struct okvm_vcpu *vcpu)
{
	u64 esr = vcpu->arch.ctxt.esr_el2;

	switch (OKVM_ESR_EC(esr)) {
	case OKVM_EC_DABT_LOW:
		return okvm_arm64_handle_abort(vcpu, false);
	case OKVM_EC_IABT_LOW:
		return okvm_arm64_handle_abort(vcpu, true);
	case OKVM_EC_HVC64:
		/* ELR already points after the HVC. */
		return okvm_arm64_handle_hvc(vcpu);
	case OKVM_EC_SMC64:
		/* No secure firmware behind okvm: as KVM, fail the call. */
		vcpu->arch.ctxt.regs[0] = (u64)OKVM_PSCI_RET_NOT_SUPPORTED;
		okvm_arm64_skip_instr(vcpu);
		return OKVM_RESUME;
	case OKVM_EC_WFX:
		return okvm_arm64_handle_wfx(vcpu);
	case OKVM_EC_SYS64:
		if (okvm_arm64_handle_sysreg(vcpu, esr))
			okvm_arm64_inject_undef(vcpu);
		else
			okvm_arm64_skip_instr(vcpu);
		return OKVM_RESUME;
	default:
		/* SVE, SME, pointer authentication, ...: not offered. */
		okvm_arm64_inject_undef(vcpu);
		return OKVM_RESUME;
	}
}

/*
 * A powered-off vCPU waits in KVM_RUN until CPU_ON powers it on again,
 * then takes the reset CPU_ON asked for. Returns -EINTR on a signal.
 */
static int okvm_arm64_wait_power_on(struct okvm_vcpu *vcpu)
{
	struct okvm_vcpu_arch *a = &vcpu->arch;
	u64 pc, x0;
	bool reset;

	if (wait_event_interruptible(vcpu->wq, !READ_ONCE(a->power_off)))
		return -EINTR;
	spin_lock(&vcpu->wq.lock);
	reset = a->reset_pending;
	a->reset_pending = false;
	pc = a->reset_pc;
	x0 = a->reset_x0;
	spin_unlock(&vcpu->wq.lock);
	if (reset) {
		okvm_arm64_vcpu_reset(vcpu);
		a->ctxt.pc = pc;
		a->ctxt.regs[0] = x0;
	}
	return 0;
}

int okvm_arm64_vcpu_run(struct okvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int ret;

	if (!vcpu->arch.initialized)
		return -ENOEXEC;
	okvm_arm64_mmio_complete(vcpu);
	if (okvm_run_immediate_exit(run)) {
		run->exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	run->exit_reason = KVM_EXIT_UNKNOWN;

	for (;;) {
		WRITE_ONCE(vcpu->kicked, false);
		if (READ_ONCE(vcpu->arch.power_off) &&
		    okvm_arm64_wait_power_on(vcpu)) {
			ret = -EINTR;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (okvm_arm64_rebuild_pending(vcpu->vm))
			okvm_mmu_wait_rebuild(vcpu->vm);
		cond_resched();
		/* As KVM at vcpu load: the time the task waited for a CPU. */
		okvm_arm64_pvtime_update(vcpu);

		ret = okvm_arm64_enter(vcpu);
		if (ret == -EAGAIN)
			continue;
		switch (ret) {
		case OKVM_EXIT_SYNC:
			ret = okvm_arm64_handle_sync(vcpu);
			break;
		case OKVM_EXIT_IRQ:
		case OKVM_EXIT_FIQ:
			/* Taken by the host when interrupts came back on. */
			ret = OKVM_RESUME;
			break;
		default:
			/* SError, or anything from AArch32: cannot go on. */
			run->exit_reason = KVM_EXIT_FAIL_ENTRY;
			run->fail_entry.hardware_entry_failure_reason =
				vcpu->arch.ctxt.esr_el2;
			run->fail_entry.cpu = raw_smp_processor_id();
			ret = OKVM_TO_USER;
		}
		if (ret != OKVM_RESUME)
			break;
	}
	if (ret == -EINTR)
		run->exit_reason = KVM_EXIT_INTR;
	return ret == OKVM_TO_USER ? 0 : ret;
}

/* KVM_SET_MP_STATE: userspace powers the vCPU on or off (as PSCI would). */
static int okvm_arm64_set_mp_state(struct okvm_vcpu *vcpu, u32 state)
{
	if (state != KVM_MP_STATE_RUNNABLE && state != KVM_MP_STATE_STOPPED)
		return -EINVAL;
	spin_lock(&vcpu->wq.lock);
	WRITE_ONCE(vcpu->arch.power_off, state == KVM_MP_STATE_STOPPED);
	spin_unlock(&vcpu->wq.lock);
	return 0;
}

long okvm_arm64_vcpu_ioctl(struct okvm_vcpu *vcpu, unsigned int ioctl,
			   void __user *argp)
{
	struct kvm_device_attr attr;
	struct kvm_vcpu_init init;
	struct kvm_mp_state mp;
	struct kvm_one_reg reg;

	switch (ioctl) {
	case KVM_ARM_VCPU_INIT:
		if (copy_from_user(&init, argp, sizeof(init)))
			return -EFAULT;
		return okvm_arm64_vcpu_init(vcpu, &init);
	case KVM_GET_ONE_REG:
	case KVM_SET_ONE_REG:
		if (copy_from_user(&reg, argp, sizeof(reg)))
			return -EFAULT;
		if (ioctl == KVM_GET_ONE_REG)
			return okvm_arm64_get_one_reg(vcpu, &reg);
		return okvm_arm64_set_one_reg(vcpu, &reg);
	case KVM_GET_REG_LIST:
		return okvm_arm64_get_reg_list(vcpu, argp);
	case KVM_GET_MP_STATE:
		mp.mp_state = READ_ONCE(vcpu->arch.power_off) ?
			      KVM_MP_STATE_STOPPED : KVM_MP_STATE_RUNNABLE;
		return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&mp, argp, sizeof(mp)))
			return -EFAULT;
		return okvm_arm64_set_mp_state(vcpu, mp.mp_state);
	case KVM_HAS_DEVICE_ATTR:
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
		if (copy_from_user(&attr, argp, sizeof(attr)))
			return -EFAULT;
		return okvm_arm64_vcpu_attr(vcpu, ioctl, &attr);
	default:
		return -ENOIOCTLCMD;
	}
}

/* KVM_IRQ_LINE without an in-kernel irqchip: a vCPU's IRQ or FIQ pin. */
static int okvm_arm64_irq_line(struct okvm *vm, void __user *argp)
{
	struct kvm_irq_level irq;
	struct okvm_vcpu *vcpu;
	u32 type, idx, num;
	int n;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	type = (irq.irq >> KVM_ARM_IRQ_TYPE_SHIFT) & KVM_ARM_IRQ_TYPE_MASK;
	idx = (irq.irq >> KVM_ARM_IRQ_VCPU_SHIFT) & KVM_ARM_IRQ_VCPU_MASK;
	idx |= ((irq.irq >> KVM_ARM_IRQ_VCPU2_SHIFT) &
		KVM_ARM_IRQ_VCPU2_MASK) << 8;
	num = irq.irq & KVM_ARM_IRQ_NUM_MASK;
	if (type != KVM_ARM_IRQ_TYPE_CPU)
		return -ENXIO;	/* no irqchip */
	n = atomic_read_acquire(&vm->online_vcpus);
	if (idx >= n)
		return -EINVAL;
	vcpu = vm->vcpus[idx];
	if (num == KVM_ARM_IRQ_CPU_IRQ)
		WRITE_ONCE(vcpu->arch.irq_line, !!irq.level);
	else if (num == KVM_ARM_IRQ_CPU_FIQ)
		WRITE_ONCE(vcpu->arch.fiq_line, !!irq.level);
	else
		return -EINVAL;
	okvm_vcpu_kick(vcpu);
	return 0;
}

int okvm_arm64_vm_enable_cap(struct okvm *vm, const struct kvm_enable_cap *cap)
{
	switch (cap->cap) {
	case KVM_CAP_ARM_NISV_TO_USER:
		WRITE_ONCE(vm->arch.nisv_to_user, true);
		return 0;
	default:
		return -EINVAL;
	}
}

long okvm_arm64_vm_ioctl(struct okvm *vm, unsigned int ioctl,
			 void __user *argp)
{
	struct kvm_vcpu_init init = { .target = KVM_ARM_TARGET_GENERIC_V8 };

	switch (ioctl) {
	case KVM_ARM_PREFERRED_TARGET:
		return copy_to_user(argp, &init, sizeof(init)) ? -EFAULT : 0;
	case KVM_IRQ_LINE:
		return okvm_arm64_irq_line(vm, argp);
	case OKVM_TEST_VMID: {
		struct okvm_test_vmid t = {};

		if (!okvm_testing)
			return -EPERM;
		okvm_vmid_stats(vm, &t.vmid, &t.rollovers, &t.bits);
		return copy_to_user(argp, &t, sizeof(t)) ? -EFAULT : 0;
	}
	default:
		return -ENOIOCTLCMD;
	}
}
