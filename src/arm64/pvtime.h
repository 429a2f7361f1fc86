/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Paravirtualised stolen time for arm64 guests (pvtime.c).
 */
#ifndef OKVM_ARM64_PVTIME_H
#define OKVM_ARM64_PVTIME_H

#include <linux/types.h>

#include "pfncache.h"

struct kvm_device_attr;
struct okvm_vcpu;

/* SMCCC function ids of DEN0057A (standard hypervisor service calls). */
#define OKVM_SMCCC_PV_TIME_FEATURES	0xc5000020
#define OKVM_SMCCC_PV_TIME_ST		0xc5000021

/* base of a vCPU without a stolen-time structure (KVM's INVALID_GPA). */
#define OKVM_PVTIME_NO_BASE		(~0ULL)

/* Per vCPU; used only by the vCPU's own ioctls, under vcpu->mutex. */
struct okvm_arm64_pvtime {
	/* Maps the structure at base; okvm's writes go through it. */
	struct okvm_pfncache gpc;
	u64 base;
	/* Stolen time published so far, and run_delay when it was. */
	u64 stolen;
	u64 last_run_delay;
};

void okvm_arm64_pvtime_init(struct okvm_vcpu *vcpu);
void okvm_arm64_pvtime_destroy(struct okvm_vcpu *vcpu);
void okvm_arm64_pvtime_update(struct okvm_vcpu *vcpu);
long okvm_arm64_pvtime_st(struct okvm_vcpu *vcpu);
long okvm_arm64_pvtime_features(struct okvm_vcpu *vcpu, u32 fn);
int okvm_arm64_vcpu_attr(struct okvm_vcpu *vcpu, unsigned int ioctl,
			 const struct kvm_device_attr *attr);

#endif /* OKVM_ARM64_PVTIME_H */
