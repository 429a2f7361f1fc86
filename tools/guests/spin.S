/* SPDX-License-Identifier: GPL-2.0 */
/*
 * spin: prints one line, then loops forever without exits. For testing
 * okvm-run --max-seconds (the VMM must kick the vCPU out of KVM_RUN).
 */
#include "uart.h"

	.text
	.global	_start
_start:
	movw32	x19, UART_BASE
	adr	x0, msg
	bl	puts
1:	b	1b

	console_routines

msg:
	.asciz	"spin: looping forever\n"

	.section .note.GNU-stack, "", %progbits
