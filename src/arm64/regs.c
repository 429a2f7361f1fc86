// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 vCPU registers: KVM_ARM_VCPU_INIT and the architectural reset,
 * KVM_GET_ONE_REG / KVM_SET_ONE_REG, KVM_GET_REG_LIST, the guest's view of
 * the ID registers, and the system register accesses that trap to okvm
 * (ESR_EL2.EC 0x18). Register ids, errno values and reset values are
 * those of KVM/arm64.
 */
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include <asm/cpufeature.h>
#include <asm/cputype.h>
#include <asm/esr.h>
#include <asm/ptrace.h>
#include <asm/sysreg.h>
#include <clocksource/arm_arch_timer.h>
#include <uapi/linux/psci.h>

#include "okvm.h"
#include "vcpu.h"

/* switch.S addresses these fields by number: keep vcpu.h honest. */
static_assert(offsetof(struct okvm_arm64_ctxt, regs) == 0);
static_assert(offsetof(struct okvm_arm64_ctxt, sp_el0) == OKVM_CTXT_SP_EL0);
static_assert(offsetof(struct okvm_arm64_ctxt, pc) == OKVM_CTXT_PC);
static_assert(offsetof(struct okvm_arm64_ctxt, pstate) == OKVM_CTXT_PSTATE);
static_assert(offsetof(struct okvm_arm64_ctxt, esr_el2) == OKVM_CTXT_ESR);
static_assert(offsetof(struct okvm_arm64_ctxt, far_el2) == OKVM_CTXT_FAR);
static_assert(offsetof(struct okvm_arm64_ctxt, hpfar_el2) == OKVM_CTXT_HPFAR);
/* The FP/SIMD block is laid out as struct user_fpsimd_state. */
static_assert(sizeof_field(struct okvm_arm64_ctxt, vregs) ==
	      sizeof_field(struct user_fpsimd_state, vregs));
/* __okvm_fpsimd_load/save move vregs, fpsr and fpcr as one block. */
static_assert(offsetof(struct okvm_arm64_ctxt, fpsr) ==
	      offsetof(struct okvm_arm64_ctxt, vregs) + 32 * 16);
static_assert(offsetof(struct okvm_arm64_ctxt, fpcr) ==
	      offsetof(struct okvm_arm64_ctxt, fpsr) + 4);

/*
 * SCTLR_EL1 of a vCPU after reset, the value KVM's reset gives it: MMU,
 * alignment check and caches off (M, A, C, I clear), little-endian at EL1
 * and EL0 (EE, E0E clear), with SA, SA0, CP15BEN, nAA, nTWI, nTWE and the
 * ARMv8.0 RES1 bits EIS and SPAN set.
 */
#define OKVM_SCTLR_EL1_RESET	0x00c50078ULL

/* PSTATE after reset: EL1 using SP_EL1, all of D, A, I and F masked. */
#define OKVM_PSTATE_RESET	(PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | \
				 PSR_I_BIT | PSR_F_BIT)

/* MPIDR_EL1 bit 31 is RES1. */
#define OKVM_MPIDR_RES1		BIT_ULL(31)

/* OSLSR_EL1.OSLM is bits 3 and 0; 0b10 (bit 3): OS lock implemented. */
#define OKVM_OSLSR_OSLM_IMPLEMENTED	BIT_ULL(3)

/* The KVM_ARM_VCPU_INIT features okvm implements. */
#define OKVM_VCPU_FEATURES	(BIT(KVM_ARM_VCPU_POWER_OFF) | \
				 BIT(KVM_ARM_VCPU_PSCI_0_2))

/*
 * The feature bits the host's KVM knows. KVM fails a bit outside them with
 * -ENOENT and a known bit it cannot provide with -EINVAL. KVM of 6.1 and
 * 6.12 knows bits 0..6 (6.12's uapi names bit 7, HAS_EL2, but its KVM does
 * not accept it); KVM of the kernels whose uapi has HAS_EL2_E2H0 knows
 * every bit up to that one.
 */
#ifdef KVM_ARM_VCPU_HAS_EL2_E2H0
#define OKVM_KVM_VCPU_FEATURES	GENMASK(KVM_ARM_VCPU_HAS_EL2_E2H0, 0)
#else
#define OKVM_KVM_VCPU_FEATURES	GENMASK(KVM_ARM_VCPU_PTRAUTH_GENERIC, 0)
#endif

/*
 * KVM_REG_ARM_PSCI_VERSION values. v0.1 is PSCI_VERSION(0, 1), not 0. With
 * the PSCI_0_2 feature KVM reports its newest version until userspace
 * picks an older one; 6.1 and 6.12 offer up to v1.1.
 */
#define OKVM_PSCI_0_1		PSCI_VERSION(0, 1)
#define OKVM_PSCI_0_2		PSCI_VERSION(0, 2)
#define OKVM_PSCI_1_0		PSCI_VERSION(1, 0)
#define OKVM_PSCI_1_1		PSCI_VERSION(1, 1)
#define OKVM_PSCI_LATEST	OKVM_PSCI_1_1

/*
 * The IPA size okvm_arm64_id_reg() reports when it has no VM to ask: the
 * largest one okvm gives a VM (OKVM_ARM64_MAX_IPA_BITS in arch.c).
 */
#define OKVM_ID_MAX_IPA_BITS	48

/*
 * Core registers: KVM numbers them by their offset in struct kvm_regs,
 * counted in 32-bit words.
 */
#define OKVM_CORE(name)		KVM_REG_ARM_CORE_REG(name)
#define OKVM_CORE_WORDS		(sizeof(struct kvm_regs) / sizeof(u32))

/*
 * The register of @c at core offset @off, and its size in bytes; NULL
 * where no register starts at @off. As KVM, an offset must also be a
 * multiple of the register's size (in words).
 */
