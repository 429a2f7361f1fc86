// SPDX-License-Identifier: GPL-2.0
/*
 * The gfn-to-pfn cache, through OKVM_TEST_PFNCACHE: activation and its
 * argument checks, invalidation by memslot changes and by the MMU notifier,
 * the hrtimer writer that stores through a cache from hard interrupt
 * context, and the races of refresh, deactivate and host memory churn that
 * seed 001 is about.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "okvm_util.h"

#define PAGE		4096UL
/* The functional tests' slots: from 1 GiB up, 16 MiB apart. */
#define GPA_BASE	0x40000000ULL
#define GPA_STEP	0x1000000ULL
/* The stress targets live above 4 GiB; MOVE churn parks them higher up. */
#define GPA_STRESS	0x100000000ULL
#define GPA_SPARE	0x180000000ULL
/* An 8-byte aligned offset that is neither a page's start nor its end. */
#define OFF		0x238
#define WORD		8U

#define F_W		OKVM_PFNCACHE_F_WRITE
#define F_HVA		OKVM_PFNCACHE_F_HVA

/* Stress targets, and the writer's period there and in the seed test. */
#define NT		4
#define STRESS_PERIOD_NS	30000ULL
#define SEED001_PERIOD_NS	20000ULL
#define SEED001_DELAY_US	300U
#define CANARY		0xa5

/* ---- the ioctl, one helper per operation; each returns 0 or an errno */

static int pfc_call(int vm, struct okvm_test_pfncache *c)
{
	return ioctl(vm, OKVM_TEST_PFNCACHE, c) ? errno : 0;
}

static int pfc_raw(int vm, __u32 op, __u32 id, __u64 addr, __u32 len,
		   __u32 flags)
{
	struct okvm_test_pfncache c = {
		.op = op, .id = id, .addr = addr, .len = len, .flags = flags,
	};

	return pfc_call(vm, &c);
}

static int pfc_activate(int vm, __u32 id, __u64 addr, __u32 len,
			__u32 flags)
{
	return pfc_raw(vm, OKVM_PFNCACHE_OP_ACTIVATE, id, addr, len, flags);
}

static int pfc_deactivate(int vm, __u32 id)
{
	return pfc_raw(vm, OKVM_PFNCACHE_OP_DEACTIVATE, id, 0, 0, 0);
}

static int pfc_refresh(int vm, __u32 id)
{
	return pfc_raw(vm, OKVM_PFNCACHE_OP_REFRESH, id, 0, WORD, 0);
}

static int pfc_check(int vm, __u32 id)
{
	return pfc_raw(vm, OKVM_PFNCACHE_OP_CHECK, id, 0, WORD, 0);
}

static int pfc_stop(int vm, __u32 id)
{
	return pfc_raw(vm, OKVM_PFNCACHE_OP_STOP, id, 0, 0, 0);
}

static int pfc_write(int vm, __u32 id, __u64 value)
{
	struct okvm_test_pfncache c = {
		.op = OKVM_PFNCACHE_OP_WRITE, .id = id, .value = value,
	};

	return pfc_call(vm, &c);
}

static int pfc_read(int vm, __u32 id, __u64 *value)
{
	struct okvm_test_pfncache c = { .op = OKVM_PFNCACHE_OP_READ, .id = id };
	int err = pfc_call(vm, &c);

	*value = c.value;
	return err;
}

static int pfc_start(int vm, __u32 id, __u64 period_ns)
{
	struct okvm_test_pfncache c = {
		.op = OKVM_PFNCACHE_OP_START, .id = id, .period_ns = period_ns,
	};

	return pfc_call(vm, &c);
}

static int pfc_stats(int vm, __u32 id, struct okvm_test_pfncache *st)
{
	memset(st, 0, sizeof(*st));
	st->op = OKVM_PFNCACHE_OP_STATS;
	st->id = id;
	return pfc_call(vm, st);
}

static int set_delay(int vm, __u32 point, __u32 usecs)
{
	struct okvm_test_delay d = { .point = point, .usecs = usecs };

	return ioctl(vm, OKVM_TEST_SET_DELAY, &d) ? errno : 0;
}

/* ---- memory and time */

/* The kernel stores the word while we look: read and write it whole. */
static __u64 peek(const void *p)
{
	return __atomic_load_n((const __u64 *)p, __ATOMIC_RELAXED);
}

static void poke(void *p, __u64 v)
{
	__atomic_store_n((__u64 *)p, v, __ATOMIC_RELAXED);
}

static char *map_pages(size_t n)
{
	return mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Is every byte of [p, p + len) equal to @c? */
static bool all_bytes(const char *p, size_t len, char c)
{
	while (len--)
		if (*p++ != c)
			return false;
	return true;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000,
	};

	nanosleep(&ts, NULL);
}

/* How long each stress test runs: OKVM_PFNCACHE_STRESS_MS, 3 s by default. */
static unsigned long stress_ms(void)
{
	const char *env = getenv("OKVM_PFNCACHE_STRESS_MS");
	unsigned long ms = env ? strtoul(env, NULL, 0) : 0;

	return ms ? ms : 3000;
}

/* ---- KSM: turned up for the stress tests, put back in the teardown */

static const char * const ksm_knobs[][2] = {
	{ "/sys/kernel/mm/ksm/pages_to_scan", "200" },
	{ "/sys/kernel/mm/ksm/sleep_millisecs", "1" },
	{ "/sys/kernel/mm/ksm/run", "1" },
};

static char ksm_saved[ARRAY_SIZE(ksm_knobs)][32];

static long sysfs_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 0) : -1;
}

static void sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		perror(path);
	close(fd);
}

static void ksm_start(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ksm_knobs); i++) {
		long old = sysfs_long(ksm_knobs[i][0]);

		if (old < 0)
			continue;
		snprintf(ksm_saved[i], sizeof(ksm_saved[i]), "%ld", old);
		sysfs_write(ksm_knobs[i][0], ksm_knobs[i][1]);
	}
}

