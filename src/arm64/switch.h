/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants shared by switch.S and the C code (no C in here: the assembler
 * includes it).
 */
#ifndef OKVM_ARM64_SWITCH_H
#define OKVM_ARM64_SWITCH_H

/*
 * Offsets in struct okvm_arm64_ctxt: x0..x30 at 0, then sp_el0, pc,
 * pstate and the exit syndrome. Checked against offsetof() in run.c.
 */
#define OKVM_CTXT_SP_EL0	248
#define OKVM_CTXT_PC		256
#define OKVM_CTXT_PSTATE	264
#define OKVM_CTXT_ESR		272
#define OKVM_CTXT_FAR		280
#define OKVM_CTXT_HPFAR		288

/* Why __okvm_guest_run() returned: which vector of okvm's table. */
#define OKVM_EXIT_SYNC		0
#define OKVM_EXIT_IRQ		1
#define OKVM_EXIT_FIQ		2
#define OKVM_EXIT_SERROR	3
#define OKVM_EXIT_AARCH32	4	/* any exception from AArch32 */

#endif /* OKVM_ARM64_SWITCH_H */