static void *okvm_core_reg(struct okvm_arm64_ctxt *c, u64 off,
			   unsigned int *size)
{
	u64 i;

	*size = sizeof(u64);
	switch (off) {
	case OKVM_CORE(regs.regs[0]) ... OKVM_CORE(regs.regs[30]):
		i = (off - OKVM_CORE(regs.regs[0])) / 2;
		return off % 2 ? NULL : &c->regs[i];
	case OKVM_CORE(regs.sp):
		return &c->sp_el0;
	case OKVM_CORE(regs.pc):
		return &c->pc;
	case OKVM_CORE(regs.pstate):
		return &c->pstate;
	case OKVM_CORE(sp_el1):
		return &c->sp_el1;
	case OKVM_CORE(elr_el1):
		return &c->elr_el1;
	case OKVM_CORE(spsr[KVM_SPSR_EL1]):
		return &c->spsr_el1;
	case OKVM_CORE(spsr[KVM_SPSR_ABT]):
		return &c->spsr_abt;
	case OKVM_CORE(spsr[KVM_SPSR_UND]):
		return &c->spsr_und;
	case OKVM_CORE(spsr[KVM_SPSR_IRQ]):
		return &c->spsr_irq;
	case OKVM_CORE(spsr[KVM_SPSR_FIQ]):
		return &c->spsr_fiq;
	case OKVM_CORE(fp_regs.vregs[0]) ... OKVM_CORE(fp_regs.vregs[31]):
		i = (off - OKVM_CORE(fp_regs.vregs[0])) / 4;
		*size = sizeof(__uint128_t);
		return off % 4 ? NULL : &c->vregs[i];
	case OKVM_CORE(fp_regs.fpsr):
		*size = sizeof(u32);
		return &c->fpsr;
	case OKVM_CORE(fp_regs.fpcr):
		*size = sizeof(u32);
		return &c->fpcr;
	default:
		return NULL;
	}
}

/*
 * A PSTATE userspace may set. okvm has no AArch32: the mode must be
 * AArch64 EL0t, EL1t or EL1h (M[4], the AArch32 bit, clear). KVM checks
 * the mode field only; neither does okvm look at the other bits.
 */
static bool okvm_pstate_valid(u64 pstate)
{
	switch (pstate & (PSR_MODE32_BIT | PSR_MODE_MASK)) {
	case PSR_MODE_EL0t:
	case PSR_MODE_EL1t:
	case PSR_MODE_EL1h:
		return true;
	default:
		return false;
	}
}

static int okvm_core_one_reg(struct okvm_vcpu *vcpu,
			     const struct kvm_one_reg *reg, bool set)
{
	void __user *uaddr = u64_to_user_ptr(reg->addr);
	u64 off = reg->id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK |
			      KVM_REG_ARM_CORE);
	u64 len = KVM_REG_SIZE(reg->id);
	union {
		__uint128_t q;
		u64 x;
		u32 w;
	} val;
	unsigned int size;
	void *p;

	/* As KVM: an id reaching the end of struct kvm_regs does not exist. */
	if (off >= OKVM_CORE_WORDS ||
	    off + len / sizeof(u32) >= OKVM_CORE_WORDS)
		return -ENOENT;
	p = okvm_core_reg(&vcpu->arch.ctxt, off, &size);
	if (!p || size != len)
		return -EINVAL;

	if (!set)
		return copy_to_user(uaddr, p, size) ? -EFAULT : 0;

	if (copy_from_user(&val, uaddr, size))
		return -EFAULT;
	if (off == OKVM_CORE(regs.pstate) && !okvm_pstate_valid(val.x))
		return -EINVAL;
	memcpy(p, &val, size);
	return 0;
}

/*
 * System registers okvm keeps in ctxt.sys[], by encoding, in the order of
 * their KVM ids (op0, op1, CRn, CRm, op2), which is KVM_GET_REG_LIST's.
 * The ID registers (3, 0, 0, 1..7, *) go between MPIDR_EL1 and SCTLR_EL1.
 * The virtual timer's two are ONE_REG timer registers instead.
 */
static const struct {
	u32 enc;
	enum okvm_sysreg idx;
} okvm_sysregs[] = {
	{ SYS_MDSCR_EL1, OKVM_MDSCR_EL1 },
	{ SYS_MPIDR_EL1, OKVM_MPIDR_EL1 },
	{ SYS_SCTLR_EL1, OKVM_SCTLR_EL1 },
	{ SYS_ACTLR_EL1, OKVM_ACTLR_EL1 },
	{ SYS_CPACR_EL1, OKVM_CPACR_EL1 },
	{ SYS_TTBR0_EL1, OKVM_TTBR0_EL1 },
	{ SYS_TTBR1_EL1, OKVM_TTBR1_EL1 },
	{ SYS_TCR_EL1, OKVM_TCR_EL1 },
	{ SYS_AFSR0_EL1, OKVM_AFSR0_EL1 },
	{ SYS_AFSR1_EL1, OKVM_AFSR1_EL1 },
	{ SYS_ESR_EL1, OKVM_ESR_EL1 },
	{ SYS_FAR_EL1, OKVM_FAR_EL1 },
	{ SYS_PAR_EL1, OKVM_PAR_EL1 },
	{ SYS_MAIR_EL1, OKVM_MAIR_EL1 },
	{ SYS_AMAIR_EL1, OKVM_AMAIR_EL1 },
	{ SYS_VBAR_EL1, OKVM_VBAR_EL1 },
	{ SYS_CONTEXTIDR_EL1, OKVM_CONTEXTIDR_EL1 },
	{ SYS_TPIDR_EL1, OKVM_TPIDR_EL1 },
	{ SYS_CNTKCTL_EL1, OKVM_CNTKCTL_EL1 },
	{ SYS_CSSELR_EL1, OKVM_CSSELR_EL1 },
	{ SYS_TPIDR_EL0, OKVM_TPIDR_EL0 },
	{ SYS_TPIDRRO_EL0, OKVM_TPIDRRO_EL0 },
};

/* Every sys[] register but CNTV_CTL_EL0 and CNTV_CVAL_EL0 is listed. */
static_assert(ARRAY_SIZE(okvm_sysregs) == OKVM_NR_SYSREGS - 2);

/*
 * The fields of a sys_reg() encoding (asm/sysreg.h): op0, op1, CRn, CRm
 * and op2 from bit 19 down to bit 5.
 */