static void ksm_restore(void)
{
	unsigned int i = ARRAY_SIZE(ksm_knobs);

	while (i--) {
		if (ksm_saved[i][0])
			sysfs_write(ksm_knobs[i][0], ksm_saved[i]);
		ksm_saved[i][0] = 0;
	}
}

/* ---- failures seen by helper threads, reported by the test's own */

struct failbox {
	pthread_mutex_t lock;
	int count;
	__u64 first_ns;		/* when the first one was seen */
	char why[256];		/* what the first one was */
};

static __printf(2, 3) void failbox_add(struct failbox *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->lock);
	if (!f->count++) {
		f->first_ns = now_ns();
		va_start(ap, fmt);
		vsnprintf(f->why, sizeof(f->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&f->lock);
}

static int failbox_count(struct failbox *f)
{
	return __atomic_load_n(&f->count, __ATOMIC_RELAXED);
}

FIXTURE(pfncache) {
	int dev;
	int vm;
};

FIXTURE_SETUP(pfncache)
{
	long psz = sysconf(_SC_PAGESIZE);

	self->dev = -1;
	self->vm = -1;
	if (access(OKVM_DEV, F_OK))
		SKIP(return, "%s: %s", OKVM_DEV, strerror(errno));
	if (psz != (long)PAGE)
		SKIP(return, "4 KiB pages assumed, this host has %ld", psz);
	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
}

FIXTURE_TEARDOWN(pfncache)
{
	ksm_restore();
	if (self->vm >= 0) {
		set_delay(self->vm, OKVM_DELAY_PFNCACHE_REFRESH, 0);
		close(self->vm);
	}
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * A GPA cache stores into the page userspace sees at that GPA and loads
 * what userspace stored there, at an offset inside a page and at its end.
 */
TEST_F(pfncache, activate_gpa_write_read)
{
	static const unsigned long offs[] = {
		3 * PAGE + OFF, 9 * PAGE + PAGE - WORD,
	};
	char *mem = map_pages(16);
	unsigned int i;
	__u64 v;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, GPA_BASE, 16 * PAGE,
				     (uintptr_t)mem));
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		char *hva = mem + offs[i];

		ASSERT_EQ(0, pfc_activate(self->vm, i, GPA_BASE + offs[i],
					  WORD, F_W));
		EXPECT_EQ(0, pfc_check(self->vm, i));
		ASSERT_EQ(0, pfc_write(self->vm, i, 0x1122334455667700ULL + i));
		EXPECT_EQ(0x1122334455667700ULL + i, peek(hva));
		poke(hva, 0xfeed0000ULL + i);
		ASSERT_EQ(0, pfc_read(self->vm, i, &v));
		EXPECT_EQ(0xfeed0000ULL + i, v);
	}
	/* Both caches stay valid side by side, and nothing else was hit. */
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		EXPECT_EQ(0, pfc_check(self->vm, i));
		EXPECT_EQ(0xfeed0000ULL + i, peek(mem + offs[i]));
		poke(mem + offs[i], 0);
	}
	EXPECT_TRUE(all_bytes(mem, 16 * PAGE, 0));
	munmap(mem, 16 * PAGE);
}

/*
 * An HVA cache needs no memslot, memslot changes leave it valid, and
 * activating it again moves it to the new address.
 */
TEST_F(pfncache, activate_hva)
{
	char *mem = map_pages(4);
	char *a = mem + PAGE + OFF, *b = mem + 2 * PAGE + PAGE - WORD;
	char *c = mem + 3 * PAGE + 16;
	__u64 v;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, pfc_activate(self->vm, 0, (uintptr_t)a, WORD, F_W | F_HVA));
	EXPECT_EQ(0, pfc_check(self->vm, 0));
	ASSERT_EQ(0, pfc_write(self->vm, 0, 0xa1));
	EXPECT_EQ(0xa1ULL, peek(a));
	poke(a, 0xa2);
	ASSERT_EQ(0, pfc_read(self->vm, 0, &v));
	EXPECT_EQ(0xa2ULL, v);

	/* The memslot generation only matters to GPA caches. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 1, 0, GPA_BASE, PAGE,
				     (uintptr_t)mem));
	EXPECT_EQ(0, pfc_check(self->vm, 0));
	ASSERT_EQ(0, okvm_set_region(self->vm, 1, 0, GPA_BASE, 0, 0));
	EXPECT_EQ(0, pfc_check(self->vm, 0));

	ASSERT_EQ(0, pfc_activate(self->vm, 1, (uintptr_t)b, WORD, F_W | F_HVA));
	ASSERT_EQ(0, pfc_write(self->vm, 1, 0xb1));
	EXPECT_EQ(0xb1ULL, peek(b));

	/* Activated again elsewhere: stores go there, not to the old place. */
	ASSERT_EQ(0, pfc_activate(self->vm, 0, (uintptr_t)c, WORD, F_W | F_HVA));
	ASSERT_EQ(0, pfc_write(self->vm, 0, 0xc1));
	EXPECT_EQ(0xc1ULL, peek(c));
	EXPECT_EQ(0xa2ULL, peek(a));
	munmap(mem, 4 * PAGE);
}

/*
 * Bad arguments are refused with EINVAL and leave the cache as it was:
 * a valid one stays valid on its old target, an inactive one inactive.
 */
