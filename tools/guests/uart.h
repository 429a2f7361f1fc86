/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What okvm-run's guests share: the machine's addresses, PSCI function IDs
 * and console routines. Included by the .S files; assembler only.
 *
 * Register use of the routines (no stack: the MMU is off and none is set):
 *   x19       UART base, set by the caller once
 *   putc      w0 = byte; clobbers w10
 *   puts      x0 = NUL-terminated string; clobbers x0, x1, x9, w10
 *   puthex    x0 = value, printed as 0x + 16 hex digits;
 *             clobbers x0, x11, x12, x13, w10
 */
#define UART_BASE		0x09000000
#define UARTDR			0x00
#define UARTFR			0x18
#define UARTFR_TXFF_BIT		5

#define PSCI_CPU_OFF		0x84000002
#define PSCI_SYSTEM_OFF		0x84000008
#define PSCI_CPU_ON_64		0xc4000003
#define PSCI_AFFINITY_INFO_64	0xc4000004
#define PSCI_AFF_OFF		1

/* Loads of 32-bit constants without a literal pool. */
.macro	movw32 reg, val
	movz	\reg, #((\val) & 0xffff)
	movk	\reg, #(((\val) >> 16) & 0xffff), lsl #16
.endm

.macro	console_routines
	/* wait while the transmit FIFO is full, then write the byte */
putc:
1:	ldr	w10, [x19, #UARTFR]
	tbnz	w10, #UARTFR_TXFF_BIT, 1b
	str	w0, [x19, #UARTDR]
	ret

puts:
	mov	x9, x30
	mov	x1, x0
2:	ldrb	w0, [x1], #1
	cbz	w0, 3f
	bl	putc
	b	2b
3:	ret	x9

puthex:
	mov	x13, x30
	mov	x11, x0
	mov	w0, #'0'
	bl	putc
	mov	w0, #'x'
	bl	putc
	mov	x12, #16
4:	ror	x11, x11, #60		/* next nibble into bits 3:0 */
	and	w0, w11, #0xf
	cmp	w0, #10
	add	w10, w0, #'0'
	add	w0, w0, #('a' - 10)
	csel	w0, w10, w0, lo
	bl	putc
	subs	x12, x12, #1
	b.ne	4b
	ret	x13
.endm
