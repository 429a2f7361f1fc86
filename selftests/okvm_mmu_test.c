// SPDX-License-Identifier: GPL-2.0
/*
 * The fault path and the MMU notifier, through the test interface: guest
 * accesses are resolved exactly as a vCPU fault would resolve them, and the
 * second-stage entry is read back and compared with what the host maps.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "okvm_util.h"

#define PAGE		4096UL
#define HUGE		(2UL << 20)
/* Slots live above 4 GiB: no GPA may lose its high bits (seed 003). */
#define GPA_BASE	0x100000000ULL
#define NPAGES		64

static int resolve(int vm, __u64 gpa, __u32 access, __u32 *result)
{
	struct okvm_test_resolve r = { .gpa = gpa, .access = access };

	if (ioctl(vm, OKVM_TEST_RESOLVE, &r))
		return errno;
	*result = r.result;
	return 0;
}

static int read_entry(int vm, __u64 gpa, struct okvm_test_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->gpa = gpa;
	return ioctl(vm, OKVM_TEST_READ_ENTRY, e) ? errno : 0;
}

static int set_delay(int vm, __u32 point, __u32 usecs)
{
	struct okvm_test_delay d = { .point = point, .usecs = usecs };

	return ioctl(vm, OKVM_TEST_SET_DELAY, &d) ? errno : 0;
}

/* Host page frame of @addr, from /proc/self/pagemap; 0 if not present. */
static uint64_t host_pfn(const void *addr)
{
	uint64_t v = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &v, sizeof(v), ((uintptr_t)addr / PAGE) * sizeof(v)) !=
	    sizeof(v))
		v = 0;
	close(fd);
	return (v >> 63) ? (v & ((1ULL << 55) - 1)) : 0;
}

/* Resolve a write and expect a writable 4 KiB entry on @hva's page. */
#define EXPECT_MAPPED_TO(vm, gpa, hva, want_write) do {			\
	struct okvm_test_entry __e;					\
	ASSERT_EQ(0, read_entry(vm, gpa, &__e));			\
	ASSERT_EQ(1U, __e.present);					\
	EXPECT_EQ((__u32)!!(want_write), __e.writable);			\
	EXPECT_EQ(host_pfn(hva), __e.phys / PAGE)			\
		TH_LOG("gpa %#llx maps another page than hva %p",	\
		       (unsigned long long)(gpa), (void *)(hva));	\
} while (0)

static bool entry_present(int vm, __u64 gpa)
{
	struct okvm_test_entry e;

	return !read_entry(vm, gpa, &e) && e.present;
}

FIXTURE(mmu) {
	int dev;
	int vm;
	char *mem;
};

FIXTURE_SETUP(mmu)
{
	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	self->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, GPA_BASE, NPAGES * PAGE,
				     (uintptr_t)self->mem));
}

FIXTURE_TEARDOWN(mmu)
{
	close(self->vm);
	close(self->dev);
	munmap(self->mem, NPAGES * PAGE);
}

TEST_F(mmu, write_maps_the_page_userspace_sees)
{
	__u64 gpa = GPA_BASE + 3 * PAGE;
	char *hva = self->mem + 3 * PAGE;
	__u32 res = ~0U;

	memset(hva, 0x5a, PAGE);
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(OKVM_RESOLVE_MAPPED, res);
	EXPECT_MAPPED_TO(self->vm, gpa, hva, true);
}

TEST_F(mmu, read_maps_readonly_then_write_upgrades)
{
	__u64 gpa = GPA_BASE + 7 * PAGE;
	char *hva = self->mem + 7 * PAGE;
	struct okvm_test_entry e;
	__u32 res = ~0U;

	hva[0] = 1;
	ASSERT_EQ(0, resolve(self->vm, gpa, 0, &res));
	ASSERT_EQ(OKVM_RESOLVE_MAPPED, res);
	EXPECT_MAPPED_TO(self->vm, gpa, hva, false);
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, hva, true);
	/* A neighbour was never touched by the guest. */
	ASSERT_EQ(0, read_entry(self->vm, gpa + PAGE, &e));
	EXPECT_EQ(0U, e.present);
}