TEST_F(pfncache, page_crossing_refused)
{
	const __u32 A = OKVM_PFNCACHE_OP_ACTIVATE;
	char *mem = map_pages(4);
	__u64 gpa = GPA_BASE + GPA_STEP, pg = gpa + 2 * PAGE;
	char *hva = mem + PAGE + OFF;
	struct {
		__u32 op, id;
		__u64 addr;
		__u32 len, flags;
		const char *what;
	} bad[] = {
		{ A, 0, pg, 0, F_W, "len 0" },
		{ A, 0, pg + 4090, WORD, F_W, "offset 4090, len 8" },
		{ A, 0, pg + PAGE - 4, WORD, 0, "offset 4092, len 8" },
		{ A, 0, pg, PAGE + 1, 0, "len 4097" },
		{ A, 0, (uintptr_t)mem + 4090, WORD, F_W | F_HVA,
		  "hva offset 4090, len 8" },
		{ A, 0, pg, WORD, 1U << 7, "unknown flag" },
		{ A, 0, pg, WORD, F_W | (1U << 31), "unknown high flag" },
		{ 99, 0, pg, WORD, F_W, "unknown op" },
		{ OKVM_PFNCACHE_OP_STATS + 1, 0, 0, WORD, 0, "op after STATS" },
		{ A, OKVM_TEST_PFNCACHE_MAX, pg, WORD, F_W, "id MAX" },
		{ A, ~0U, pg, WORD, F_W, "id ~0" },
		{ OKVM_PFNCACHE_OP_CHECK, OKVM_TEST_PFNCACHE_MAX, 0, WORD, 0,
		  "CHECK id MAX" },
		{ OKVM_PFNCACHE_OP_REFRESH, OKVM_TEST_PFNCACHE_MAX, 0, WORD, 0,
		  "REFRESH id MAX" },
		{ OKVM_PFNCACHE_OP_STATS, OKVM_TEST_PFNCACHE_MAX, 0, 0, 0,
		  "STATS id MAX" },
		{ OKVM_PFNCACHE_OP_START, OKVM_TEST_PFNCACHE_MAX, 0, 0, 0,
		  "START id MAX" },
	};
	unsigned int i;
	__u64 v;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, gpa, 4 * PAGE,
				     (uintptr_t)mem));
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa + PAGE + OFF, WORD, F_W));
	ASSERT_EQ(0, pfc_check(self->vm, 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, pfc_raw(self->vm, bad[i].op, bad[i].id,
					  bad[i].addr, bad[i].len,
					  bad[i].flags))
			TH_LOG("%s was accepted", bad[i].what);
		EXPECT_EQ(0, pfc_check(self->vm, 0))
			TH_LOG("%s changed a valid cache", bad[i].what);
		/* The same on a cache that was never activated. */
		if (bad[i].id)
			continue;
		bad[i].id = 1;
		EXPECT_EQ(EINVAL, pfc_raw(self->vm, bad[i].op, bad[i].id,
					  bad[i].addr, bad[i].len,
					  bad[i].flags))
			TH_LOG("%s was accepted on cache 1", bad[i].what);
		EXPECT_EQ(EAGAIN, pfc_check(self->vm, 1))
			TH_LOG("%s activated cache 1", bad[i].what);
		EXPECT_EQ(EINVAL, pfc_refresh(self->vm, 1));
	}
	/* Cache 0 still stores where it did. */
	ASSERT_EQ(0, pfc_write(self->vm, 0, 0x77));
	EXPECT_EQ(0x77ULL, peek(hva));

	/* A whole page is fine; WRITE and READ want 8 bytes activated. */
	EXPECT_EQ(0, pfc_activate(self->vm, 2, pg, PAGE, 0));
	EXPECT_EQ(0, pfc_check(self->vm, 2));
	ASSERT_EQ(0, pfc_activate(self->vm, 3, pg + OFF, 4, F_W));
	EXPECT_EQ(EINVAL, pfc_write(self->vm, 3, 1));
	EXPECT_EQ(EINVAL, pfc_read(self->vm, 3, &v));
	EXPECT_EQ(0ULL, peek(mem + 2 * PAGE + OFF));
	munmap(mem, 4 * PAGE);
}

/*
 * A GPA cache follows its memslot: deleted, the cache is invalid and
 * refreshing it fails; recreated over other memory, stores land there.
 * A MOVE leaves a cache on the old GPA without a page.
 */
TEST_F(pfncache, moved_slot_refresh)
{
	char *ha = map_pages(4), *hb = map_pages(4);
	__u64 base = GPA_BASE + 2 * GPA_STEP, gpa = base + PAGE + OFF;
	__u64 moved = GPA_BASE + 3 * GPA_STEP;
	char *wa = ha + PAGE + OFF, *wb = hb + PAGE + OFF;

	ASSERT_NE(MAP_FAILED, ha);
	ASSERT_NE(MAP_FAILED, hb);
	ASSERT_EQ(0, okvm_set_region(self->vm, 1, 0, base, 4 * PAGE,
				     (uintptr_t)ha));
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa, WORD, F_W));
	ASSERT_EQ(0, pfc_check(self->vm, 0));
	ASSERT_EQ(0, pfc_write(self->vm, 0, 1));
	EXPECT_EQ(1ULL, peek(wa));

	/* Any memslot change moves the generation: check, then refresh. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 5, 0, GPA_BASE + 5 * GPA_STEP,
				     PAGE, (uintptr_t)ha));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 0));
	EXPECT_EQ(0, pfc_refresh(self->vm, 0));
	EXPECT_EQ(0, pfc_check(self->vm, 0));

	ASSERT_EQ(0, okvm_set_region(self->vm, 1, 0, base, 0, 0));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 0));
	EXPECT_EQ(EFAULT, pfc_refresh(self->vm, 0));
	EXPECT_EQ(EFAULT, pfc_write(self->vm, 0, 2));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 0));
	EXPECT_EQ(1ULL, peek(wa));

	/* Slot B at the same GPA over other memory: a refresh finds it. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 2, 0, base, 4 * PAGE,
				     (uintptr_t)hb));
	EXPECT_EQ(0, pfc_refresh(self->vm, 0));
	ASSERT_EQ(0, pfc_write(self->vm, 0, 3));
	EXPECT_EQ(3ULL, peek(wb));
	EXPECT_EQ(1ULL, peek(wa));

	/* MOVE slot B away: the old GPA has no page any more. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 2, 0, moved, 4 * PAGE,
				     (uintptr_t)hb));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 0));
	EXPECT_EQ(EFAULT, pfc_refresh(self->vm, 0));
	EXPECT_EQ(EFAULT, pfc_write(self->vm, 0, 4));
	ASSERT_EQ(0, pfc_activate(self->vm, 1, moved + PAGE + OFF, WORD, F_W));
	ASSERT_EQ(0, pfc_write(self->vm, 1, 5));
	EXPECT_EQ(5ULL, peek(wb));

	/* And back: the first cache works again, the second does not. */
	ASSERT_EQ(0, okvm_set_region(self->vm, 2, 0, base, 4 * PAGE,
				     (uintptr_t)hb));
	EXPECT_EQ(0, pfc_refresh(self->vm, 0));
	ASSERT_EQ(0, pfc_write(self->vm, 0, 6));
	EXPECT_EQ(6ULL, peek(wb));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 1));
	EXPECT_EQ(EFAULT, pfc_refresh(self->vm, 1));
	EXPECT_EQ(1ULL, peek(wa));
	munmap(ha, 4 * PAGE);
	munmap(hb, 4 * PAGE);
}