#define OKVM_ENC_OP0(enc)	(((enc) >> 19) & 0x3)
#define OKVM_ENC_OP1(enc)	(((enc) >> 16) & 0x7)
#define OKVM_ENC_CRN(enc)	(((enc) >> 12) & 0xf)
#define OKVM_ENC_CRM(enc)	(((enc) >> 8) & 0xf)
#define OKVM_ENC_OP2(enc)	(((enc) >> 5) & 0x7)
static_assert(OKVM_ENC_OP0(sys_reg(3, 0, 0, 0, 0)) == 3 &&
	      OKVM_ENC_OP1(sys_reg(0, 7, 0, 0, 0)) == 7 &&
	      OKVM_ENC_CRN(sys_reg(0, 0, 15, 0, 0)) == 15 &&
	      OKVM_ENC_CRM(sys_reg(0, 0, 0, 15, 0)) == 15 &&
	      OKVM_ENC_OP2(sys_reg(0, 0, 0, 0, 7)) == 7 &&
	      sys_reg(3, 7, 15, 15, 7) == 0x1fffe0);

/* The ID register block that HCR_EL2.TID3 traps: op0 3, op1 0, CRn 0. */
#define OKVM_ID_CRM_FIRST	1
#define OKVM_ID_CRM_LAST	7
#define OKVM_ID_BLOCK_START	sys_reg(3, 0, 0, OKVM_ID_CRM_FIRST, 0)

static bool okvm_is_id_reg(u32 enc)
{
	return OKVM_ENC_OP0(enc) == 3 && OKVM_ENC_OP1(enc) == 0 &&
	       OKVM_ENC_CRN(enc) == 0 &&
	       OKVM_ENC_CRM(enc) >= OKVM_ID_CRM_FIRST &&
	       OKVM_ENC_CRM(enc) <= OKVM_ID_CRM_LAST;
}

/* The sys[] slot of encoding @enc, or -1. */
static int okvm_sysreg_index(u32 enc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(okvm_sysregs); i++)
		if (okvm_sysregs[i].enc == enc)
			return okvm_sysregs[i].idx;
	return -1;
}

/* ID register fields are 4 bits wide. */
#define OKVM_FLD(shift)		(0xfULL << (shift))
#define OKVM_FLD_GET(v, shift)	(((v) >> (shift)) & 0xf)

/* ID_AA64PFR0_EL1 */
#define OKVM_PFR0_EL0			0
#define OKVM_PFR0_EL1			4
#define OKVM_PFR0_FP			16
#define OKVM_PFR0_ADVSIMD		20
#define OKVM_PFR0_DIT			48
#define OKVM_PFR0_CSV2			56
#define OKVM_PFR0_CSV3			60
#define OKVM_PFR0_ELX_AARCH64_ONLY	1ULL
/* ID_AA64PFR1_EL1 */
#define OKVM_PFR1_SSBS			4
#define OKVM_PFR1_CSV2_FRAC		32
/* ID_AA64DFR0_EL1 */
#define OKVM_DFR0_DEBUGVER		0
#define OKVM_DFR0_BRPS			12
#define OKVM_DFR0_WRPS			20
#define OKVM_DFR0_CTX_CMPS		28
#define OKVM_DFR0_DOUBLELOCK		36
#define OKVM_DFR0_DEBUGVER_V8		6ULL
/* ID_AA64ISAR0_EL1 */
#define OKVM_ISAR0_AES			4
#define OKVM_ISAR0_SHA1			8
#define OKVM_ISAR0_SHA2			12
#define OKVM_ISAR0_CRC32		16
#define OKVM_ISAR0_ATOMIC		20
#define OKVM_ISAR0_RDM			28
#define OKVM_ISAR0_SHA3			32
#define OKVM_ISAR0_SM3			36
#define OKVM_ISAR0_SM4			40
#define OKVM_ISAR0_DP			44
#define OKVM_ISAR0_FHM			48
#define OKVM_ISAR0_TS			52
#define OKVM_ISAR0_TLB			56
#define OKVM_ISAR0_RNDR			60
/* ID_AA64ISAR1_EL1 */
#define OKVM_ISAR1_DPB			0
#define OKVM_ISAR1_JSCVT		12
#define OKVM_ISAR1_FCMA			16
#define OKVM_ISAR1_LRCPC		20
#define OKVM_ISAR1_FRINTTS		32
#define OKVM_ISAR1_SB			36
#define OKVM_ISAR1_SPECRES		40
#define OKVM_ISAR1_BF16			44
#define OKVM_ISAR1_DGH			48
#define OKVM_ISAR1_I8MM			52
#define OKVM_ISAR1_XS			56
/* ID_AA64ISAR2_EL1 */
#define OKVM_ISAR2_RPRES		4
#define OKVM_ISAR2_BC			20
#define OKVM_ISAR2_CLRBHB		28
#define OKVM_ISAR2_PRFMSLC		40
#define OKVM_ISAR2_RPRFM		48
#define OKVM_ISAR2_CSSC			52
#define OKVM_ISAR2_LUT			56
/* ID_AA64MMFR0_EL1 */
#define OKVM_MMFR0_PARANGE		0
#define OKVM_MMFR0_ASIDBITS		4
#define OKVM_MMFR0_BIGEND		8
#define OKVM_MMFR0_SNSMEM		12
#define OKVM_MMFR0_BIGENDEL0		16
#define OKVM_MMFR0_TGRAN16		20
#define OKVM_MMFR0_TGRAN64		24
#define OKVM_MMFR0_TGRAN4		28
#define OKVM_MMFR0_EXS			44
/* ID_AA64MMFR1_EL1 */
#define OKVM_MMFR1_HAFDBS		0
#define OKVM_MMFR1_HPDS			12
#define OKVM_MMFR1_PAN			20
#define OKVM_MMFR1_SPECSEI		24
#define OKVM_MMFR1_ETS			36
#define OKVM_MMFR1_AFP			44
#define OKVM_MMFR1_NTLBPA		48
#define OKVM_MMFR1_ECBHB		60
/* Access flag and dirty state; 3 (FEAT_HAFT) needs TCR2_EL1. */
#define OKVM_MMFR1_HAFDBS_AF_DBM	2ULL
/* ID_AA64MMFR2_EL1 */
#define OKVM_MMFR2_CNP			0
#define OKVM_MMFR2_UAO			4
#define OKVM_MMFR2_LSM			8
#define OKVM_MMFR2_VARANGE		16
#define OKVM_MMFR2_CCIDX		20
#define OKVM_MMFR2_ST			28
#define OKVM_MMFR2_AT			32
#define OKVM_MMFR2_IDS			36
#define OKVM_MMFR2_TTL			48
#define OKVM_MMFR2_BBM			52
#define OKVM_MMFR2_E0PD			60