TEST_F(mmu, seed003_mmio_outside_slots_keeps_64bit_gpa)
{
	const __u64 gpas[] = {
		GPA_BASE - PAGE,			/* just below */
		GPA_BASE + NPAGES * PAGE,		/* just above */
		GPA_BASE & 0xffffffffULL,		/* the truncated GPA */
		(GPA_BASE + PAGE) | (1ULL << 36),	/* high bit added */
	};
	unsigned int i;
	__u32 res = ~0U;

	/* A slot at the truncated address must not answer for GPA_BASE. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 1, 0, 0, PAGE,
				     (uintptr_t)self->mem));
	for (i = 1; i < ARRAY_SIZE(gpas); i++) {
		if (i == 2)
			continue;
		ASSERT_EQ(0, resolve(self->vm, gpas[i], 0, &res));
		EXPECT_EQ(OKVM_RESOLVE_MMIO, res) TH_LOG("gpa %#llx",
			(unsigned long long)gpas[i]);
		EXPECT_FALSE(entry_present(self->vm, gpas[i]));
	}
	ASSERT_EQ(0, resolve(self->vm, gpas[0], 0, &res));
	EXPECT_EQ(OKVM_RESOLVE_MMIO, res);
	/* GPA_BASE resolves into slot 0, never into slot 1 at 0. */
	self->mem[0] = 3;
	ASSERT_EQ(0, resolve(self->vm, GPA_BASE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(OKVM_RESOLVE_MAPPED, res);
	EXPECT_FALSE(entry_present(self->vm, 0));
}

TEST_F(mmu, readonly_slot)
{
	__u64 gpa = 0x200000000ULL;
	__u32 res = ~0U;

	self->mem[0] = 9;
	ASSERT_EQ(0, okvm_set_region(self->vm, 2, KVM_MEM_READONLY, gpa, PAGE,
				     (uintptr_t)self->mem));
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_EQ(OKVM_RESOLVE_MMIO, res);
	EXPECT_FALSE(entry_present(self->vm, gpa));
	ASSERT_EQ(0, resolve(self->vm, gpa, 0, &res));
	ASSERT_EQ(OKVM_RESOLVE_MAPPED, res);
	EXPECT_MAPPED_TO(self->vm, gpa, self->mem, false);
	/* A write after the read still exits and leaves it read-only. */
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_EQ(OKVM_RESOLVE_MMIO, res);
	EXPECT_MAPPED_TO(self->vm, gpa, self->mem, false);
}

TEST_F(mmu, readonly_host_mapping)
{
	__u64 gpa = GPA_BASE + 5 * PAGE;
	__u32 res = ~0U;

	self->mem[5 * PAGE] = 1;
	ASSERT_EQ(0, mprotect(self->mem + 5 * PAGE, PAGE, PROT_READ));
	EXPECT_EQ(EFAULT, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_FALSE(entry_present(self->vm, gpa));
	ASSERT_EQ(0, resolve(self->vm, gpa, 0, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, self->mem + 5 * PAGE, false);
}

/* Map page @i writable, run @change on it, expect the entry gone. */
static void check_invalidation(struct __test_metadata *_metadata, int vm,
			       char *mem, int i, const char *what,
			       int (*change)(char *page))
{
	__u64 gpa = GPA_BASE + i * PAGE;
	struct okvm_test_entry e;
	__u32 res = ~0U;

	mem[i * PAGE] = 1;
	ASSERT_EQ(0, resolve(vm, gpa, OKVM_ACCESS_WRITE, &res));
	ASSERT_TRUE(entry_present(vm, gpa));
	ASSERT_EQ(0, change(mem + i * PAGE)) TH_LOG("%s", what);
	ASSERT_EQ(0, read_entry(vm, gpa, &e));
	EXPECT_TRUE(!e.present || !e.writable) TH_LOG("%s kept the entry", what);
	if (e.present)
		EXPECT_EQ(host_pfn(mem + i * PAGE), e.phys / PAGE);
}

static int do_munmap(char *p) { return munmap(p, PAGE); }
static int do_mprotect(char *p) { return mprotect(p, PAGE, PROT_READ); }
static int do_dontneed(char *p) { return madvise(p, PAGE, MADV_DONTNEED); }

TEST_F(mmu, notifier_munmap_mprotect_dontneed)
{
	__u32 res = ~0U;

	check_invalidation(_metadata, self->vm, self->mem, 10, "munmap", do_munmap);
	EXPECT_EQ(EFAULT, resolve(self->vm, GPA_BASE + 10 * PAGE, 0, &res));
	check_invalidation(_metadata, self->vm, self->mem, 11, "mprotect",
			   do_mprotect);
	check_invalidation(_metadata, self->vm, self->mem, 12, "MADV_DONTNEED",
			   do_dontneed);
	/* The next write fault maps the new page. */
	self->mem[12 * PAGE] = 2;
	ASSERT_EQ(0, resolve(self->vm, GPA_BASE + 12 * PAGE, OKVM_ACCESS_WRITE,
			     &res));
	EXPECT_MAPPED_TO(self->vm, GPA_BASE + 12 * PAGE, self->mem + 12 * PAGE,
			 true);
}

TEST_F(mmu, notifier_mremap)
{
	__u64 gpa = GPA_BASE + 20 * PAGE;
	char *dst;
	__u32 res = ~0U;

	self->mem[20 * PAGE] = 1;
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	ASSERT_TRUE(entry_present(self->vm, gpa));
	dst = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	ASSERT_EQ(dst, mremap(self->mem + 20 * PAGE, PAGE, PAGE,
			      MREMAP_MAYMOVE | MREMAP_FIXED, dst));
	EXPECT_FALSE(entry_present(self->vm, gpa));
	/* The slot's hva is now a hole. */
	EXPECT_EQ(EFAULT, resolve(self->vm, gpa, 0, &res));
	munmap(dst, PAGE);
}

TEST_F(mmu, notifier_fork_cow)
{
	__u64 gpa = GPA_BASE + 30 * PAGE;
	struct okvm_test_entry e;
	int status, pipefd[2];
	__u32 res = ~0U;
	pid_t pid;
	char c;

	self->mem[30 * PAGE] = 1;
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, self->mem + 30 * PAGE, true);
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Keep the COW sharing alive until the parent checked. */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	/* fork() write-protected the parent's page: so must okvm. */
	ASSERT_EQ(0, read_entry(self->vm, gpa, &e));
	EXPECT_TRUE(!e.present || !e.writable);
	/* A guest write now breaks COW like the host's: a private copy. */
	self->mem[30 * PAGE] = 2;
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, self->mem + 30 * PAGE, true);
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(pipefd[0]);
}

/* Is [p, p + len) backed by transparent huge pages? */
static bool thp_backed(void *p)
{
	char line[256];
	bool in = false, ret = false;
	unsigned long start, end, kb;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = (uintptr_t)p >= start && (uintptr_t)p < end;
		} else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1) {
			ret = kb >= HUGE / 1024;
			break;
		}
	}
	fclose(f);
	return ret;
}