/*
 * Write access is refused where the guest or the host may not write: a
 * KVM_MEM_READONLY slot (EPERM) and a read-only host mapping (EFAULT, until
 * mprotect makes it writable and a refresh picks it up).
 */
TEST_F(pfncache, readonly)
{
	char *mem = map_pages(4), *ro = mem + 2 * PAGE;
	__u64 gpa = GPA_BASE + 4 * GPA_STEP, gpa2 = gpa + GPA_STEP;
	__u64 v;

	ASSERT_NE(MAP_FAILED, mem);
	poke(mem + OFF, 0xabc);
	ASSERT_EQ(0, okvm_set_region(self->vm, 3, KVM_MEM_READONLY, gpa,
				     2 * PAGE, (uintptr_t)mem));
	EXPECT_EQ(EPERM, pfc_activate(self->vm, 0, gpa + OFF, WORD, F_W));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 0));
	EXPECT_EQ(EPERM, pfc_refresh(self->vm, 0));
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa + OFF, WORD, 0));
	EXPECT_EQ(0, pfc_check(self->vm, 0));
	ASSERT_EQ(0, pfc_read(self->vm, 0, &v));
	EXPECT_EQ(0xabcULL, v);
	EXPECT_EQ(EPERM, pfc_write(self->vm, 0, 1));
	EXPECT_EQ(0xabcULL, peek(mem + OFF));

	/* The host maps the page read-only. */
	poke(ro + OFF, 7);
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
	ASSERT_EQ(0, okvm_set_region(self->vm, 4, 0, gpa2, PAGE,
				     (uintptr_t)ro));
	EXPECT_EQ(EFAULT, pfc_activate(self->vm, 1, (uintptr_t)ro + OFF, WORD,
				       F_W | F_HVA));
	EXPECT_EQ(EFAULT, pfc_activate(self->vm, 2, gpa2 + OFF, WORD, F_W));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 1));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 2));
	ASSERT_EQ(0, pfc_activate(self->vm, 3, (uintptr_t)ro + OFF, WORD,
				  F_HVA));
	ASSERT_EQ(0, pfc_read(self->vm, 3, &v));
	EXPECT_EQ(7ULL, v);

	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, pfc_refresh(self->vm, 1));
	EXPECT_EQ(0, pfc_refresh(self->vm, 2));
	ASSERT_EQ(0, pfc_write(self->vm, 1, 8));
	EXPECT_EQ(8ULL, peek(ro + OFF));
	ASSERT_EQ(0, pfc_write(self->vm, 2, 9));
	EXPECT_EQ(9ULL, peek(ro + OFF));
	munmap(mem, 4 * PAGE);
}

/* DEACTIVATE always succeeds and leaves nothing to refresh; ACTIVATE again. */
TEST_F(pfncache, deactivate_then_check)
{
	char *mem = map_pages(2);
	__u64 gpa = GPA_BASE + 6 * GPA_STEP;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, gpa, 2 * PAGE,
				     (uintptr_t)mem));
	EXPECT_EQ(0, pfc_deactivate(self->vm, 2));	/* never activated */
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 2));
	ASSERT_EQ(0, pfc_activate(self->vm, 2, gpa + OFF, WORD, F_W));
	ASSERT_EQ(0, pfc_check(self->vm, 2));
	EXPECT_EQ(0, pfc_deactivate(self->vm, 2));
	EXPECT_EQ(EAGAIN, pfc_check(self->vm, 2));
	EXPECT_EQ(EINVAL, pfc_refresh(self->vm, 2));
	EXPECT_NE(0, pfc_write(self->vm, 2, 1));
	EXPECT_EQ(0ULL, peek(mem + OFF));
	EXPECT_EQ(0, pfc_deactivate(self->vm, 2));	/* twice */
	ASSERT_EQ(0, pfc_activate(self->vm, 2, gpa + OFF, WORD, F_W));
	EXPECT_EQ(0, pfc_check(self->vm, 2));
	ASSERT_EQ(0, pfc_write(self->vm, 2, 2));
	EXPECT_EQ(2ULL, peek(mem + OFF));
}

/*
 * The host changes the page under a valid cache (MADV_DONTNEED, mprotect,
 * munmap + mmap, mremap): the notifier invalidates it, a refresh follows
 * the hva to whatever is there now.
 */
