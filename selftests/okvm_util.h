/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the okvm selftests.
 */
#ifndef OKVM_UTIL_H
#define OKVM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/okvm.h>

/*
 * The harness macros leave parameters unused and keep a local across
 * setjmp() in TEST_F, which -Wextra reports in every test; those are the
 * harness' business, not the tests'.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#define OKVM_DEV	"/dev/okvm"
#define KVM_DEV		"/dev/kvm"
#define KVM_MISC_MAJOR	10
#define KVM_MISC_MINOR	232

/* Errno KVM gives for an unknown ioctl on a VM file descriptor. */
#ifdef __aarch64__
#define KVM_UNKNOWN_VM_IOCTL_ERRNO	EINVAL
#else
#define KVM_UNKNOWN_VM_IOCTL_ERRNO	ENOTTY
#endif

/* An ioctl number in KVM's range that no KVM version defines. */
#define OKVM_UNUSED_KVM_IOCTL	_IO(KVMIO, 0xfe)

static inline int okvm_open(const char *path)
{
	return open(path, O_RDWR | O_CLOEXEC);
}

/* Returns the VM fd, or -1 with errno set. */
static inline int okvm_create_vm(int dev_fd, unsigned long type)
{
	return ioctl(dev_fd, KVM_CREATE_VM, type);
}

/* 0, or the errno of stat() on @path. */
static inline int okvm_stat_errno(const char *path, struct stat *st)
{
	return stat(path, st) ? errno : 0;
}

static inline const char *okvm_ko_path(void)
{
	const char *ko = getenv("OKVM_KO");

	return ko && *ko ? ko : "/lib/okvm/okvm.ko";
}

/* Load okvm.ko with @params; returns 0 or an errno. */
static inline int okvm_load(const char *params)
{
	int fd, ret;

	fd = open(okvm_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? errno : 0;
	close(fd);
	return ret;
}

/* Unload okvm without waiting for users; returns 0 or an errno. */
static inline int okvm_unload(void)
{
	return syscall(SYS_delete_module, "okvm", O_NONBLOCK) ? errno : 0;
}

#endif /* OKVM_UTIL_H */