TEST_F(mmu, block_mapping_thp_and_alignment)
{
	__u64 gpa = 0x300000000ULL;
	struct okvm_test_entry e;
	char *raw, *huge;
	__u32 res = ~0U;

	raw = mmap(NULL, 3 * HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	huge = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(huge, HUGE, MADV_HUGEPAGE);
	memset(huge, 7, HUGE);
	if (!thp_backed(huge)) {
		munmap(raw, 3 * HUGE);
		SKIP(return, "the host gave no transparent huge page");
	}
	/* Guest and host equally aligned: one 2 MiB entry. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 3, 0, gpa, HUGE, (uintptr_t)huge));
	ASSERT_EQ(0, resolve(self->vm, gpa + 5 * PAGE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, read_entry(self->vm, gpa + 5 * PAGE, &e));
	ASSERT_EQ(1U, e.present);
	EXPECT_EQ(HUGE, e.size);
	EXPECT_EQ(host_pfn(huge + 5 * PAGE), e.phys / PAGE);
	ASSERT_EQ(0, read_entry(self->vm, gpa + HUGE - PAGE, &e));
	EXPECT_EQ(1U, e.present);
	EXPECT_EQ(host_pfn(huge + HUGE - PAGE), e.phys / PAGE);

	/* Misaligned by one page: only 4 KiB entries are possible. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 4, 0, gpa + 4 * HUGE + PAGE,
				     HUGE, (uintptr_t)huge));
	ASSERT_EQ(0, resolve(self->vm, gpa + 4 * HUGE + 2 * PAGE,
			     OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, read_entry(self->vm, gpa + 4 * HUGE + 2 * PAGE, &e));
	ASSERT_EQ(1U, e.present);
	EXPECT_EQ(PAGE, e.size);
	EXPECT_EQ(host_pfn(huge + PAGE), e.phys / PAGE);

	/* Dirty logging maps pages only. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 3, KVM_MEM_LOG_DIRTY_PAGES, gpa,
				     HUGE, (uintptr_t)huge));
	ASSERT_EQ(0, read_entry(self->vm, gpa + 5 * PAGE, &e));
	EXPECT_TRUE(!e.present || !e.writable);
	ASSERT_EQ(0, resolve(self->vm, gpa + 6 * PAGE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, read_entry(self->vm, gpa + 6 * PAGE, &e));
	EXPECT_EQ(PAGE, e.size);
	munmap(raw, 3 * HUGE);
}

TEST_F(mmu, block_mapping_hugetlb)
{
	__u64 gpa = 0x600000000ULL;
	struct okvm_test_entry e;
	__u32 res = ~0U;
	char *huge;
	int fd;

	fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "4", 1) != 1)
			perror("nr_hugepages");
		close(fd);
	}
	huge = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED)
		SKIP(return, "no 2 MiB hugetlb page: %s", strerror(errno));
	memset(huge, 9, HUGE);
	ASSERT_EQ(0, okvm_set_region(self->vm, 7, 0, gpa, HUGE, (uintptr_t)huge));
	ASSERT_EQ(0, resolve(self->vm, gpa + 100 * PAGE, 0, &res));
	ASSERT_EQ(OKVM_RESOLVE_MAPPED, res);
	ASSERT_EQ(0, read_entry(self->vm, gpa + 100 * PAGE, &e));
	ASSERT_EQ(1U, e.present);
	EXPECT_EQ(HUGE, e.size);
	EXPECT_EQ(0U, e.writable);
	EXPECT_EQ(host_pfn(huge + 100 * PAGE), e.phys / PAGE);
	/* Unmapping the host page drops the whole block. */
	ASSERT_EQ(0, munmap(huge, HUGE));
	EXPECT_FALSE(entry_present(self->vm, gpa));
	EXPECT_FALSE(entry_present(self->vm, gpa + 100 * PAGE));
}

/*
 * Move @p's page to NUMA node @node, or with @node < 0 only ask where it
 * is. Returns the page's node, or a negative errno.
 */
static int move_page(void *p, int node)
{
	int status = -1;

	if (syscall(SYS_move_pages, 0, 1UL, &p, node < 0 ? NULL : &node,
		    &status, 2 /* MPOL_MF_MOVE */))
		return -errno;
	return status;
}

TEST_F(mmu, notifier_page_migration)
{
	__u64 gpa = GPA_BASE + 50 * PAGE;
	char *hva = self->mem + 50 * PAGE;
	int node, moved;
	uint64_t before;
	__u32 res = ~0U;

	hva[0] = 1;
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, hva, true);
	before = host_pfn(hva);
	node = move_page(hva, -1);
	if (node < 0)
		SKIP(return, "move_pages: %s", strerror(-node));
	moved = move_page(hva, !node);
	if (moved != !node)
		SKIP(return, "page not moved to node %d: %d", !node, moved);
	ASSERT_NE(before, host_pfn(hva));
	/* The old page is gone: so is the entry that pointed at it. */
	EXPECT_FALSE(entry_present(self->vm, gpa));
	ASSERT_EQ(0, resolve(self->vm, gpa, OKVM_ACCESS_WRITE, &res));
	EXPECT_MAPPED_TO(self->vm, gpa, hva, true);
	EXPECT_EQ(1, hva[0]);
}