/*
 * The fields of each ID register a guest sees as the host has them; every
 * other field reads as 0 (not implemented), save those okvm_id_reg_view()
 * sets itself. A feature is kept only when it needs nothing from okvm: no
 * register okvm does not switch, no EL2 control okvm does not program, no
 * trap okvm does not handle. So no SVE, SME, MTE, pointer authentication,
 * BTI (stage 2 does not set GP), AMU, MPAM, RAS, SPE, TRBE, BRBE, PMU,
 * trace, EL2 or EL3, GIC system registers (there is no vGIC), LORegions,
 * MOPS, GCS, NMI, TME, LS64, WFxT (a trapped WFET or WFIT would need its
 * timeout honoured), ECV, fine-grained traps, nested virtualisation, and
 * no AArch32.
 */
#define OKVM_PFR0_KEEP \
	(OKVM_FLD(OKVM_PFR0_FP) | OKVM_FLD(OKVM_PFR0_ADVSIMD) | \
	 OKVM_FLD(OKVM_PFR0_DIT) | OKVM_FLD(OKVM_PFR0_CSV2) | \
	 OKVM_FLD(OKVM_PFR0_CSV3))
#define OKVM_PFR1_KEEP \
	(OKVM_FLD(OKVM_PFR1_SSBS) | OKVM_FLD(OKVM_PFR1_CSV2_FRAC))
#define OKVM_DFR0_KEEP \
	(OKVM_FLD(OKVM_DFR0_BRPS) | OKVM_FLD(OKVM_DFR0_WRPS) | \
	 OKVM_FLD(OKVM_DFR0_CTX_CMPS) | OKVM_FLD(OKVM_DFR0_DOUBLELOCK))
#define OKVM_ISAR0_KEEP \
	(OKVM_FLD(OKVM_ISAR0_AES) | OKVM_FLD(OKVM_ISAR0_SHA1) | \
	 OKVM_FLD(OKVM_ISAR0_SHA2) | OKVM_FLD(OKVM_ISAR0_CRC32) | \
	 OKVM_FLD(OKVM_ISAR0_ATOMIC) | OKVM_FLD(OKVM_ISAR0_RDM) | \
	 OKVM_FLD(OKVM_ISAR0_SHA3) | OKVM_FLD(OKVM_ISAR0_SM3) | \
	 OKVM_FLD(OKVM_ISAR0_SM4) | OKVM_FLD(OKVM_ISAR0_DP) | \
	 OKVM_FLD(OKVM_ISAR0_FHM) | OKVM_FLD(OKVM_ISAR0_TS) | \
	 OKVM_FLD(OKVM_ISAR0_TLB) | OKVM_FLD(OKVM_ISAR0_RNDR))
#define OKVM_ISAR1_KEEP \
	(OKVM_FLD(OKVM_ISAR1_DPB) | OKVM_FLD(OKVM_ISAR1_JSCVT) | \
	 OKVM_FLD(OKVM_ISAR1_FCMA) | OKVM_FLD(OKVM_ISAR1_LRCPC) | \
	 OKVM_FLD(OKVM_ISAR1_FRINTTS) | OKVM_FLD(OKVM_ISAR1_SB) | \
	 OKVM_FLD(OKVM_ISAR1_SPECRES) | OKVM_FLD(OKVM_ISAR1_BF16) | \
	 OKVM_FLD(OKVM_ISAR1_DGH) | OKVM_FLD(OKVM_ISAR1_I8MM) | \
	 OKVM_FLD(OKVM_ISAR1_XS))
#define OKVM_ISAR2_KEEP \
	(OKVM_FLD(OKVM_ISAR2_RPRES) | OKVM_FLD(OKVM_ISAR2_BC) | \
	 OKVM_FLD(OKVM_ISAR2_CLRBHB) | OKVM_FLD(OKVM_ISAR2_PRFMSLC) | \
	 OKVM_FLD(OKVM_ISAR2_RPRFM) | OKVM_FLD(OKVM_ISAR2_CSSC) | \
	 OKVM_FLD(OKVM_ISAR2_LUT))
#define OKVM_MMFR0_KEEP \
	(OKVM_FLD(OKVM_MMFR0_ASIDBITS) | OKVM_FLD(OKVM_MMFR0_BIGEND) | \
	 OKVM_FLD(OKVM_MMFR0_SNSMEM) | OKVM_FLD(OKVM_MMFR0_BIGENDEL0) | \
	 OKVM_FLD(OKVM_MMFR0_TGRAN16) | OKVM_FLD(OKVM_MMFR0_TGRAN64) | \
	 OKVM_FLD(OKVM_MMFR0_TGRAN4) | OKVM_FLD(OKVM_MMFR0_EXS))
#define OKVM_MMFR1_KEEP \
	(OKVM_FLD(OKVM_MMFR1_HPDS) | OKVM_FLD(OKVM_MMFR1_PAN) | \
	 OKVM_FLD(OKVM_MMFR1_SPECSEI) | OKVM_FLD(OKVM_MMFR1_ETS) | \
	 OKVM_FLD(OKVM_MMFR1_AFP) | OKVM_FLD(OKVM_MMFR1_NTLBPA) | \
	 OKVM_FLD(OKVM_MMFR1_ECBHB))
#define OKVM_MMFR2_KEEP \
	(OKVM_FLD(OKVM_MMFR2_CNP) | OKVM_FLD(OKVM_MMFR2_UAO) | \
	 OKVM_FLD(OKVM_MMFR2_LSM) | OKVM_FLD(OKVM_MMFR2_VARANGE) | \
	 OKVM_FLD(OKVM_MMFR2_CCIDX) | OKVM_FLD(OKVM_MMFR2_ST) | \
	 OKVM_FLD(OKVM_MMFR2_AT) | OKVM_FLD(OKVM_MMFR2_IDS) | \
	 OKVM_FLD(OKVM_MMFR2_TTL) | OKVM_FLD(OKVM_MMFR2_BBM) | \
	 OKVM_FLD(OKVM_MMFR2_E0PD))

/* ID_AA64MMFR0_EL1.PARange encodings 0..6 and the address bits of each. */
static const u8 okvm_parange_bits[] = { 32, 36, 40, 42, 44, 48, 52 };