static void notifier_round(struct __test_metadata *_metadata, int vm,
			   __u32 id, char *mem, __u64 addr, __u32 flags)
{
	char *pg = mem + PAGE, *w = pg + OFF;
	char *park;

	poke(w, 1);
	ASSERT_EQ(0, pfc_activate(vm, id, addr, WORD, flags));
	ASSERT_EQ(0, pfc_check(vm, id));

	ASSERT_EQ(0, madvise(pg, PAGE, MADV_DONTNEED));
	EXPECT_EQ(EAGAIN, pfc_check(vm, id)) TH_LOG("MADV_DONTNEED");
	EXPECT_EQ(0, pfc_refresh(vm, id));
	ASSERT_EQ(0, pfc_write(vm, id, 11));
	EXPECT_EQ(11ULL, peek(w)) TH_LOG("the store missed the new page");

	ASSERT_EQ(0, mprotect(pg, PAGE, PROT_READ));
	EXPECT_EQ(EAGAIN, pfc_check(vm, id)) TH_LOG("mprotect");
	EXPECT_EQ(EFAULT, pfc_refresh(vm, id));
	ASSERT_EQ(0, mprotect(pg, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, pfc_refresh(vm, id));
	ASSERT_EQ(0, pfc_write(vm, id, 12));
	EXPECT_EQ(12ULL, peek(w));

	ASSERT_EQ(0, munmap(pg, PAGE));
	EXPECT_EQ(EAGAIN, pfc_check(vm, id)) TH_LOG("munmap");
	EXPECT_EQ(EFAULT, pfc_refresh(vm, id));
	ASSERT_EQ(pg, mmap(pg, PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_EQ(0, pfc_refresh(vm, id));
	ASSERT_EQ(0, pfc_write(vm, id, 13));
	EXPECT_EQ(13ULL, peek(w));

	park = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, park);
	ASSERT_EQ(park, mremap(pg, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			       park));
	EXPECT_EQ(EAGAIN, pfc_check(vm, id)) TH_LOG("mremap");
	EXPECT_EQ(EFAULT, pfc_refresh(vm, id));
	ASSERT_EQ(pg, mremap(park, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			     pg));
	EXPECT_EQ(13ULL, peek(w));
	EXPECT_EQ(0, pfc_refresh(vm, id));
	ASSERT_EQ(0, pfc_write(vm, id, 14));
	EXPECT_EQ(14ULL, peek(w));
	poke(w, 0);
	EXPECT_TRUE(all_bytes(mem, 3 * PAGE, 0));
	EXPECT_EQ(0, pfc_deactivate(vm, id));
}

TEST_F(pfncache, notifier_invalidates)
{
	char *mg = map_pages(3), *mh = map_pages(3);
	__u64 gpa = GPA_BASE + 7 * GPA_STEP;

	ASSERT_NE(MAP_FAILED, mg);
	ASSERT_NE(MAP_FAILED, mh);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, gpa, 3 * PAGE,
				     (uintptr_t)mg));
	notifier_round(_metadata, self->vm, 0, mg, gpa + PAGE + OFF, F_W);
	notifier_round(_metadata, self->vm, 1, mh, (uintptr_t)mh + PAGE + OFF,
		       F_W | F_HVA);
	munmap(mg, 3 * PAGE);
	munmap(mh, 3 * PAGE);
}

/*
 * The hrtimer writer stores an increasing counter through a valid cache,
 * stops storing when the cache is deactivated, resumes when it is
 * activated again, and stops for good with STOP.
 */
TEST_F(pfncache, writer_basic)
{
	char *mem = map_pages(3), *w = mem + PAGE + OFF;
	__u64 gpa = GPA_BASE + 8 * GPA_STEP;
	struct okvm_test_pfncache st;
	__u64 v1, v2, v3;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, okvm_set_region(self->vm, 0, 0, gpa, 3 * PAGE,
				     (uintptr_t)mem));
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa + PAGE + OFF, WORD, F_W));
	ASSERT_EQ(0, pfc_start(self->vm, 0, 50000));
	sleep_us(200000);
	v1 = peek(w);
	sleep_us(20000);
	v2 = peek(w);
	ASSERT_EQ(0, pfc_stats(self->vm, 0, &st));
	EXPECT_LT(0ULL, v1);
	EXPECT_LT(v1, v2);
	EXPECT_LE(v2, st.last);
	EXPECT_LT(0ULL, st.stores);
	EXPECT_EQ(0ULL, st.stale);

	/* Deactivated: no store from now on, and the last one is at w. */
	ASSERT_EQ(0, pfc_deactivate(self->vm, 0));
	v1 = peek(w);
	sleep_us(20000);
	EXPECT_EQ(v1, peek(w)) TH_LOG("a store after DEACTIVATE");
	ASSERT_EQ(0, pfc_stats(self->vm, 0, &st));
	EXPECT_EQ(v1, st.last);
	EXPECT_LT(0ULL, st.skipped);

	/* Active again: the writer refreshes it and carries on counting. */
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa + PAGE + OFF, WORD, F_W));
	sleep_us(50000);
	v2 = peek(w);
	EXPECT_LT(v1, v2);

	ASSERT_EQ(0, pfc_stop(self->vm, 0));
	v3 = peek(w);
	sleep_us(20000);
	EXPECT_EQ(v3, peek(w)) TH_LOG("a store after STOP");
	ASSERT_EQ(0, pfc_stats(self->vm, 0, &st));
	EXPECT_EQ(v3, st.last);
	EXPECT_EQ(0ULL, st.stale);
	TH_LOG("writer: %llu stores, %llu skipped, %llu refreshes",
	       (unsigned long long)st.stores, (unsigned long long)st.skipped,
	       (unsigned long long)st.refreshes);
	munmap(mem, 3 * PAGE);
}

/* ---- the stress tests */

/* Three pages, [canary | target | canary], each in its own slot. */
struct target {
	char *base;
	__u64 gpa;		/* of base, in the GPA variant */
	__u32 slot;
};

struct stress {
	int vm;
	bool by_gpa;		/* GPA caches and memslot churn, or HVA */
	int nt;			/* targets in use */
	int stop;
	struct target t[NT];
	char *scratch;		/* nt reserved pages that mremap parks in */
	/* Written while a target page may be a hole; read around peeks. */
	pthread_rwlock_t maps;
	struct failbox fail;
	unsigned long churn_ops;
	__u64 ro_ns;		/* seed test: time the page was read-only */
	unsigned long refreshes, refresh_errs;
};