static int get_log(int vm, __u32 slot, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bits };

	return ioctl(vm, KVM_GET_DIRTY_LOG, &log) ? errno : 0;
}

TEST_F(mmu, dirty_log_once_per_page_per_pass)
{
	__u64 gpa = 0x400000000ULL;
	const int pages[] = { 1, 5, 63 };
	uint64_t bits;
	unsigned int i;
	__u32 res = ~0U;

	memset(self->mem, 1, NPAGES * PAGE);
	ASSERT_EQ(0, okvm_set_region(self->vm, 5, KVM_MEM_LOG_DIRTY_PAGES, gpa,
				     NPAGES * PAGE, (uintptr_t)self->mem));
	EXPECT_EQ(ENOENT, get_log(self->vm, 0, &bits));
	EXPECT_EQ(EINVAL, get_log(self->vm, 40000, &bits));
	ASSERT_EQ(0, get_log(self->vm, 5, &bits));
	EXPECT_EQ(0ULL, bits);
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		/* Twice: still one bit. */
		ASSERT_EQ(0, resolve(self->vm, gpa + pages[i] * PAGE,
				     OKVM_ACCESS_WRITE, &res));
		ASSERT_EQ(0, resolve(self->vm, gpa + pages[i] * PAGE,
				     OKVM_ACCESS_WRITE, &res));
	}
	/* Reads are not logged. */
	ASSERT_EQ(0, resolve(self->vm, gpa + 9 * PAGE, 0, &res));
	ASSERT_EQ(0, get_log(self->vm, 5, &bits));
	EXPECT_EQ((1ULL << 1) | (1ULL << 5) | (1ULL << 63), bits);
	/* The pass write-protected what it reported. */
	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		struct okvm_test_entry e;

		ASSERT_EQ(0, read_entry(self->vm, gpa + pages[i] * PAGE, &e));
		EXPECT_TRUE(!e.present || !e.writable);
	}
	ASSERT_EQ(0, get_log(self->vm, 5, &bits));
	EXPECT_EQ(0ULL, bits);
	ASSERT_EQ(0, resolve(self->vm, gpa + 5 * PAGE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, get_log(self->vm, 5, &bits));
	EXPECT_EQ(1ULL << 5, bits);
}

