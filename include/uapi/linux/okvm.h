/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * okvm userspace ABI additions.
 *
 * okvm implements the KVM ioctl ABI: every ioctl number, structure and
 * capability number comes from <linux/kvm.h>. This header only holds what
 * okvm adds on top of that; for now that is nothing but the API version,
 * which is the same as KVM's so that existing KVM users accept okvm.
 */
#ifndef _UAPI_LINUX_OKVM_H
#define _UAPI_LINUX_OKVM_H

#define OKVM_API_VERSION	12

#endif /* _UAPI_LINUX_OKVM_H */
