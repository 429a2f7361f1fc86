// SPDX-License-Identifier: GPL-2.0
/*
 * okvm-info: show that okvm answers on its device nodes using only the
 * KVM-compatible ABI. Prints the API version, the capabilities okvm
 * reports, and creates and closes a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/kvm.h>

static const struct {
	const char *name;
	long cap;
} caps[] = {
	{ "KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY },
	{ "KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS },
	{ "KVM_CAP_SYNC_MMU", KVM_CAP_SYNC_MMU },
	{ "KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS },
#ifdef KVM_CAP_ARM_VM_IPA_SIZE
	{ "KVM_CAP_ARM_VM_IPA_SIZE", KVM_CAP_ARM_VM_IPA_SIZE },
#endif
};

static int show(const char *path)
{
	struct stat st;
	int fd, vm, ver;
	unsigned int i;

	if (stat(path, &st)) {
		printf("%s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: open: %s\n", path, strerror(errno));
		return -1;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	printf("%s: char %u:%u, KVM_GET_API_VERSION = %d, vcpu mmap size = %d\n",
	       path, major(st.st_rdev), minor(st.st_rdev), ver,
	       ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("  %-26s %d\n", caps[i].name,
		       ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap));
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		printf("  KVM_CREATE_VM: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	printf("  KVM_CREATE_VM -> fd %d, closed\n", vm);
	close(vm);
	close(fd);
	return ver == KVM_API_VERSION ? 0 : -1;
}

int main(void)
{
	int ret = show("/dev/okvm");

	show("/dev/kvm");
	return ret ? 1 : 0;
}