TEST_F(mmu, dirty_log_manual_protect_clear_reprotects)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
	};
	struct kvm_clear_dirty_log clr = { .slot = 6, .num_pages = 64 };
	__u64 gpa = 0x500000000ULL;
	struct okvm_test_entry e;
	uint64_t bits, mask;
	__u32 res = ~0U;

	EXPECT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION,
			   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));
	ASSERT_EQ(0, ioctl(self->vm, KVM_ENABLE_CAP, &cap));
	memset(self->mem, 1, NPAGES * PAGE);
	ASSERT_EQ(0, okvm_set_region(self->vm, 6, KVM_MEM_LOG_DIRTY_PAGES, gpa,
				     NPAGES * PAGE, (uintptr_t)self->mem));
	ASSERT_EQ(0, resolve(self->vm, gpa + 2 * PAGE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, resolve(self->vm, gpa + 3 * PAGE, OKVM_ACCESS_WRITE, &res));
	ASSERT_EQ(0, get_log(self->vm, 6, &bits));
	EXPECT_EQ(0xcULL, bits);
	/* GET alone neither clears nor protects. */
	ASSERT_EQ(0, get_log(self->vm, 6, &bits));
	EXPECT_EQ(0xcULL, bits);
	ASSERT_EQ(0, read_entry(self->vm, gpa + 2 * PAGE, &e));
	EXPECT_EQ(1U, e.writable);
	/* Clear page 2 only. */
	mask = 0x4;
	clr.dirty_bitmap = &mask;
	ASSERT_EQ(0, ioctl(self->vm, KVM_CLEAR_DIRTY_LOG, &clr));
	ASSERT_EQ(0, get_log(self->vm, 6, &bits));
	EXPECT_EQ(0x8ULL, bits);
	ASSERT_EQ(0, read_entry(self->vm, gpa + 2 * PAGE, &e));
	EXPECT_TRUE(!e.present || !e.writable);
	ASSERT_EQ(0, read_entry(self->vm, gpa + 3 * PAGE, &e));
	EXPECT_EQ(1U, e.writable);
	/* Misaligned first page. */
	clr.first_page = 1;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_CLEAR_DIRTY_LOG, &clr));
	EXPECT_EQ(EINVAL, errno);
}

struct fault_arg {
	int vm;
	__u64 gpa;
	__u32 access;
	int ret;
	volatile int *stop;
};

static void *fault_once(void *p)
{
	struct fault_arg *a = p;
	__u32 res = ~0U;

	a->ret = resolve(a->vm, a->gpa, a->access, &res);
	return NULL;
}

/*
 * The page is replaced (MADV_DONTNEED, then touched again) after the
 * fault looked it up and before it installs: the fault must retry and map
 * the new page, never the stale one it looked up.
 */
