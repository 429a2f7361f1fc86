/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world switch (VHE): enter the guest with ERET and come back through
 * okvm's own exception vectors. The host runs at EL2, so everything here
 * runs at EL2 too, with interrupts masked; the EL1 system registers, the
 * stage-2 registers and HCR_EL2 are set up in C (run.c) around the call.
 *
 * While the guest runs, SP_EL2 still points into the host stack of the
 * task that called __okvm_guest_run(): the frame pushed below holds the
 * host's callee-saved registers, its SP_EL0 (the kernel's "current") and
 * the guest context pointer. An exception from the guest lands on that
 * same stack, so the vectors find everything there.
 */
#include <linux/linkage.h>
#include <asm/assembler.h>

#include "switch.h"

/* Frame of __okvm_guest_run(), from the final SP up. */
#define FRAME_CTXT	0	/* struct okvm_arm64_ctxt * */
#define FRAME_SP_EL0	8	/* host sp_el0 */
#define FRAME_X18	16
#define FRAME_X19	24	/* x19..x28: 24..96 */
#define FRAME_X29	104	/* x29, x30 */
#define FRAME_SIZE	128

	.text

/*
 * u64 __okvm_guest_run(struct okvm_arm64_ctxt *ctxt)
 *
 * Runs the guest until it takes an exception to EL2; returns which one
 * (OKVM_EXIT_*), with the guest's x0-x30, sp_el0, pc, pstate and the
 * syndrome registers saved in *ctxt. Interrupts must be masked.
 */