static bool stopping(struct stress *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

static char *tpage(struct stress *s, int j)
{
	return s->t[j].base + PAGE;
}

static char *tword(struct stress *s, int j)
{
	return tpage(s, j) + OFF;
}

static __u64 taddr(struct stress *s, int j)
{
	return s->by_gpa ? s->t[j].gpa + PAGE + OFF : (uintptr_t)tword(s, j);
}

static __u32 tflags(struct stress *s)
{
	return F_W | (s->by_gpa ? 0 : F_HVA);
}

static void snapshot(struct stress *s, __u64 *v)
{
	int k;

	pthread_rwlock_rdlock(&s->maps);
	for (k = 0; k < s->nt; k++)
		v[k] = peek(tword(s, k));
	pthread_rwlock_unlock(&s->maps);
}

/*
 * An outcome of ACTIVATE or REFRESH that the churn explains: no slot or
 * host page (EFAULT, EPERM) right now, or a refresh that lost to a
 * concurrent DEACTIVATE or ACTIVATE (EAGAIN, Documentation/pfncache.rst).
 */
static bool raced(int err)
{
	return !err || err == EFAULT || err == EPERM || err == EAGAIN;
}

/* Tolerated ACTIVATE failures by errno, for the numbers printed. */
struct act_errs {
	unsigned long fault, perm, again;
	__u64 ns;		/* spent in ACTIVATE, all calls */
};

static void act_errs_add(struct act_errs *a, int err)
{
	a->fault += err == EFAULT;
	a->perm += err == EPERM;
	a->again += err == EAGAIN;
}

/* REFRESH the cache over and over, racing everything else. */
static void *refresher(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = now_ns();
	int err;

	while (!stopping(s)) {
		err = pfc_refresh(s->vm, 0);
		if (!raced(err) && err != EINVAL)
			failbox_add(&s->fail, "REFRESH: %s", strerror(err));
		/* Two of these run in the seed test. */
		__atomic_fetch_add(&s->refreshes, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->refresh_errs, !!err, __ATOMIC_RELAXED);
		sleep_us(rand_r(&seed) % 100);
	}
	return NULL;
}

/* Change one target's host page or memslot; 0 or an errno, *what says. */
static int churn_once(struct stress *s, unsigned int *seed, const char **what)
{
	int j = rand_r(seed) % s->nt, op = rand_r(seed) % (s->by_gpa ? 6 : 4);
	struct target *t = &s->t[j];
	char *pg = tpage(s, j), *park = s->scratch + j * PAGE;
	const int rw = PROT_READ | PROT_WRITE;
	int err = 0;

	switch (op) {
	case 0:
		*what = "mprotect";
		if (mprotect(pg, PAGE, PROT_READ))
			return errno;
		sleep_us(rand_r(seed) % 50);
		return mprotect(pg, PAGE, rw) ? errno : 0;
	case 1:
		*what = "MADV_DONTNEED";
		return madvise(pg, PAGE, MADV_DONTNEED) ? errno : 0;
	case 2:
		*what = "munmap + mmap";
		pthread_rwlock_wrlock(&s->maps);
		if (munmap(pg, PAGE) ||
		    mmap(pg, PAGE, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) == MAP_FAILED)
			err = errno;
		else
			madvise(pg, PAGE, MADV_MERGEABLE);
		pthread_rwlock_unlock(&s->maps);
		return err;
	case 3:
		*what = "mremap";
		pthread_rwlock_wrlock(&s->maps);
		if (mremap(pg, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			   park) == MAP_FAILED) {
			err = errno;
		} else {
			sleep_us(rand_r(seed) % 50);
			if (mremap(park, PAGE, PAGE,
				   MREMAP_MAYMOVE | MREMAP_FIXED,
				   pg) == MAP_FAILED ||
			    mmap(park, PAGE, PROT_NONE, MAP_PRIVATE |
				 MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
				 -1, 0) == MAP_FAILED)
				err = errno;
		}
		pthread_rwlock_unlock(&s->maps);
		return err;
	case 4:
		*what = "memslot DELETE + CREATE";
		err = okvm_set_region(s->vm, t->slot, 0, t->gpa, 0, 0);
		if (err)
			return err;
		sleep_us(rand_r(seed) % 50);
		return okvm_set_region(s->vm, t->slot, 0, t->gpa, 3 * PAGE,
				       (uintptr_t)t->base);
	default:
		*what = "memslot MOVE";
		err = okvm_set_region(s->vm, t->slot, 0,
				      GPA_SPARE + j * GPA_STEP, 3 * PAGE,
				      (uintptr_t)t->base);
		if (err)
			return err;
		sleep_us(rand_r(seed) % 50);
		return okvm_set_region(s->vm, t->slot, 0, t->gpa, 3 * PAGE,
				       (uintptr_t)t->base);
	}
}

static void *churner(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = now_ns() ^ 0x5eed;
	const char *what = "";
	int err;

	while (!stopping(s)) {
		err = churn_once(s, &seed, &what);
		if (err)
			failbox_add(&s->fail, "churn %s: %s", what,
				    strerror(err));
		s->churn_ops++;
		sleep_us(rand_r(&seed) % 200);
	}
	return NULL;
}

static void stress_setup(struct __test_metadata *_metadata,
			 struct stress *s, int vm, bool by_gpa, int nt)
{
	int j;

	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->by_gpa = by_gpa;
	s->nt = nt;
	pthread_rwlock_init(&s->maps, NULL);
	pthread_mutex_init(&s->fail.lock, NULL);
	s->scratch = mmap(NULL, nt * PAGE, PROT_NONE, MAP_PRIVATE |
			  MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, s->scratch);
	for (j = 0; j < nt; j++) {
		struct target *t = &s->t[j];

		t->base = map_pages(3);
		ASSERT_NE(MAP_FAILED, t->base);
		memset(t->base, CANARY, PAGE);
		memset(t->base + 2 * PAGE, CANARY, PAGE);
		t->gpa = GPA_STRESS + j * GPA_STEP;
		t->slot = 10 + j;
		if (by_gpa)
			ASSERT_EQ(0, okvm_set_region(vm, t->slot, 0, t->gpa,
						     3 * PAGE,
						     (uintptr_t)t->base));
	}
}

/* Canaries untouched, and nothing in a target page but its word. */
static void stress_check_pages(struct __test_metadata *_metadata,
			       struct stress *s)
{
	int j;

	for (j = 0; j < s->nt; j++) {
		char *b = s->t[j].base;

		EXPECT_TRUE(all_bytes(b, PAGE, CANARY) &&
			    all_bytes(b + 2 * PAGE, PAGE, CANARY))
			TH_LOG("target %d: a canary page was written", j);
		EXPECT_TRUE(all_bytes(tpage(s, j), OFF, 0) &&
			    all_bytes(tword(s, j) + WORD, PAGE - OFF - WORD, 0))
			TH_LOG("target %d: a store outside the word", j);
	}
}

static void stress_teardown(struct stress *s)
{
	int j;

	for (j = 0; j < s->nt; j++)
		munmap(s->t[j].base, 3 * PAGE);
	munmap(s->scratch, s->nt * PAGE);
	pthread_rwlock_destroy(&s->maps);
	pthread_mutex_destroy(&s->fail.lock);
}

static void print_writer(const char *name,
			 const struct okvm_test_pfncache *st, double secs)
{
	ksft_print_msg("%s: writer: %llu stores (%.0f/s), %llu skipped\n",
		       name, (unsigned long long)st->stores, st->stores / secs,
		       (unsigned long long)st->skipped);
	ksft_print_msg("%s: writer: %llu refreshes (%llu failed), stale %llu\n",
		       name, (unsigned long long)st->refreshes,
		       (unsigned long long)st->refresh_errors,
		       (unsigned long long)st->stale);
}

/*
 * One cache, its writer running, is activated on a random target and
 * deactivated again while another thread refreshes it and a third changes
 * the targets' host pages and memslots under it, with KSM merging the
 * canaries. After each DEACTIVATE no target may change any more, except
 * to 0 (churn dropped the page); a target that was not active may never
 * change to anything but 0.
 */
static void stress_run(struct __test_metadata *_metadata, int vm,
		       bool by_gpa, const char *name)
{
	__u64 pre[NT], snap[NT], after[NT], start, end, secs_ns, t0;
	unsigned long it = 0, stored = 0;
	struct act_errs ae = {};
	long ksm_scans = sysfs_long("/sys/kernel/mm/ksm/full_scans");
	unsigned int seed = now_ns();
	struct okvm_test_pfncache st;
	pthread_t thr[2];
	struct stress s;
	int j, k, err, ksm = 0;
	double secs;

	stress_setup(_metadata, &s, vm, by_gpa, NT);
	/* KSM merges the canaries if the kernel has it. */
	for (j = 0; j < NT; j++)
		ksm += !madvise(s.t[j].base, 3 * PAGE, MADV_MERGEABLE);
	if (ksm)
		ksm_start();

	ASSERT_EQ(0, pfc_activate(vm, 0, taddr(&s, 0), WORD, tflags(&s)));
	ASSERT_EQ(0, pfc_start(vm, 0, STRESS_PERIOD_NS));
	ASSERT_EQ(0, pfc_deactivate(vm, 0));
	ASSERT_EQ(0, pthread_create(&thr[0], NULL, refresher, &s));
	ASSERT_EQ(0, pthread_create(&thr[1], NULL, churner, &s));

	start = now_ns();
	end = start + stress_ms() * 1000000ULL;
	while (now_ns() < end && !failbox_count(&s.fail)) {
		j = rand_r(&seed) % NT;
		snapshot(&s, pre);
		t0 = now_ns();
		err = pfc_activate(vm, 0, taddr(&s, j), WORD, tflags(&s));
		ae.ns += now_ns() - t0;
		if (!raced(err))
			failbox_add(&s.fail, "ACTIVATE target %d: %s", j,
				    strerror(err));
		act_errs_add(&ae, err);
		sleep_us(rand_r(&seed) % 501);
		err = pfc_deactivate(vm, 0);
		if (err)
			failbox_add(&s.fail, "DEACTIVATE: %s", strerror(err));
		snapshot(&s, snap);
		sleep_us(300);
		snapshot(&s, after);
		for (k = 0; k < NT; k++) {
			if (after[k] != snap[k] && after[k])
				failbox_add(&s.fail,
					    "iteration %lu: target %d went from %llu to %llu after DEACTIVATE",
					    it, k, (unsigned long long)snap[k],
					    (unsigned long long)after[k]);
			if (k == j)
				continue;
			if ((snap[k] != pre[k] && snap[k]) ||
			    (after[k] != pre[k] && after[k]))
				failbox_add(&s.fail,
					    "iteration %lu: target %d (active: %d) went from %llu to %llu/%llu",
					    it, k, j, (unsigned long long)pre[k],
					    (unsigned long long)snap[k],
					    (unsigned long long)after[k]);
		}
		stored += snap[j] && snap[j] != pre[j];
		it++;
	}
	secs_ns = now_ns() - start;
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thr[0], NULL);
	pthread_join(thr[1], NULL);

	EXPECT_EQ(0, pfc_stop(vm, 0));
	EXPECT_EQ(0, pfc_deactivate(vm, 0));
	ASSERT_EQ(0, pfc_stats(vm, 0, &st));
	secs = secs_ns / 1e9;
	ksft_print_msg("%s: %.2f s, %lu activations (%.0f/s, %.0f us each)\n",
		       name, secs, it, it / secs, it ? ae.ns / 1e3 / it : 0.0);
	ksft_print_msg("%s: %lu saw a store; EFAULT %lu, EPERM %lu, EAGAIN %lu\n",
		       name, stored, ae.fault, ae.perm, ae.again);
	ksft_print_msg("%s: %lu churn ops (%.0f/s), %lu REFRESH (%lu failed)\n",
		       name, s.churn_ops, s.churn_ops / secs, s.refreshes,
		       s.refresh_errs);
	print_writer(name, &st, secs);
	ksft_print_msg("%s: KSM on %d targets: %ld full scans, %ld pages sharing\n",
		       name, ksm,
		       sysfs_long("/sys/kernel/mm/ksm/full_scans") - ksm_scans,
		       sysfs_long("/sys/kernel/mm/ksm/pages_sharing"));
	ksm_restore();

	EXPECT_EQ(0, s.fail.count) TH_LOG("%d failures, the first: %s",
					  s.fail.count, s.fail.why);
	EXPECT_EQ(0ULL, st.stale);
	EXPECT_LT(100ULL, st.stores) TH_LOG("the writer hardly ran");
	EXPECT_LT(0UL, stored);
	stress_check_pages(_metadata, &s);
	stress_teardown(&s);
}