TEST_F(mmu, fault_racing_invalidation_retries)
{
	__u64 gpa = GPA_BASE + 40 * PAGE;
	char *hva = self->mem + 40 * PAGE;
	struct fault_arg a = { .vm = self->vm, .gpa = gpa,
			       .access = OKVM_ACCESS_WRITE };
	struct okvm_test_entry e;
	pthread_t t;
	int round;

	for (round = 0; round < 3; round++) {
		hva[0] = 1;
		ASSERT_EQ(0, set_delay(self->vm, OKVM_DELAY_FAULT_INSTALL,
				       200000));
		ASSERT_EQ(0, pthread_create(&t, NULL, fault_once, &a));
		usleep(50000);
		ASSERT_EQ(0, madvise(hva, PAGE, MADV_DONTNEED));
		hva[0] = 2;
		/* The retried fault must not stall again. */
		ASSERT_EQ(0, set_delay(self->vm, OKVM_DELAY_FAULT_INSTALL, 0));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, a.ret);
		ASSERT_EQ(0, read_entry(self->vm, gpa, &e));
		ASSERT_EQ(1U, e.present);
		EXPECT_EQ(host_pfn(hva), e.phys / PAGE)
			TH_LOG("round %d: a stale page was installed", round);
	}
}

static void *fault_loop(void *p)
{
	struct fault_arg *a = p;
	__u32 res = ~0U;
	int i = 0;

	while (!*a->stop) {
		resolve(a->vm, a->gpa + (i % 8) * PAGE,
			(i & 1) ? OKVM_ACCESS_WRITE : 0, &res);
		i++;
	}
	return NULL;
}

static void ksm_on(void)
{
	static const char * const knobs[][2] = {
		{ "/sys/kernel/mm/ksm/pages_to_scan", "10000" },
		{ "/sys/kernel/mm/ksm/sleep_millisecs", "0" },
		{ "/sys/kernel/mm/ksm/run", "1" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		int fd = open(knobs[i][0], O_WRONLY);

		if (fd >= 0) {
			if (write(fd, knobs[i][1], strlen(knobs[i][1])) < 0)
				perror(knobs[i][0]);
			close(fd);
		}
	}
}

/*
 * Seed 000: threads fault in a slot (whose pages KSM keeps merging) while
 * it is deleted, with the INVALID phase stretched. After DELETE returns no
 * entry of the range may exist, and faults there exit as MMIO.
 */
TEST_F(mmu, seed000_delete_while_faulting)
{
	struct fault_arg a[2];
	volatile int stop;
	pthread_t t[2];
	int round, i, p;
	__u32 res = ~0U;

	ksm_on();
	memset(self->mem, 0x33, NPAGES * PAGE);
	madvise(self->mem, NPAGES * PAGE, MADV_MERGEABLE);
	for (round = 0; round < 3; round++) {
		stop = 0;
		ASSERT_EQ(0, set_delay(self->vm, OKVM_DELAY_MEMSLOT_INVALID,
				       100000));
		for (i = 0; i < 2; i++) {
			a[i] = (struct fault_arg){ .vm = self->vm,
				.gpa = GPA_BASE + i * 8 * PAGE, .stop = &stop };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, fault_loop,
						    &a[i]));
		}
		usleep(20000);
		ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, GPA_BASE, 0, 0));
		/* Deleted: nothing of it may be mapped from now on. */
		for (p = 0; p < NPAGES; p++)
			EXPECT_FALSE(entry_present(self->vm, GPA_BASE + p * PAGE))
				TH_LOG("round %d: page %d still mapped", round, p);
		stop = 1;
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		for (p = 0; p < NPAGES; p++)
			EXPECT_FALSE(entry_present(self->vm, GPA_BASE + p * PAGE));
		ASSERT_EQ(0, resolve(self->vm, GPA_BASE, 0, &res));
		EXPECT_EQ(OKVM_RESOLVE_MMIO, res);
		ASSERT_EQ(0, set_delay(self->vm, OKVM_DELAY_MEMSLOT_INVALID, 0));
		ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, GPA_BASE,
					     NPAGES * PAGE,
					     (uintptr_t)self->mem));
	}
}

TEST(test_interface_needs_testing)
{
	struct okvm_test_resolve r = { .gpa = 0 };
	int dev, vm;

	/* okvm is loaded with testing=1 here: a bad access mask is EINVAL. */
	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	r.access = 0x80;
	EXPECT_EQ(-1, ioctl(vm, OKVM_TEST_RESOLVE, &r));
	EXPECT_EQ(EINVAL, errno);
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