/*
 * The smallest PARange covering @bits. A VM's IPA size need not be one
 * of the encodings (a VMM may ask for 41 bits); rounding up keeps all of
 * the VM's addresses reachable, and the guest physical addresses between
 * the IPA size and the reported range fault at stage 2 like any hole.
 */
static u64 okvm_parange_for(unsigned int bits)
{
	u64 i;

	for (i = 0; i < ARRAY_SIZE(okvm_parange_bits) - 1; i++)
		if (okvm_parange_bits[i] >= bits)
			break;
	return i;
}

/* The guest's view of ID register @enc in a VM of @ipa_bits. */
static u64 okvm_id_reg_view(u32 enc, unsigned int ipa_bits)
{
	u64 val, f;

	switch (enc) {
	case SYS_ID_AA64PFR0_EL1:
		val = read_sanitised_ftr_reg(enc) & OKVM_PFR0_KEEP;
		return val | OKVM_PFR0_ELX_AARCH64_ONLY << OKVM_PFR0_EL0 |
		       OKVM_PFR0_ELX_AARCH64_ONLY << OKVM_PFR0_EL1;
	case SYS_ID_AA64PFR1_EL1:
		return read_sanitised_ftr_reg(enc) & OKVM_PFR1_KEEP;
	case SYS_ID_AA64DFR0_EL1:
		val = read_sanitised_ftr_reg(enc) & OKVM_DFR0_KEEP;
		return val | OKVM_DFR0_DEBUGVER_V8 << OKVM_DFR0_DEBUGVER;
	case SYS_ID_AA64ISAR0_EL1:
		return read_sanitised_ftr_reg(enc) & OKVM_ISAR0_KEEP;
	case SYS_ID_AA64ISAR1_EL1:
		return read_sanitised_ftr_reg(enc) & OKVM_ISAR1_KEEP;
	case SYS_ID_AA64ISAR2_EL1:
		return read_sanitised_ftr_reg(enc) & OKVM_ISAR2_KEEP;
	case SYS_ID_AA64MMFR0_EL1:
		val = read_sanitised_ftr_reg(enc);
		f = min(OKVM_FLD_GET(val, OKVM_MMFR0_PARANGE),
			okvm_parange_for(ipa_bits));
		return (val & OKVM_MMFR0_KEEP) | f << OKVM_MMFR0_PARANGE;
	case SYS_ID_AA64MMFR1_EL1:
		val = read_sanitised_ftr_reg(enc);
		f = min(OKVM_FLD_GET(val, OKVM_MMFR1_HAFDBS),
			OKVM_MMFR1_HAFDBS_AF_DBM);
		return (val & OKVM_MMFR1_KEEP) | f << OKVM_MMFR1_HAFDBS;
	case SYS_ID_AA64MMFR2_EL1:
		return read_sanitised_ftr_reg(enc) & OKVM_MMFR2_KEEP;
	default:
		/*
		 * Everything else in the block: the AArch32 ID registers
		 * (no AArch32), registers of hidden features (SVE, SME,
		 * FPMR, AMU, MMFR3 and MMFR4 extensions, ...) and the
		 * unallocated encodings.
		 */
		return 0;
	}
}

u64 okvm_arm64_id_reg(u32 encoding)
{
	return okvm_id_reg_view(encoding, OKVM_ID_MAX_IPA_BITS);
}

static u64 okvm_vcpu_id_reg(const struct okvm_vcpu *vcpu, u32 enc)
{
	return okvm_id_reg_view(enc, vcpu->vm->gpa_bits);
}

/*
 * The guest's virtual count: the physical counter (what the kernel's
 * clocksource reads at EL2 with VHE, where CNTVOFF_EL2 does not apply)
 * less the guest's offset, as CNTVCT_EL0 reads in the guest.
 */
static u64 okvm_guest_count(const struct okvm_vcpu *vcpu)
{
	return arch_timer_read_counter() - vcpu->arch.cntvoff;
}

/*
 * CNTV_CTL_EL0 as KVM reports it: ISTATUS set when the timer condition
 * is met (count >= CVAL), whether or not the timer is enabled.
 */
static u64 okvm_timer_ctl(const struct okvm_vcpu *vcpu)
{
	const u64 *sys = vcpu->arch.ctxt.sys;
	u64 ctl = sys[OKVM_CNTV_CTL_EL0] & ~(u64)ARCH_TIMER_CTRL_IT_STAT;

	if (okvm_guest_count(vcpu) >= sys[OKVM_CNTV_CVAL_EL0])
		ctl |= ARCH_TIMER_CTRL_IT_STAT;
	return ctl;
}

/* Is @id shaped as a system register id: 64-bit, op0..op2 and nothing else? */
static bool okvm_is_sysreg_id(u64 id)
{
	/*
	 * KVM only asks for a 64-bit size and no stray index bits; it does
	 * not look at the coprocessor field. okvm wants the SYSREG one.
	 */
	return (id & ~(KVM_REG_ARM64_SYSREG_OP0_MASK |
		       KVM_REG_ARM64_SYSREG_OP1_MASK |
		       KVM_REG_ARM64_SYSREG_CRN_MASK |
		       KVM_REG_ARM64_SYSREG_CRM_MASK |
		       KVM_REG_ARM64_SYSREG_OP2_MASK)) ==
	       (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG);
}

static u32 okvm_id_to_enc(u64 id)
{
	return sys_reg((id & KVM_REG_ARM64_SYSREG_OP0_MASK) >>
		       KVM_REG_ARM64_SYSREG_OP0_SHIFT,
		       (id & KVM_REG_ARM64_SYSREG_OP1_MASK) >>
		       KVM_REG_ARM64_SYSREG_OP1_SHIFT,
		       (id & KVM_REG_ARM64_SYSREG_CRN_MASK) >>
		       KVM_REG_ARM64_SYSREG_CRN_SHIFT,
		       (id & KVM_REG_ARM64_SYSREG_CRM_MASK) >>
		       KVM_REG_ARM64_SYSREG_CRM_SHIFT,
		       (id & KVM_REG_ARM64_SYSREG_OP2_MASK) >>
		       KVM_REG_ARM64_SYSREG_OP2_SHIFT);
}