TEST_F_TIMEOUT(pfncache, stress_gpa, 300)
{
	stress_run(_metadata, self->vm, true, "stress_gpa");
}

TEST_F_TIMEOUT(pfncache, stress_hva, 300)
{
	stress_run(_metadata, self->vm, false, "stress_hva");
}

/* Write-protect the target and allow writes again: same page, new refresh. */
static void *protector(void *arg)
{
	struct stress *s = arg;
	unsigned int seed = now_ns() ^ 0x001;
	char *pg = tpage(s, 0);
	__u64 t0;

	while (!stopping(s)) {
		if (mprotect(pg, PAGE, PROT_READ))
			failbox_add(&s->fail, "mprotect RO: %s",
				    strerror(errno));
		/* No sleep: under TCG even 1 us is about a millisecond. */
		t0 = now_ns();
		if (mprotect(pg, PAGE, PROT_READ | PROT_WRITE))
			failbox_add(&s->fail, "mprotect RW: %s",
				    strerror(errno));
		s->ro_ns += now_ns() - t0;
		s->churn_ops++;
		/*
		 * Leave the cache valid for a while in between, longer than
		 * a stalled refresh: a refresh that sees no invalidation
		 * installs, and the writer gets to use what it installed.
		 */
		sleep_us(500 + rand_r(&seed) % 1500);
	}
	return NULL;
}

