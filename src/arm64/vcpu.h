/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 vCPU state: the guest's registers as okvm keeps them while the
 * vCPU is not running, and the pieces of the run loop shared between
 * src/arm64/ files. See Documentation/vcpu-arm64.rst.
 */
#ifndef OKVM_ARM64_VCPU_H
#define OKVM_ARM64_VCPU_H

#include <linux/kvm.h>
#include <linux/types.h>

#include "pvtime.h"
#include "switch.h"

struct okvm_vcpu;

/*
 * The guest's EL1 (and EL0) system registers that okvm context-switches,
 * as indexes into okvm_arm64_ctxt.sys[]. regs.c maps them to KVM's
 * ONE_REG ids; switch.c loads and saves them through the _EL12/_EL02
 * aliases (or directly where a register has no alias).
 */
enum okvm_sysreg {
	OKVM_SCTLR_EL1,
	OKVM_ACTLR_EL1,
	OKVM_CPACR_EL1,
	OKVM_TTBR0_EL1,
	OKVM_TTBR1_EL1,
	OKVM_TCR_EL1,
	OKVM_ESR_EL1,
	OKVM_AFSR0_EL1,
	OKVM_AFSR1_EL1,
	OKVM_FAR_EL1,
	OKVM_MAIR_EL1,
	OKVM_AMAIR_EL1,
	OKVM_VBAR_EL1,
	OKVM_CONTEXTIDR_EL1,
	OKVM_TPIDR_EL0,
	OKVM_TPIDRRO_EL0,
	OKVM_TPIDR_EL1,
	OKVM_CNTKCTL_EL1,
	OKVM_PAR_EL1,
	OKVM_CSSELR_EL1,
	OKVM_MDSCR_EL1,
	OKVM_CNTV_CTL_EL0,
	OKVM_CNTV_CVAL_EL0,
	/* Not a register: MPIDR_EL1 as the guest reads it (VMPIDR_EL2). */
	OKVM_MPIDR_EL1,
	OKVM_NR_SYSREGS
};

/*
 * Everything of the guest that lives in CPU registers. The layout of the
 * first fields is known to switch.S (offsets in switch.h, checked in
 * run.c); change both together. vregs, fpsr and fpcr are loaded and saved
 * as one block by __okvm_fpsimd_load/save.
 */
struct okvm_arm64_ctxt {
	u64 regs[31];		/*   0: x0..x30 */
	u64 sp_el0;		/* 248 */
	u64 pc;			/* 256: ELR_EL2 while in the guest */
	u64 pstate;		/* 264: SPSR_EL2 while in the guest */
	/* Written by switch.S on every exit. */
	u64 esr_el2;		/* 272 */
	u64 far_el2;		/* 280 */
	u64 hpfar_el2;		/* 288 */

	u64 sp_el1;
	u64 elr_el1;
	u64 spsr_el1;		/* KVM's spsr[KVM_SPSR_EL1] */
	/* KVM's spsr[] for AArch32 modes: kept for ONE_REG, never used. */
	u64 spsr_abt, spsr_und, spsr_irq, spsr_fiq;
	u64 sys[OKVM_NR_SYSREGS];

	/* FP/SIMD: the same layout as struct user_fpsimd_state. */
	__uint128_t vregs[32];
	u32 fpsr;
	u32 fpcr;
};

/* A load from MMIO waiting for userspace to supply the data. */
struct okvm_arm64_mmio {
	bool pending;		/* the exit to userspace was KVM_EXIT_MMIO */
	bool is_write;
	bool sign_extend;	/* SSE */
	bool sixty_four;	/* SF: the target register is Xn, not Wn */
	u8 rt;			/* target register; 31 is xzr */
	u8 len;
};

struct okvm_vcpu_arch {
	struct okvm_arm64_ctxt ctxt;
	/* KVM_ARM_VCPU_INIT was done; its feature bits. */
	bool initialized;
	u32 features;
	/*
	 * PSCI: powered off (by CPU_OFF, SYSTEM_OFF, or the POWER_OFF
	 * feature), and the reset a CPU_ON from another vCPU asked for.
	 * Written under vcpu->wq.lock (other vCPUs write them); power_off
	 * is also read with READ_ONCE by the vCPU's run loop.
	 */
	bool power_off;
	bool reset_pending;
	u64 reset_pc, reset_x0;
	/* KVM_IRQ_LINE level of the vCPU's IRQ and FIQ inputs (any task). */
	bool irq_line, fiq_line;
	struct okvm_arm64_mmio mmio;
	/* CNTVOFF_EL2 of the guest: its virtual counter's offset. */
	u64 cntvoff;
	/* KVM_REG_ARM_PSCI_VERSION as userspace set it (or the default). */
	u32 psci_version;
	/* Paravirtualised stolen time. */
	struct okvm_arm64_pvtime pvtime;
};

/* regs.c: KVM_ARM_VCPU_INIT, ONE_REG, GET_REG_LIST, trapped sysregs. */
/*
 * Architectural reset of the vCPU's registers (KVM_ARM_VCPU_INIT, PSCI
 * CPU_ON): everything zero, PSTATE EL1h with DAIF masked, SCTLR_EL1 at its
 * reset value, MPIDR_EL1 from the vCPU id. Keeps the features, the PSCI
 * version and the power state (KVM_ARM_VCPU_INIT sets that one itself).
 */
void okvm_arm64_vcpu_reset(struct okvm_vcpu *vcpu);
int okvm_arm64_vcpu_init(struct okvm_vcpu *vcpu,
			 const struct kvm_vcpu_init *init);
int okvm_arm64_get_one_reg(struct okvm_vcpu *vcpu,
			   const struct kvm_one_reg *reg);
int okvm_arm64_set_one_reg(struct okvm_vcpu *vcpu,
			   const struct kvm_one_reg *reg);
int okvm_arm64_get_reg_list(struct okvm_vcpu *vcpu,
			    struct kvm_reg_list __user *list);
/*
 * A trapped MRS/MSR (ESR_EL2.EC 0x18): emulate it and return 0 (the
 * caller steps the PC), or return -EINVAL to make the caller inject an
 * undefined-instruction exception.
 */
int okvm_arm64_handle_sysreg(struct okvm_vcpu *vcpu, u64 esr);
/* The guest's view of an ID register (sanitised: only what okvm offers). */
u64 okvm_arm64_id_reg(u32 encoding);

#endif /* OKVM_ARM64_VCPU_H */