static u64 okvm_enc_to_id(u32 enc)
{
	return ARM64_SYS_REG(OKVM_ENC_OP0(enc), OKVM_ENC_OP1(enc),
			     OKVM_ENC_CRN(enc), OKVM_ENC_CRM(enc),
			     OKVM_ENC_OP2(enc));
}

/* Does the 64-bit register @id exist? */
static bool okvm_u64_reg_exists(u64 id)
{
	u32 enc;

	switch (id) {
	case KVM_REG_ARM_PSCI_VERSION:
	case KVM_REG_ARM_TIMER_CTL:
	case KVM_REG_ARM_TIMER_CNT:
	case KVM_REG_ARM_TIMER_CVAL:
		return true;
	}
	if (!okvm_is_sysreg_id(id))
		return false;
	enc = okvm_id_to_enc(id);
	return okvm_is_id_reg(enc) || okvm_sysreg_index(enc) >= 0;
}

/* Read the 64-bit register @id, which exists. */
static u64 okvm_u64_reg_get(const struct okvm_vcpu *vcpu, u64 id)
{
	const struct okvm_vcpu_arch *arch = &vcpu->arch;
	u32 enc;

	switch (id) {
	case KVM_REG_ARM_PSCI_VERSION:
		return arch->psci_version;
	case KVM_REG_ARM_TIMER_CTL:
		return okvm_timer_ctl(vcpu);
	case KVM_REG_ARM_TIMER_CNT:
		return okvm_guest_count(vcpu);
	case KVM_REG_ARM_TIMER_CVAL:
		return arch->ctxt.sys[OKVM_CNTV_CVAL_EL0];
	}
	enc = okvm_id_to_enc(id);
	if (okvm_is_id_reg(enc))
		return okvm_vcpu_id_reg(vcpu, enc);
	return arch->ctxt.sys[okvm_sysreg_index(enc)];
}

/*
 * PSCI versions userspace may choose (KVM's rule): v0.1 only for a vCPU
 * without the PSCI_0_2 feature, v0.2 to v1.1 only for one with it.
 */
