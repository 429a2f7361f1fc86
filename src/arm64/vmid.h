/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMIDs with generations and rollover (vmid.c).
 */
#ifndef OKVM_ARM64_VMID_H
#define OKVM_ARM64_VMID_H

#include <linux/types.h>

struct okvm;

unsigned int okvm_vmid_hw_bits(void);
u16 okvm_vmid_get(struct okvm *vm);
u16 okvm_vmid_last(struct okvm *vm);
void okvm_vmid_stats(struct okvm *vm, u64 *vmid, u64 *rollovers,
		     unsigned int *bits);

#endif /* OKVM_ARM64_VMID_H */