/*
 * Seed 001: a refresh that dropped the cache lock (stretched here) must
 * not bring back the mapping a concurrent DEACTIVATE tore down, though it
 * finds the same pfn: the writer would then store through an unmapped
 * kernel address (counted as stale) or after the DEACTIVATE.
 */
TEST_F_TIMEOUT(pfncache, seed001_refresh_vs_deactivate, 300)
{
	__u64 gpa, start, end, v, first = 0;
	struct act_errs ae = {};
	unsigned long it = 0;
	unsigned int seed = now_ns();
	struct okvm_test_pfncache st;
	pthread_t thr[3];
	struct stress s;
	double secs;
	int i, err;
	char *w;

	stress_setup(_metadata, &s, self->vm, true, 1);
	gpa = taddr(&s, 0);
	w = tword(&s, 0);
	ASSERT_EQ(0, pfc_activate(self->vm, 0, gpa, WORD, F_W));
	ASSERT_EQ(0, pfc_start(self->vm, 0, SEED001_PERIOD_NS));
	ASSERT_EQ(0, set_delay(self->vm, OKVM_DELAY_PFNCACHE_REFRESH,
			       SEED001_DELAY_US));
	ASSERT_EQ(0, pthread_create(&thr[0], NULL, protector, &s));
	ASSERT_EQ(0, pthread_create(&thr[1], NULL, refresher, &s));
	ASSERT_EQ(0, pthread_create(&thr[2], NULL, refresher, &s));

	start = now_ns();
	end = start + stress_ms() * 1000000ULL;
	while (now_ns() < end && !failbox_count(&s.fail)) {
		err = pfc_deactivate(self->vm, 0);
		if (err)
			failbox_add(&s.fail, "DEACTIVATE: %s", strerror(err));
		v = peek(w);
		sleep_us(200);
		if (peek(w) != v)
			failbox_add(&s.fail,
				    "iteration %lu: a store after DEACTIVATE (%llu, then %llu)",
				    it, (unsigned long long)v,
				    (unsigned long long)peek(w));
		/* EFAULT: the page is read-only this instant. */
		err = pfc_activate(self->vm, 0, gpa, WORD, F_W);
		if (!raced(err))
			failbox_add(&s.fail, "ACTIVATE: %s", strerror(err));
		act_errs_add(&ae, err);
		sleep_us(rand_r(&seed) % 300);
		if (!pfc_stats(self->vm, 0, &st) && st.stale)
			failbox_add(&s.fail,
				    "iteration %lu: %llu stores through a stale mapping",
				    it, (unsigned long long)st.stale);
		it++;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		pthread_join(thr[i], NULL);
	secs = (now_ns() - start) / 1e9;
	EXPECT_EQ(0, set_delay(self->vm, OKVM_DELAY_PFNCACHE_REFRESH, 0));
	EXPECT_EQ(0, pfc_stop(self->vm, 0));
	EXPECT_EQ(0, pfc_deactivate(self->vm, 0));
	ASSERT_EQ(0, pfc_stats(self->vm, 0, &st));
	if (s.fail.count)
		first = s.fail.first_ns - start;

	ksft_print_msg("seed001: %.2f s, %lu iterations (%.0f/s)\n",
		       secs, it, it / secs);
	ksft_print_msg("seed001: ACTIVATE failed: EFAULT %lu, EAGAIN %lu\n",
		       ae.fault, ae.again);
	ksft_print_msg("seed001: %lu mprotect cycles (read-only %.0f%% of the time)\n",
		       s.churn_ops, s.ro_ns / 1e7 / secs);
	ksft_print_msg("seed001: %lu REFRESH (%lu failed)\n", s.refreshes,
		       s.refresh_errs);
	print_writer("seed001", &st, secs);
	if (s.fail.count)
		ksft_print_msg("seed001: first failure after %.3f s (%lu iterations)\n",
			       first / 1e9, it);
	EXPECT_EQ(0, s.fail.count) TH_LOG("%d failures, the first: %s",
					  s.fail.count, s.fail.why);
	EXPECT_EQ(0ULL, st.stale);
	EXPECT_LT(0ULL, st.stores);
	stress_check_pages(_metadata, &s);
	stress_teardown(&s);
}

TEST_HARNESS_MAIN