static int okvm_set_psci_version(struct okvm_vcpu *vcpu, u64 val)
{
	bool psci_0_2 = vcpu->arch.features & BIT(KVM_ARM_VCPU_PSCI_0_2);

	switch (val) {
	case OKVM_PSCI_0_1:
		if (psci_0_2)
			return -EINVAL;
		break;
	case OKVM_PSCI_0_2:
	case OKVM_PSCI_1_0:
	case OKVM_PSCI_1_1:
		if (!psci_0_2)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	vcpu->arch.psci_version = val;
	return 0;
}

/* Write the 64-bit register @id, which exists. */
static int okvm_u64_reg_set(struct okvm_vcpu *vcpu, u64 id, u64 val)
{
	u64 *sys = vcpu->arch.ctxt.sys;
	u32 enc;

	switch (id) {
	case KVM_REG_ARM_PSCI_VERSION:
		return okvm_set_psci_version(vcpu, val);
	case KVM_REG_ARM_TIMER_CTL:
		/*
		 * ISTATUS is read-only. KVM keeps the other bits as given;
		 * okvm keeps ENABLE and IMASK only, the bits the guest can
		 * write, since the value goes back into CNTV_CTL_EL0.
		 */
		sys[OKVM_CNTV_CTL_EL0] = val & (ARCH_TIMER_CTRL_ENABLE |
						ARCH_TIMER_CTRL_IT_MASK);
		return 0;
	case KVM_REG_ARM_TIMER_CNT:
		/* Move the guest's counter, as KVM does, through the offset. */
		vcpu->arch.cntvoff = arch_timer_read_counter() - val;
		return 0;
	case KVM_REG_ARM_TIMER_CVAL:
		sys[OKVM_CNTV_CVAL_EL0] = val;
		return 0;
	}
	enc = okvm_id_to_enc(id);
	if (okvm_is_id_reg(enc))
		/* Read-only: only what the guest would read is accepted. */
		return val == okvm_vcpu_id_reg(vcpu, enc) ? 0 : -EINVAL;
	sys[okvm_sysreg_index(enc)] = val;
	return 0;
}

/*
 * KVM's answer for an SVE register id on a vCPU without SVE: -ENOENT
 * inside the ranges of the Z, P and FFR registers and for the vector
 * length pseudo-register, -EINVAL for the rest of the SVE space.
 */
static int okvm_sve_reg_errno(u64 id)
{
	if (id == KVM_REG_ARM64_SVE_VLS)
		return -ENOENT;
	if (id >= KVM_REG_ARM64_SVE_ZREG(0, 0) &&
	    id <= KVM_REG_ARM64_SVE_ZREG(KVM_ARM64_SVE_NUM_ZREGS - 1,
					 KVM_ARM64_SVE_MAX_SLICES - 1))
		return -ENOENT;
	if (id >= KVM_REG_ARM64_SVE_PREG(0, 0) &&
	    id <= KVM_REG_ARM64_SVE_FFR(KVM_ARM64_SVE_MAX_SLICES - 1))
		return -ENOENT;
	return -EINVAL;
}

static int okvm_one_reg(struct okvm_vcpu *vcpu, const struct kvm_one_reg *reg,
			bool set)
{
	u64 __user *uaddr = u64_to_user_ptr(reg->addr);
	u64 id = reg->id;
	u64 val;

	if (!vcpu->arch.initialized)
		return -ENOEXEC;
	/* Of the upper 32 bits, only the arch (arm64) and size may be set. */
	if ((id & ~KVM_REG_SIZE_MASK) >> 32 != KVM_REG_ARM64 >> 32)
		return -EINVAL;

	switch (id & KVM_REG_ARM_COPROC_MASK) {
	case KVM_REG_ARM_CORE:
		return okvm_core_one_reg(vcpu, reg, set);
	case KVM_REG_ARM64_SVE:
		return okvm_sve_reg_errno(id);
	}

	/* A register of the wrong size does not exist (-ENOENT), as KVM. */
	if (!okvm_u64_reg_exists(id))
		return -ENOENT;
	if (!set) {
		val = okvm_u64_reg_get(vcpu, id);
		return put_user(val, uaddr) ? -EFAULT : 0;
	}
	if (get_user(val, uaddr))
		return -EFAULT;
	return okvm_u64_reg_set(vcpu, id, val);
}

int okvm_arm64_get_one_reg(struct okvm_vcpu *vcpu,
			   const struct kvm_one_reg *reg)
{
	return okvm_one_reg(vcpu, reg, false);
}

int okvm_arm64_set_one_reg(struct okvm_vcpu *vcpu,
			   const struct kvm_one_reg *reg)
{
	return okvm_one_reg(vcpu, reg, true);
}

/* Where KVM_GET_REG_LIST writes the next id; only counts if out is NULL. */
struct okvm_reg_cursor {
	u64 __user *out;
	u64 n;
};

static int okvm_emit(struct okvm_reg_cursor *cur, u64 id)
{
	if (cur->out && put_user(id, cur->out + cur->n))
		return -EFAULT;
	cur->n++;
	return 0;
}

static int okvm_emit_id_regs(struct okvm_reg_cursor *cur)
{
	unsigned int crm, op2;
	u32 enc;
	int ret;

	for (crm = OKVM_ID_CRM_FIRST; crm <= OKVM_ID_CRM_LAST; crm++) {
		for (op2 = 0; op2 < 8; op2++) {
			enc = sys_reg(3, 0, 0, crm, op2);
			ret = okvm_emit(cur, okvm_enc_to_id(enc));
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * Every register id of the vCPU, in KVM's order: core registers by
 * offset, firmware registers, the timer's CTL, CNT and CVAL, then the
 * system registers by id. Each one can be read and written back.
 */
static int okvm_walk_regs(struct okvm_vcpu *vcpu, struct okvm_reg_cursor *cur)
{
	static const u64 fw_timer[] = {
		KVM_REG_ARM_PSCI_VERSION,
		KVM_REG_ARM_TIMER_CTL,
		KVM_REG_ARM_TIMER_CNT,
		KVM_REG_ARM_TIMER_CVAL,
	};
	bool id_regs_done = false;
	unsigned int size, i;
	u32 enc;
	int ret;

	for (i = 0; i < OKVM_CORE_WORDS; i++) {
		if (!okvm_core_reg(&vcpu->arch.ctxt, i, &size))
			continue;
		ret = okvm_emit(cur, KVM_REG_ARM64 | KVM_REG_ARM_CORE | i |
				(u64)ilog2(size) << KVM_REG_SIZE_SHIFT);
		if (ret)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(fw_timer); i++) {
		ret = okvm_emit(cur, fw_timer[i]);
		if (ret)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(okvm_sysregs); i++) {
		enc = okvm_sysregs[i].enc;
		if (!id_regs_done && enc > OKVM_ID_BLOCK_START) {
			ret = okvm_emit_id_regs(cur);
			if (ret)
				return ret;
			id_regs_done = true;
		}
		ret = okvm_emit(cur, okvm_enc_to_id(enc));
		if (ret)
			return ret;
	}
	return id_regs_done ? 0 : okvm_emit_id_regs(cur);
}

int okvm_arm64_get_reg_list(struct okvm_vcpu *vcpu,
			    struct kvm_reg_list __user *list)
{
	struct okvm_reg_cursor cur = { };
	struct kvm_reg_list head;
	u64 n;

	if (!vcpu->arch.initialized)
		return -ENOEXEC;
	if (copy_from_user(&head, list, sizeof(head)))
		return -EFAULT;
	n = head.n;
	okvm_walk_regs(vcpu, &cur);	/* only counts: cannot fail */
	head.n = cur.n;
	if (copy_to_user(list, &head, sizeof(head)))
		return -EFAULT;
	if (n < head.n)
		return -E2BIG;
	cur = (struct okvm_reg_cursor){ .out = list->reg };
	return okvm_walk_regs(vcpu, &cur);
}

void okvm_arm64_vcpu_reset(struct okvm_vcpu *vcpu)
{
	struct okvm_vcpu_arch *arch = &vcpu->arch;
	struct okvm_arm64_ctxt *c = &arch->ctxt;
	u32 id = vcpu->vcpu_id;

	memset(c, 0, sizeof(*c));
	c->pstate = OKVM_PSTATE_RESET;
	c->sys[OKVM_SCTLR_EL1] = OKVM_SCTLR_EL1_RESET;
	/*
	 * Aff0 takes only 4 bits of the id, as in KVM (a GICv3 SGI targets
	 * at most 16 CPUs of one Aff0 group), then Aff1 and Aff2 8 each.
	 */
	c->sys[OKVM_MPIDR_EL1] = OKVM_MPIDR_RES1 |
		(u64)(id & 0xf) << MPIDR_LEVEL_SHIFT(0) |
		(u64)((id >> 4) & 0xff) << MPIDR_LEVEL_SHIFT(1) |
		(u64)((id >> 12) & 0xff) << MPIDR_LEVEL_SHIFT(2);
	/*
	 * KVM starts these IMPLEMENTATION DEFINED registers at the values of
	 * the CPU doing the reset. AMAIR_EL1 reads AMAIR_EL2 here (E2H), as
	 * it does for KVM.
	 */
	c->sys[OKVM_ACTLR_EL1] = read_sysreg(actlr_el1);
	c->sys[OKVM_AMAIR_EL1] = read_sysreg(amair_el1);

	memset(&arch->mmio, 0, sizeof(arch->mmio));
}

int okvm_arm64_vcpu_init(struct okvm_vcpu *vcpu,
			 const struct kvm_vcpu_init *init)
{
	struct okvm_vcpu_arch *arch = &vcpu->arch;
	u32 features = init->features[0];
	unsigned int i;

	if (init->target != KVM_ARM_TARGET_GENERIC_V8)
		return -EINVAL;
	if (features & ~OKVM_KVM_VCPU_FEATURES)
		return -ENOENT;
	for (i = 1; i < ARRAY_SIZE(init->features); i++)
		if (init->features[i])
			return -ENOENT;
	if (features & ~OKVM_VCPU_FEATURES)
		return -EINVAL;
	/* A vCPU keeps the features of its first KVM_ARM_VCPU_INIT. */
	if (arch->initialized && features != arch->features)
		return -EINVAL;

	arch->features = features;
	okvm_arm64_vcpu_reset(vcpu);
	/*
	 * Every INIT sets the power state, as KVM's does. The reset above
	 * leaves it alone: PSCI CPU_ON resets a vCPU it has just powered on.
	 */
	spin_lock(&vcpu->wq.lock);
	WRITE_ONCE(arch->power_off,
		   !!(features & BIT(KVM_ARM_VCPU_POWER_OFF)));
	spin_unlock(&vcpu->wq.lock);
	if (!arch->initialized) {
		/* What KVM reports before userspace picks a version. */
		if (features & BIT(KVM_ARM_VCPU_PSCI_0_2))
			arch->psci_version = OKVM_PSCI_LATEST;
		else
			arch->psci_version = OKVM_PSCI_0_1;
		arch->initialized = true;
	}
	return 0;
}

/* ISS of a trapped MSR, MRS or SYS instruction (ESR_EL2.EC 0x18). */
#define OKVM_ISS_READ		BIT(0)	/* Direction: MRS */
#define OKVM_ISS_CRM(esr)	(((esr) >> 1) & 0xf)
#define OKVM_ISS_RT(esr)	(((esr) >> 5) & 0x1f)
#define OKVM_ISS_CRN(esr)	(((esr) >> 10) & 0xf)
#define OKVM_ISS_OP1(esr)	(((esr) >> 14) & 0x7)
#define OKVM_ISS_OP2(esr)	(((esr) >> 17) & 0x7)
#define OKVM_ISS_OP0(esr)	(((esr) >> 20) & 0x3)

/* Register 31 is XZR for MSR and MRS. */
static u64 okvm_xreg(const struct okvm_vcpu *vcpu, unsigned int rt)
{
	return rt < 31 ? vcpu->arch.ctxt.regs[rt] : 0;
}

static void okvm_set_xreg(struct okvm_vcpu *vcpu, unsigned int rt, u64 val)
{
	if (rt < 31)
		vcpu->arch.ctxt.regs[rt] = val;
}

/*
 * Set/way cache maintenance (HCR_EL2.TSW): DC ISW, DC CSW and DC CISW
 * work on the caches of the CPU that runs them, which means nothing for a
 * vCPU that moves between CPUs whose caches hold its memory. KVM does not
 * run them either: it cleans the guest's whole memory to the point of
 * coherency instead and, while the guest's caches are off, traps the
 * guest's VM registers to do it again when they come on; with FWB its
 * clean does no cache maintenance at all. okvm does nothing. With
 * FEAT_S2FWB stage 2 forces the guest's memory to be write-back cacheable
 * whatever the guest asks, so what the guest reads never differs from
 * what the caches hold, with or without its own caches; and QEMU's TCG,
 * where okvm is tested, has no caches. On hardware without FWB a guest
 * that relies on set/way with its MMU off (boot firmware does; Linux
 * does not) could read stale data.
 */
static int okvm_sys_insn(u32 enc)
{
	switch (enc) {
	case SYS_DC_ISW:
	case SYS_DC_CSW:
	case SYS_DC_CISW:
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Debug registers (op0 2, MDCR_EL2.TDA, TDOSA, TDRA): the guest has no
 * hardware breakpoints, watchpoints or debug communication channel, so
 * they read as zero and ignore writes. MDSCR_EL1 is the guest's own, and
 * OSLSR_EL1 says the OS lock exists and is unlocked (OSLAR_EL1 writes are
 * ignored). Trace (op1 1) and EL2 (op1 4) encodings are undefined.
 */
static int okvm_debug_reg(struct okvm_vcpu *vcpu, u32 enc, bool read,
			  unsigned int rt)
{
	u64 *sys = vcpu->arch.ctxt.sys;

	if (enc == SYS_MDSCR_EL1) {
		if (read)
			okvm_set_xreg(vcpu, rt, sys[OKVM_MDSCR_EL1]);
		else
			sys[OKVM_MDSCR_EL1] = okvm_xreg(vcpu, rt);
		return 0;
	}
	if (enc == SYS_OSLSR_EL1) {
		if (!read)
			return -EINVAL;
		okvm_set_xreg(vcpu, rt, OKVM_OSLSR_OSLM_IMPLEMENTED);
		return 0;
	}
	if (OKVM_ENC_OP1(enc) != 0 && OKVM_ENC_OP1(enc) != 3)
		return -EINVAL;
	if (read)
		okvm_set_xreg(vcpu, rt, 0);
	return 0;
}

int okvm_arm64_handle_sysreg(struct okvm_vcpu *vcpu, u64 esr)
{
	u32 enc = sys_reg(OKVM_ISS_OP0(esr), OKVM_ISS_OP1(esr),
			  OKVM_ISS_CRN(esr), OKVM_ISS_CRM(esr),
			  OKVM_ISS_OP2(esr));
	unsigned int rt = OKVM_ISS_RT(esr);
	bool read = esr & OKVM_ISS_READ;
	const u64 *sys = vcpu->arch.ctxt.sys;

	if (ESR_ELx_EC(esr) != ESR_ELx_EC_SYS64)
		return -EINVAL;

	switch (OKVM_ENC_OP0(enc)) {
	case 1:
		return okvm_sys_insn(enc);
	case 2:
		return okvm_debug_reg(vcpu, enc, read, rt);
	case 3:
		break;
	default:
		return -EINVAL;
	}

	/* ID registers (HCR_EL2.TID3) are read-only. */
	if (okvm_is_id_reg(enc)) {
		if (!read)
			return -EINVAL;
		okvm_set_xreg(vcpu, rt, okvm_vcpu_id_reg(vcpu, enc));
		return 0;
	}
	/* ACTLR_EL1 (HCR_EL2.TACR): as KVM, reads see sys[], writes vanish. */
	if (enc == SYS_ACTLR_EL1) {
		if (read)
			okvm_set_xreg(vcpu, rt, sys[OKVM_ACTLR_EL1]);
		return 0;
	}
	/*
	 * The rest is undefined for the guest: the LORegion registers
	 * (HCR_EL2.TLOR; LORegions are hidden), the PMU registers (CRn 9
	 * CRm 12..14 and CRn 14 CRm 8..15; MDCR_EL2.TPM, TPMCR; there is no
	 * PMU), the IMPLEMENTATION DEFINED ones (CRn 11 and 15; HCR_EL2.TIDCP)
	 * and anything else that traps.
	 */
	return -EINVAL;
}