SYM_FUNC_START(__okvm_guest_run)
	sub	sp, sp, #FRAME_SIZE
	stp	x29, x30, [sp, #FRAME_X29]
	stp	x19, x20, [sp, #FRAME_X19]
	stp	x21, x22, [sp, #FRAME_X19 + 16]
	stp	x23, x24, [sp, #FRAME_X19 + 32]
	stp	x25, x26, [sp, #FRAME_X19 + 48]
	stp	x27, x28, [sp, #FRAME_X19 + 64]
	str	x18, [sp, #FRAME_X18]
	mrs	x1, sp_el0
	str	x1, [sp, #FRAME_SP_EL0]
	str	x0, [sp, #FRAME_CTXT]

	ldr	x1, [x0, #OKVM_CTXT_SP_EL0]
	msr	sp_el0, x1
	ldr	x1, [x0, #OKVM_CTXT_PC]
	msr	elr_el2, x1
	ldr	x1, [x0, #OKVM_CTXT_PSTATE]
	msr	spsr_el2, x1

	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0]
	eret
	/* Nothing after the ERET may run, not even speculatively. */
	dsb	nsh
	isb
SYM_FUNC_END(__okvm_guest_run)

/*
 * Common exit: the entry stub pushed the guest's x0 and x1 and put the
 * exit code in x0; sp is the run frame again minus those 16 bytes.
 */
SYM_CODE_START_LOCAL(__okvm_guest_exit)
	ldr	x1, [sp, #16 + FRAME_CTXT]
	stp	x2, x3, [x1, #16]
	stp	x4, x5, [x1, #32]
	stp	x6, x7, [x1, #48]
	stp	x8, x9, [x1, #64]
	stp	x10, x11, [x1, #80]
	stp	x12, x13, [x1, #96]
	stp	x14, x15, [x1, #112]
	stp	x16, x17, [x1, #128]
	stp	x18, x19, [x1, #144]
	stp	x20, x21, [x1, #160]
	stp	x22, x23, [x1, #176]
	stp	x24, x25, [x1, #192]
	stp	x26, x27, [x1, #208]
	stp	x28, x29, [x1, #224]
	str	x30, [x1, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x1]

	mrs	x2, sp_el0
	str	x2, [x1, #OKVM_CTXT_SP_EL0]
	mrs	x2, elr_el2
	str	x2, [x1, #OKVM_CTXT_PC]
	mrs	x2, spsr_el2
	str	x2, [x1, #OKVM_CTXT_PSTATE]
	mrs	x2, esr_el2
	str	x2, [x1, #OKVM_CTXT_ESR]
	mrs	x2, far_el2
	str	x2, [x1, #OKVM_CTXT_FAR]
	mrs	x2, hpfar_el2
	str	x2, [x1, #OKVM_CTXT_HPFAR]

	ldr	x2, [sp, #FRAME_SP_EL0]
	msr	sp_el0, x2
	ldr	x18, [sp, #FRAME_X18]
	ldp	x19, x20, [sp, #FRAME_X19]
	ldp	x21, x22, [sp, #FRAME_X19 + 16]
	ldp	x23, x24, [sp, #FRAME_X19 + 32]
	ldp	x25, x26, [sp, #FRAME_X19 + 48]
	ldp	x27, x28, [sp, #FRAME_X19 + 64]
	ldp	x29, x30, [sp, #FRAME_X29]
	add	sp, sp, #FRAME_SIZE
	ret
SYM_CODE_END(__okvm_guest_exit)

/* An exception at EL2 itself while okvm's vectors are installed: a bug. */
SYM_CODE_START_LOCAL(__okvm_hyp_bug)
	mrs	x0, esr_el2
	mrs	x1, elr_el2
	mrs	x2, far_el2
	b	okvm_arm64_hyp_panic
SYM_CODE_END(__okvm_hyp_bug)

	.macro	okvm_vect_exit code
	.align	7
	stp	x0, x1, [sp, #-16]!
	mov	x0, #\code
	b	__okvm_guest_exit
	.endm

	.macro	okvm_vect_bug
	.align	7
	b	__okvm_hyp_bug
	.endm

/* VBAR_EL2 while a guest runs: 2 KiB aligned, 16 entries of 128 bytes. */
	.align	11
SYM_CODE_START(__okvm_vectors)
	okvm_vect_bug				/* EL2t sync */
	okvm_vect_bug				/* EL2t irq */
	okvm_vect_bug				/* EL2t fiq */
	okvm_vect_bug				/* EL2t serror */
	okvm_vect_bug				/* EL2h sync */
	okvm_vect_bug				/* EL2h irq */
	okvm_vect_bug				/* EL2h fiq */
	okvm_vect_bug				/* EL2h serror */
	okvm_vect_exit	OKVM_EXIT_SYNC		/* lower EL, AArch64 */
	okvm_vect_exit	OKVM_EXIT_IRQ
	okvm_vect_exit	OKVM_EXIT_FIQ
	okvm_vect_exit	OKVM_EXIT_SERROR
	okvm_vect_exit	OKVM_EXIT_AARCH32	/* lower EL, AArch32 */
	okvm_vect_exit	OKVM_EXIT_AARCH32
	okvm_vect_exit	OKVM_EXIT_AARCH32
	okvm_vect_exit	OKVM_EXIT_AARCH32
SYM_CODE_END(__okvm_vectors)

/*
 * Guest FP/SIMD registers in and out: void fn(__uint128_t *vregs), where
 * vregs[32] is followed by the 32-bit fpsr and fpcr.
 */
SYM_FUNC_START(__okvm_fpsimd_load)
	ldp	q0, q1, [x0], #32
	ldp	q2, q3, [x0], #32
	ldp	q4, q5, [x0], #32
	ldp	q6, q7, [x0], #32
	ldp	q8, q9, [x0], #32
	ldp	q10, q11, [x0], #32
	ldp	q12, q13, [x0], #32
	ldp	q14, q15, [x0], #32
	ldp	q16, q17, [x0], #32
	ldp	q18, q19, [x0], #32
	ldp	q20, q21, [x0], #32
	ldp	q22, q23, [x0], #32
	ldp	q24, q25, [x0], #32
	ldp	q26, q27, [x0], #32
	ldp	q28, q29, [x0], #32
	ldp	q30, q31, [x0], #32
	ldp	w1, w2, [x0]
	msr	fpsr, x1
	msr	fpcr, x2
	ret
SYM_FUNC_END(__okvm_fpsimd_load)

SYM_FUNC_START(__okvm_fpsimd_save)
	stp	q0, q1, [x0], #32
	stp	q2, q3, [x0], #32
	stp	q4, q5, [x0], #32
	stp	q6, q7, [x0], #32
	stp	q8, q9, [x0], #32
	stp	q10, q11, [x0], #32
	stp	q12, q13, [x0], #32
	stp	q14, q15, [x0], #32
	stp	q16, q17, [x0], #32
	stp	q18, q19, [x0], #32
	stp	q20, q21, [x0], #32
	stp	q22, q23, [x0], #32
	stp	q24, q25, [x0], #32
	stp	q26, q27, [x0], #32
	stp	q28, q29, [x0], #32
	stp	q30, q31, [x0], #32
	mrs	x1, fpsr
	mrs	x2, fpcr
	stp	w1, w2, [x0]
	ret
SYM_FUNC_END(__okvm_fpsimd_save)
