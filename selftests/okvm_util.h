/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the okvm selftests.
 */
#ifndef OKVM_UTIL_H
#define OKVM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

/* KVM_SET_USER_MEMORY_REGION; returns 0 or an errno. */
static inline int okvm_set_region(int vm_fd, __u32 slot, __u32 flags,
				  __u64 gpa, __u64 size, __u64 hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? errno : 0;
}

/* KVM_SET_USER_MEMORY_REGION2, guest_memfd fields zero; 0 or an errno. */
static inline int okvm_set_region2(int vm_fd, __u32 slot, __u32 flags,
				   __u64 gpa, __u64 size, __u64 hva)
{
	struct kvm_userspace_memory_region2 r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r) ? errno : 0;
}

/*
 * OKVM_TEST_MEMSLOT_LOOKUP in address space 0; @how is OKVM_LOOKUP_GPA or
 * OKVM_LOOKUP_HVA. Returns 0 with *out filled, or an errno.
 */
static inline int okvm_lookup(int vm_fd, __u32 how, __u64 addr,
			      struct okvm_test_memslot *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->lookup = how;
	return ioctl(vm_fd, OKVM_TEST_MEMSLOT_LOOKUP, out) ? errno : 0;
}

/* OKVM_TEST_FAIL_STEP; nth = 0 disarms. Returns 0 or an errno. */
static inline int okvm_fail_step(int vm_fd, __u32 step, __u32 nth)
{
	struct okvm_test_fail f = { .step = step, .nth = nth };

	return ioctl(vm_fd, OKVM_TEST_FAIL_STEP, &f) ? errno : 0;
}

/* Write the string @s to the file @path; returns 0 or an errno. */
static inline int okvm_write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, s, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

/*
 * Read the start of @path into @buf as a string, without the trailing
 * newline; returns 0 or an errno.
 */
static inline int okvm_read_str(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/*
 * Systematic fault injection with the kernel's per-task fail-nth counter
 * (CONFIG_FAULT_INJECTION; which allocators take part is set up elsewhere,
 * e.g. in /sys/kernel/debug/failslab). Arming with n makes the n-th
 * eligible fault site the calling thread passes fail; it applies to the
 * calling thread only.
 */
#define OKVM_FAIL_NTH	"/proc/thread-self/fail-nth"

/* The calling thread's fail-nth file, or -1 with errno set. */
static inline int okvm_fail_nth_open(void)
{
	return open(OKVM_FAIL_NTH, O_RDWR | O_CLOEXEC);
}

/* Arm (n > 0) or disarm (n = 0); returns 0 or an errno. */
static inline int okvm_fail_nth_set(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : errno;
}

/*
 * After the armed operation: 1 if a failure was injected, 0 if not (the
 * counter is disarmed then), or a negative errno.
 */
static inline int okvm_fail_nth_fired(int fd)
{
	char buf[16] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int err;

	if (n <= 0)
		return n ? -errno : -EIO;
	if (strtoul(buf, NULL, 10) == 0)
		return 1;
	err = okvm_fail_nth_set(fd, 0);
	return err ? -err : 0;
}

/*
 * A fixture for tests that reload okvm: its teardown runs in the parent,
 * after the test process and its files are gone, and leaves okvm loaded
 * with testing=1 whatever the test did.
 */
#define OKVM_RELOAD_FIXTURE()						\
FIXTURE(reload) {							\
	int unused;							\
};									\
FIXTURE_SETUP(reload)							\
{									\
}									\
FIXTURE_TEARDOWN_PARENT(reload)						\
{									\
	int err = okvm_unload();					\
									\
	if (err && err != ENOENT)					\
		TH_LOG("teardown: unload: %s", strerror(err));		\
	err = okvm_load("testing=1");					\
	if (err)							\
		TH_LOG("teardown: load testing=1: %s", strerror(err));	\
}

#ifdef __aarch64__
/* KVM_{GET,SET}_ONE_REG id of a 64-bit field of struct kvm_regs. */
#define OKVM_CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | \
			      KVM_REG_ARM_CORE | \
			      (offsetof(struct kvm_regs, field) / sizeof(__u32)))

/* KVM_SET_ONE_REG of a 64-bit register; returns 0 or an errno. */
static inline int okvm_set_reg(int vcpu_fd, __u64 id, __u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (unsigned long)&val };

	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &reg) ? errno : 0;
}

/*
 * Create vCPU @id of @vm, map its kvm_run and initialise it with the
 * preferred target and PSCI 0.2; the guest starts at @pc. Returns the
 * vCPU fd (and *@run), or -1 with errno set.
 */
static inline int okvm_arm64_vcpu(int dev, int vm, int id, __u64 pc,
				  struct kvm_run **run)
{
	struct kvm_vcpu_init init;
	long size = ioctl(dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	int fd, err;

	if (size <= 0 || ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init))
		return -1;
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	fd = ioctl(vm, KVM_CREATE_VCPU, id);
	if (fd < 0)
		return -1;
	*run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED || ioctl(fd, KVM_ARM_VCPU_INIT, &init))
		goto fail;
	err = okvm_set_reg(fd, OKVM_CORE_REG(regs.pc), pc);
	if (!err)
		return fd;
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}
#endif

#endif /* OKVM_UTIL_H */
