/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smp: two vCPUs and PSCI. vCPU 0 starts vCPU 1 (MPIDR 1) with CPU_ON,
 * passing a context ID; vCPU 1 prints it and its MPIDR, sets a flag in RAM
 * and turns itself off with CPU_OFF; vCPU 0 polls AFFINITY_INFO until
 * vCPU 1 is off, checks the flag and powers the machine off.
 * Run with okvm-run --vcpus 2 (or more).
 *
 * A failure prints "smp: FAIL ..." and then reads address 0, which is
 * not RAM nor a device: okvm-run stops with an error (exit status 1).
 */
#include "uart.h"

#define CONTEXT_ID	0x5eed0c1d
#define FLAG_MAGIC	0x600df1a6

	.text
	.global	_start
_start:
	movw32	x19, UART_BASE
	adr	x0, msg_cpu0
	bl	puts

	movw32	x0, PSCI_CPU_ON_64
	mov	x1, #1				/* target MPIDR */
	adr	x2, secondary			/* entry point */
	movw32	x3, CONTEXT_ID
	hvc	#0
	cbz	x0, 1f
	mov	x20, x0
	adr	x0, msg_fail_on
	bl	puts
	mov	x0, x20
	bl	puthex
	b	fail

1:	movw32	x0, PSCI_AFFINITY_INFO_64
	mov	x1, #1
	mov	x2, #0				/* level 0: this one CPU */
	hvc	#0
	cmp	x0, #PSCI_AFF_OFF
	b.ne	1b

	adr	x1, flag
	ldr	w0, [x1]
	movw32	w2, FLAG_MAGIC
	cmp	w0, w2
	b.eq	2f
	adr	x0, msg_fail_flag
	bl	puts
	b	fail

2:	adr	x0, msg_off
	bl	puts
	movw32	x0, PSCI_SYSTEM_OFF
	hvc	#0
3:	wfi
	b	3b

secondary:
	/* x0 is the context ID from CPU_ON */
	mov	x20, x0
	movw32	x19, UART_BASE
	adr	x0, msg_cpu1
	bl	puts
	mov	x0, x20
	bl	puthex
	adr	x0, msg_mpidr
	bl	puts
	mrs	x0, mpidr_el1
	bl	puthex
	mov	w0, #'\n'
	bl	putc
	movw32	x2, CONTEXT_ID
	cmp	x20, x2
	b.eq	4f
	adr	x0, msg_fail_ctx
	bl	puts
	b	fail

4:	adr	x1, flag
	movw32	w0, FLAG_MAGIC
	str	w0, [x1]
	dsb	sy
	movw32	x0, PSCI_CPU_OFF
	hvc	#0
	adr	x0, msg_fail_off		/* CPU_OFF returned */
	bl	puts

fail:
	mov	w0, #'\n'
	bl	putc
	mov	x1, #0
	ldr	w0, [x1]			/* unclaimed MMIO: okvm-run stops */
5:	wfi
	b	5b

	console_routines

msg_cpu0:
	.asciz	"smp: cpu0 up, starting cpu1 with PSCI CPU_ON\n"
msg_cpu1:
	.asciz	"smp: cpu1 up, context "
msg_mpidr:
	.asciz	", MPIDR_EL1: "
msg_off:
	.asciz	"smp: cpu1 is off (AFFINITY_INFO), flag seen; SYSTEM_OFF\n"
msg_fail_on:
	.asciz	"smp: FAIL: CPU_ON returned "
msg_fail_flag:
	.asciz	"smp: FAIL: cpu1 is off but its flag is not set"
msg_fail_ctx:
	.asciz	"smp: FAIL: wrong context ID"
msg_fail_off:
	.asciz	"smp: FAIL: CPU_OFF returned"

	.data
	.balign	8
flag:
	.word	0

	.section .note.GNU-stack, "", %progbits
