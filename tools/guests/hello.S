/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hello: the first guest of okvm-run. Runs at EL1 with the MMU off, prints
 * a greeting, its exception level and MPIDR_EL1 through the PL011 at
 * 0x09000000, then asks the hypervisor's PSCI to power the machine off.
 */
#include "uart.h"

	.text
	.global	_start
_start:
	movw32	x19, UART_BASE
	adr	x0, msg_hello
	bl	puts
	adr	x0, msg_el
	bl	puts
	mrs	x0, CurrentEL
	ubfx	x0, x0, #2, #2
	add	w0, w0, #'0'
	bl	putc
	adr	x0, msg_mpidr
	bl	puts
	mrs	x0, mpidr_el1
	bl	puthex
	mov	w0, #'\n'
	bl	putc

	movw32	x0, PSCI_SYSTEM_OFF
	hvc	#0
	/* SYSTEM_OFF does not return; if it does, stay here */
1:	wfi
	b	1b

	console_routines

msg_hello:
	.asciz	"Hello from an okvm guest!\n"
msg_el:
	.asciz	"CurrentEL: EL"
msg_mpidr:
	.asciz	", MPIDR_EL1: "

	.section .note.GNU-stack, "", %progbits
