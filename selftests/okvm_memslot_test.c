// SPDX-License-Identifier: GPL-2.0
/*
 * okvm memslots: KVM_SET_USER_MEMORY_REGION and KVM_SET_USER_MEMORY_REGION2,
 * their checks and errnos, the CREATE/DELETE/MOVE/FLAGS_ONLY changes, and
 * (through the testing=1 interface of <linux/okvm.h>) the slot table that
 * each update leaves behind.
 *
 * Needs okvm loaded with testing=1; the reload test leaves it that way.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#ifdef __x86_64__
#include <cpuid.h>
#endif

#include "okvm_util.h"

/*
 * okvm's KVM_CHECK_EXTENSION answers: KVM/x86's number of user memslots,
 * on both architectures, and a single address space.
 */
#define OKVM_NR_MEMSLOTS	32764
#define OKVM_NR_AS		1

/*
 * A slot beyond the guest physical address space fails in the
 * architecture's preparation: -EFAULT on arm64, -EINVAL on x86.
 */
#ifdef __aarch64__
#define GPA_LIMIT_ERRNO		EFAULT
#else
#define GPA_LIMIT_ERRNO		EINVAL
#endif

/* KVM_MEM_MAX_NR_PAGES + 1: the smallest slot KVM refuses for its size. */
#define TOO_MANY_PAGES		(1ULL << 31)

#define LOG			KVM_MEM_LOG_DIRTY_PAGES
#define RO			KVM_MEM_READONLY

/*
 * The layout every "memslot" fixture test starts from: MEM_PAGES pages of
 * anonymous memory and one canary slot, so that there always is a slot to
 * read the generation from. Tests use the ids and pages below it.
 */
#define MEM_PAGES		64
#define CANARY_ID		100
#define CANARY_GPA		0x40000000ULL
#define CANARY_PAGE		(MEM_PAGES - 1)

/* The slot most tests create, and an id and range nothing uses. */
#define SLOT_ID			1
#define SLOT_GPA		0x200000ULL
#define SLOT_PAGES		8
#define SLOT_HVA_PAGE		8
#define FREE_ID			2
#define FREE_GPA		0x800000ULL
#define FREE_HVA_PAGE		30
#define MOVE_GPA		0x300000ULL

struct region {
	__u32 slot;
	__u32 flags;
	__u64 gpa;
	__u64 size;
	__u64 hva;
};

enum { V1, V2 };

static const char * const ioctl_name[] = { "REGION", "REGION2" };

/* Either ioctl with the fields of @r; returns 0 or an errno. */
static int set_region(int vm, int v2, const struct region *r)
{
	if (v2)
		return okvm_set_region2(vm, r->slot, r->flags, r->gpa, r->size,
					r->hva);
	return okvm_set_region(vm, r->slot, r->flags, r->gpa, r->size, r->hva);
}

/* Deletes slot @id; returns 0 or an errno. */
static int delete_slot(int vm, __u32 id)
{
	return okvm_set_region(vm, id, 0, 0, 0, 0);
}

static const char *how_name(__u32 how)
{
	return how == OKVM_LOOKUP_HVA ? "hva" : "gpa";
}

/* Expect @addr to be covered by exactly the slot @r describes. */
static void expect_slot(struct __test_metadata *_metadata, int vm, __u32 how,
			__u64 addr, const struct region *r)
{
	struct okvm_test_memslot m;
	int err = okvm_lookup(vm, how, addr, &m);

	EXPECT_EQ(0, err) TH_LOG("lookup %s %#llx: %s", how_name(how),
				 (unsigned long long)addr, strerror(err));
	if (err)
		return;
	EXPECT_EQ(r->slot, m.slot) TH_LOG("%s %#llx", how_name(how),
					  (unsigned long long)addr);
	EXPECT_EQ(r->flags, m.flags);
	EXPECT_EQ(r->gpa, m.guest_phys_addr);
	EXPECT_EQ(r->size, m.memory_size);
	EXPECT_EQ(r->hva, m.userspace_addr);
}

/* Expect no slot to cover @addr. */
static void expect_none(struct __test_metadata *_metadata, int vm, __u32 how,
			__u64 addr)
{
	struct okvm_test_memslot m;
	int err = okvm_lookup(vm, how, addr, &m);

	EXPECT_EQ(ENOENT, err) TH_LOG("lookup %s %#llx found slot %u (%s)",
				      how_name(how), (unsigned long long)addr,
				      m.slot, strerror(err));
}

/* Generation of the slot set, read through the slot covering @gpa. */
static __u64 generation(struct __test_metadata *_metadata, int vm, __u64 gpa)
{
	struct okvm_test_memslot m;
	int err = okvm_lookup(vm, OKVM_LOOKUP_GPA, gpa, &m);

	EXPECT_EQ(0, err) TH_LOG("lookup %#llx for the generation: %s",
				 (unsigned long long)gpa, strerror(err));
	return m.generation;
}

/*
 * A snapshot: the result of a list of lookups. Two snapshots with the same
 * probes are equal when every lookup gave the same errno and, on success,
 * the same slot and generation.
 */
#define MAX_PROBES	12

struct snapshot {
	int n;
	__u32 how[MAX_PROBES];
	__u64 addr[MAX_PROBES];
	int err[MAX_PROBES];
	struct okvm_test_memslot m[MAX_PROBES];
};

static void snap_probe(struct snapshot *s, __u32 how, __u64 addr)
{
	if (s->n < MAX_PROBES) {
		s->how[s->n] = how;
		s->addr[s->n] = addr;
		s->n++;
	}
}

/* Probes for a region: its first and last byte, and its HVA. */
static void snap_probe_region(struct snapshot *s, const struct region *r)
{
	snap_probe(s, OKVM_LOOKUP_GPA, r->gpa);
	if (r->size)
		snap_probe(s, OKVM_LOOKUP_GPA, r->gpa + r->size - 1);
	snap_probe(s, OKVM_LOOKUP_HVA, r->hva);
}

static void snap_take(int vm, struct snapshot *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		s->err[i] = okvm_lookup(vm, s->how[i], s->addr[i], &s->m[i]);
}

/* Lookups again with @before's probes; true if nothing changed. */
static bool snap_unchanged(struct __test_metadata *_metadata, int vm,
			   const struct snapshot *before, const char *what)
{
	struct snapshot now = *before;
	bool same = true;
	int i;

	snap_take(vm, &now);
	for (i = 0; i < now.n; i++) {
		const struct okvm_test_memslot *a = &before->m[i], *b = &now.m[i];

		if (now.err[i] != before->err[i]) {
			TH_LOG("%s: lookup %s %#llx: %s, was %s", what,
			       how_name(now.how[i]),
			       (unsigned long long)now.addr[i],
			       strerror(now.err[i]), strerror(before->err[i]));
			same = false;
		} else if (!now.err[i] &&
			   (a->slot != b->slot || a->flags != b->flags ||
			    a->guest_phys_addr != b->guest_phys_addr ||
			    a->memory_size != b->memory_size ||
			    a->userspace_addr != b->userspace_addr ||
			    a->generation != b->generation)) {
			TH_LOG("%s: lookup %s %#llx: slot %u gpa %#llx size %#llx hva %#llx flags %#x gen %llu, was slot %u gpa %#llx size %#llx hva %#llx flags %#x gen %llu",
			       what, how_name(now.how[i]),
			       (unsigned long long)now.addr[i], b->slot,
			       (unsigned long long)b->guest_phys_addr,
			       (unsigned long long)b->memory_size,
			       (unsigned long long)b->userspace_addr, b->flags,
			       (unsigned long long)b->generation, a->slot,
			       (unsigned long long)a->guest_phys_addr,
			       (unsigned long long)a->memory_size,
			       (unsigned long long)a->userspace_addr, a->flags,
			       (unsigned long long)a->generation);
			same = false;
		}
	}
	return same;
}

static __u64 page_size(void)
{
	return (__u64)sysconf(_SC_PAGESIZE);
}

/* The end of the default VM's guest physical address space. */
static __u64 default_gpa_limit(void)
{
#ifdef __aarch64__
	return 1ULL << 40;	/* KVM_CREATE_VM type 0: a 40-bit IPA space */
#else
	unsigned int eax, ebx, ecx, edx;

	/* MAXPHYADDR; CPUs without leaf 0x80000008 have 36 bits. */
	if (__get_cpuid_max(0x80000000, NULL) < 0x80000008 ||
	    !__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx))
		return 1ULL << 36;
	return 1ULL << (eax & 0xff);
#endif
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(memslot) {
	int dev;
	int vm;
	__u64 pg;
	__u64 mem;	/* MEM_PAGES pages of anonymous memory */
	struct region canary;
};

/* HVA of page @i of the fixture's memory. */
static __u64 hva_page(const FIXTURE_DATA(memslot) *self, int i)
{
	return self->mem + (__u64)i * self->pg;
}

FIXTURE_SETUP(memslot)
{
	struct okvm_test_memslot m;
	void *mem;
	int err;

	self->vm = -1;
	self->mem = 0;
	self->pg = page_size();
	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	mem = mmap(NULL, MEM_PAGES * self->pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	self->mem = (unsigned long)mem;

	self->canary = (struct region){ CANARY_ID, 0, CANARY_GPA, self->pg,
					hva_page(self, CANARY_PAGE) };
	ASSERT_EQ(0, set_region(self->vm, V1, &self->canary));
	err = okvm_lookup(self->vm, OKVM_LOOKUP_GPA, CANARY_GPA, &m);
	ASSERT_EQ(0, err) TH_LOG("test lookup: %s (okvm needs testing=1)",
				 strerror(err));
}

FIXTURE_TEARDOWN(memslot)
{
	__u32 step;

	if (self->vm >= 0) {
		for (step = 0; step < OKVM_FAIL_NR_STEPS; step++)
			okvm_fail_step(self->vm, step, 0);
		close(self->vm);
	}
	if (self->dev >= 0)
		close(self->dev);
	if (self->mem)
		munmap((void *)(unsigned long)self->mem, MEM_PAGES * self->pg);
}

/* The slot most tests start from: SLOT_ID at SLOT_GPA, SLOT_PAGES pages. */
static struct region std_slot(const FIXTURE_DATA(memslot) *self, __u32 flags)
{
	return (struct region){ SLOT_ID, flags, SLOT_GPA,
				SLOT_PAGES * self->pg,
				hva_page(self, SLOT_HVA_PAGE) };
}

TEST(caps)
{
	static const struct {
		long cap;
		int val;
	} caps[] = {
		{ KVM_CAP_USER_MEMORY, 1 },
		{ KVM_CAP_USER_MEMORY2, 1 },
		{ KVM_CAP_NR_MEMSLOTS, OKVM_NR_MEMSLOTS },
		{ KVM_CAP_MULTI_ADDRESS_SPACE, OKVM_NR_AS },
	};
	int dev = okvm_open(OKVM_DEV);
	unsigned int i;
	int vm;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		EXPECT_EQ(caps[i].val, ioctl(dev, KVM_CHECK_EXTENSION,
					     caps[i].cap))
			TH_LOG("cap %ld on /dev/okvm", caps[i].cap);
		EXPECT_EQ(caps[i].val, ioctl(vm, KVM_CHECK_EXTENSION,
					     caps[i].cap))
			TH_LOG("cap %ld on the VM", caps[i].cap);
	}
	close(vm);
	close(dev);
}

TEST_F(memslot, create_and_lookup)
{
	const __u64 pg = self->pg;
	struct region r = std_slot(self, 0);
	const struct region flagged[] = {
		{ 3, RO, 0x400000, 2 * pg, hva_page(self, 20) },
		{ 4, LOG, 0x500000, 2 * pg, hva_page(self, 22) },
		{ 5, RO | LOG, 0x600000, 2 * pg, hva_page(self, 24) },
	};
	__u64 gen;
	unsigned int i;

	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva);
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ASSERT_EQ(0, set_region(self->vm, V1, &r));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));

	/* First, middle and last page; the last byte. */
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa, &r);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA,
		    r.gpa + r.size / 2 + 8, &r);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa + r.size - pg,
		    &r);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa + r.size - 1,
		    &r);
	/* The pages just before and after. */
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa - 1);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa - pg);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa + r.size);

	/* The same by HVA. */
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva, &r);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva + r.size / 2,
		    &r);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva + r.size - 1,
		    &r);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva - 1);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_HVA, r.hva + r.size);

	/* The canary is still there. */
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, CANARY_GPA,
		    &self->canary);

	/* Flags are reported as given, with either ioctl. */
	for (i = 0; i < ARRAY_SIZE(flagged); i++) {
		const struct region *f = &flagged[i];

		ASSERT_EQ(0, set_region(self->vm, i & 1 ? V1 : V2, f))
			TH_LOG("flags %#x", f->flags);
		expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, f->gpa, f);
		expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA,
			    f->hva + f->size - 1, f);
	}
}

struct bad_case {
	const char *what;
	struct region r;
	int err;
};

/*
 * Try @c with @v2's ioctl: it must fail with c->err and leave the canary,
 * the standard slot @std and whatever lies at @c's addresses unchanged.
 */
static void expect_refused(struct __test_metadata *_metadata, int vm, int v2,
			   const struct region *std, const struct bad_case *c)
{
	struct snapshot s = {};
	char what[160];
	int err;

	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, std);
	snap_probe_region(&s, &c->r);
	snap_take(vm, &s);

	err = set_region(vm, v2, &c->r);
	snprintf(what, sizeof(what), "%s (%s)", c->what, ioctl_name[v2]);
	EXPECT_EQ(c->err, err) TH_LOG("%s: %s", what, strerror(err));
	EXPECT_TRUE(snap_unchanged(_metadata, vm, &s, what));
}

TEST_F(memslot, bad_regions)
{
	const __u64 pg = self->pg;
	const struct region e = std_slot(self, 0);
	const __u64 fhva = hva_page(self, FREE_HVA_PAGE);
	const __u64 top = 0 - pg;	/* the last page of the 64-bit space */
	const struct bad_case cases[] = {
		{ "gpa not page aligned",
		  { FREE_ID, 0, FREE_GPA + pg / 2, pg, fhva }, EINVAL },
		{ "gpa one byte off",
		  { FREE_ID, 0, FREE_GPA + 1, pg, fhva }, EINVAL },
		{ "hva not page aligned",
		  { FREE_ID, 0, FREE_GPA, pg, fhva + pg / 2 }, EINVAL },
		{ "size not page aligned",
		  { FREE_ID, 0, FREE_GPA, pg + pg / 2, fhva }, EINVAL },
		{ "size one byte",
		  { FREE_ID, 0, FREE_GPA, 1, fhva }, EINVAL },
		{ "gpa + size wraps",
		  { FREE_ID, 0, top, 2 * pg, fhva }, EINVAL },
		{ "gpa + size wraps to 0",
		  { FREE_ID, 0, top, pg, fhva }, EINVAL },
		{ "hva + size wraps",
		  { FREE_ID, 0, FREE_GPA, 2 * pg, top }, EINVAL },
		{ "hva in the kernel half",
		  { FREE_ID, 0, FREE_GPA, pg, 0xffff800000000000ULL }, EINVAL },
		{ "hva with only bit 63 set",
		  { FREE_ID, 0, FREE_GPA, pg, 1ULL << 63 }, EINVAL },
		{ "hva above the user range",
		  { FREE_ID, 0, FREE_GPA, pg, 1ULL << 56 }, EINVAL },
		{ "slot id KVM_CAP_NR_MEMSLOTS",
		  { OKVM_NR_MEMSLOTS, 0, FREE_GPA, pg, fhva }, EINVAL },
		{ "slot id 32767",
		  { 32767, 0, FREE_GPA, pg, fhva }, EINVAL },
		{ "slot id 0xffff",
		  { 0xffff, 0, FREE_GPA, pg, fhva }, EINVAL },
		{ "address space 1",
		  { 1 << 16 | FREE_ID, 0, FREE_GPA, pg, fhva }, EINVAL },
		{ "address space 0xffff",
		  { 0xffffU << 16 | FREE_ID, 0, FREE_GPA, pg, fhva }, EINVAL },
		{ "address space 1, id of an existing slot",
		  { 1 << 16 | SLOT_ID, 0, e.gpa, e.size, e.hva }, EINVAL },
		{ "delete in address space 1",
		  { 1 << 16 | SLOT_ID, 0, e.gpa, 0, e.hva }, EINVAL },
		{ "delete of a free slot",
		  { FREE_ID, 0, 0, 0, 0 }, EINVAL },
		{ "delete of a free slot, with gpa and hva",
		  { FREE_ID, 0, FREE_GPA, 0, fhva }, EINVAL },
		{ "delete of id KVM_CAP_NR_MEMSLOTS",
		  { OKVM_NR_MEMSLOTS, 0, 0, 0, 0 }, EINVAL },
		{ "delete with an unknown flag",
		  { SLOT_ID, 1 << 7, e.gpa, 0, e.hva }, EINVAL },
		{ "delete with an unaligned hva",
		  { SLOT_ID, 0, e.gpa, 0, e.hva + 1 }, EINVAL },
		{ "existing slot made smaller",
		  { SLOT_ID, 0, e.gpa, e.size - pg, e.hva }, EINVAL },
		{ "existing slot made larger",
		  { SLOT_ID, 0, e.gpa, e.size + pg, e.hva }, EINVAL },
		{ "existing slot with another hva",
		  { SLOT_ID, 0, e.gpa, e.size, e.hva + pg }, EINVAL },
		{ "existing slot moved with another hva",
		  { SLOT_ID, 0, FREE_GPA, e.size, e.hva + pg }, EINVAL },
		{ "existing slot turned READONLY",
		  { SLOT_ID, RO, e.gpa, e.size, e.hva }, EINVAL },
		{ "existing slot turned READONLY with LOG_DIRTY_PAGES",
		  { SLOT_ID, RO | LOG, e.gpa, e.size, e.hva }, EINVAL },
		{ "existing slot moved and turned READONLY",
		  { SLOT_ID, RO, FREE_GPA, e.size, e.hva }, EINVAL },
		{ "overlap: the same range",
		  { FREE_ID, 0, e.gpa, e.size, fhva }, EEXIST },
		{ "overlap: the front",
		  { FREE_ID, 0, e.gpa - 2 * pg, 4 * pg, fhva }, EEXIST },
		{ "overlap: the back",
		  { FREE_ID, 0, e.gpa + e.size - 2 * pg, 4 * pg, fhva }, EEXIST },
		{ "overlap: containing",
		  { FREE_ID, 0, e.gpa - pg, e.size + 2 * pg, fhva }, EEXIST },
		{ "overlap: contained",
		  { FREE_ID, 0, e.gpa + 2 * pg, 2 * pg, fhva }, EEXIST },
		{ "overlap: the first page",
		  { FREE_ID, 0, e.gpa, pg, fhva }, EEXIST },
		{ "overlap: the last page",
		  { FREE_ID, 0, e.gpa + e.size - pg, pg, fhva }, EEXIST },
		{ "overlap: the canary",
		  { FREE_ID, 0, CANARY_GPA - pg, 2 * pg, fhva }, EEXIST },
	};
	unsigned int i, bit;
	int v2;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));

	for (v2 = V1; v2 <= V2; v2++)
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			expect_refused(_metadata, self->vm, v2, &e, &cases[i]);

	/*
	 * Every flag but LOG_DIRTY_PAGES and READONLY, on a new slot and on
	 * the existing one: bit 2 is KVM_MEM_GUEST_MEMFD, which okvm lacks.
	 */
	for (bit = 2; bit < 32; bit++) {
		char create_what[48], update_what[48];
		const struct bad_case create = {
			create_what,
			{ FREE_ID, 1U << bit, FREE_GPA, pg, fhva }, EINVAL
		};
		const struct bad_case update = {
			update_what,
			{ SLOT_ID, 1U << bit, e.gpa, e.size, e.hva }, EINVAL
		};

		snprintf(create_what, sizeof(create_what),
			 "flag bit %u, new slot", bit);
		snprintf(update_what, sizeof(update_what),
			 "flag bit %u, existing slot", bit);
		for (v2 = V1; v2 <= V2; v2++) {
			expect_refused(_metadata, self->vm, v2, &e, &create);
			expect_refused(_metadata, self->vm, v2, &e, &update);
		}
	}

	/* Still usable: the same ranges with good arguments work. */
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	EXPECT_EQ(0, okvm_set_region(self->vm, FREE_ID, 0, FREE_GPA, pg, fhva));
}

TEST_F(memslot, move)
{
	const __u64 pg = self->pg;
	struct region e = std_slot(self, 0);
	const struct region other = { 3, 0, 0x1000000, 4 * pg,
				      hva_page(self, 40) };
	const __u64 b = MOVE_GPA;
	/* Neighbours of e once it is at b, touching it on either side. */
	const struct region after = { 4, 0, b + e.size, pg,
				      hva_page(self, 44) };
	const struct region before = { 5, 0, b - 2 * pg, 2 * pg,
				       hva_page(self, 46) };
	const __u64 onto_other[] = { other.gpa - 2 * pg, other.gpa,
				     other.gpa + 2 * pg,
				     other.gpa + other.size - pg };
	struct snapshot s = {};
	unsigned int i;
	__u64 gen;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	ASSERT_EQ(0, set_region(self->vm, V1, &other));

	/* To a free range: found at the new GPA only, same HVA and size. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ASSERT_EQ(0, okvm_set_region(self->vm, SLOT_ID, 0, b, e.size, e.hva));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa + e.size - 1);
	e.gpa = b;
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, b, &e);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, b + e.size - 1, &e);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, e.hva, &e);

	/* Onto another slot: -EEXIST, nothing changed. */
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &e);
	snap_probe_region(&s, &other);
	snap_take(self->vm, &s);
	for (i = 0; i < ARRAY_SIZE(onto_other); i++) {
		EXPECT_EQ(EEXIST, okvm_set_region(self->vm, SLOT_ID, 0,
						  onto_other[i], e.size, e.hva))
			TH_LOG("move to %#llx",
			       (unsigned long long)onto_other[i]);
		EXPECT_EQ(EEXIST, okvm_set_region2(self->vm, SLOT_ID, 0,
						   onto_other[i], e.size,
						   e.hva));
	}
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "move onto a slot"));

	/* Over its own range, up by two pages and back down. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ASSERT_EQ(0, okvm_set_region(self->vm, SLOT_ID, 0, b + 2 * pg, e.size,
				     e.hva));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, b);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, b + 2 * pg - 1);
	e.gpa = b + 2 * pg;
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa + e.size - 1,
		    &e);
	ASSERT_EQ(0, okvm_set_region2(self->vm, SLOT_ID, 0, b, e.size, e.hva));
	e.gpa = b;
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, b, &e);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, b + e.size);

	/* Over its own range and into a neighbour: -EEXIST either way. */
	ASSERT_EQ(0, set_region(self->vm, V1, &after));
	ASSERT_EQ(0, set_region(self->vm, V1, &before));
	memset(&s, 0, sizeof(s));
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &e);
	snap_probe_region(&s, &after);
	snap_probe_region(&s, &before);
	snap_take(self->vm, &s);
	EXPECT_EQ(EEXIST, okvm_set_region(self->vm, SLOT_ID, 0, b + pg, e.size,
					  e.hva));
	EXPECT_EQ(EEXIST, okvm_set_region(self->vm, SLOT_ID, 0, b - pg, e.size,
					  e.hva));
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s,
				   "move into a neighbour"));
	ASSERT_EQ(0, delete_slot(self->vm, after.slot));
	ASSERT_EQ(0, delete_slot(self->vm, before.slot));

	/* Identical: success, no new generation. */
	memset(&s, 0, sizeof(s));
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &e);
	snap_take(self->vm, &s);
	EXPECT_EQ(0, set_region(self->vm, V1, &e));
	EXPECT_EQ(0, set_region(self->vm, V2, &e));
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "identical"));

	/* A move may change LOG_DIRTY_PAGES at the same time. */
	e.gpa = SLOT_GPA;
	e.flags = LOG;
	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, b);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, other.gpa, &other);
}

TEST_F(memslot, flags_only)
{
	const __u64 pg = self->pg;
	struct region e = std_slot(self, 0);
	struct region ro = { 3, RO, 0x400000, 2 * pg, hva_page(self, 20) };
	struct snapshot s = {};
	__u64 gen;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	ASSERT_EQ(0, set_region(self->vm, V1, &ro));

	/* LOG_DIRTY_PAGES on: same range, new flags, new generation. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	e.flags = LOG;
	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, e.hva, &e);

	/* Asking again changes nothing. */
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &e);
	snap_take(self->vm, &s);
	EXPECT_EQ(0, set_region(self->vm, V2, &e));
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "LOG again"));

	/* And off. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	e.flags = 0;
	ASSERT_EQ(0, set_region(self->vm, V2, &e));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);

	/* LOG_DIRTY_PAGES on a READONLY slot, READONLY kept. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ro.flags = RO | LOG;
	ASSERT_EQ(0, set_region(self->vm, V1, &ro));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, ro.gpa, &ro);
	ro.flags = RO;
	ASSERT_EQ(0, set_region(self->vm, V1, &ro));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, ro.gpa, &ro);
}

TEST_F(memslot, delete_and_recreate)
{
	const __u64 pg = self->pg;
	struct region e = std_slot(self, LOG);
	struct region again = { SLOT_ID, RO, 0x300000, 3 * pg,
				hva_page(self, 40) };
	__u64 gen;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	gen = generation(_metadata, self->vm, CANARY_GPA);

	/* DELETE looks at the id only: gpa and hva may be anything valid. */
	ASSERT_EQ(0, delete_slot(self->vm, SLOT_ID));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa + e.size - 1);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_HVA, e.hva);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, CANARY_GPA,
		    &self->canary);
	EXPECT_EQ(EINVAL, delete_slot(self->vm, SLOT_ID));

	/* The id is free again: another GPA, size, HVA and flags. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ASSERT_EQ(0, set_region(self->vm, V2, &again));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, again.gpa, &again);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, again.hva, &again);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa);

	/* And its old range can take another id. */
	e.slot = FREE_ID;
	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);

	/* DELETE through REGION2, with the old fields given. */
	gen = generation(_metadata, self->vm, CANARY_GPA);
	ASSERT_EQ(0, okvm_set_region2(self->vm, SLOT_ID, again.flags,
				      again.gpa, 0, again.hva));
	EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, again.gpa);
}

TEST_F(memslot, adjacent_and_shared_hva)
{
	const __u64 pg = self->pg;
	const struct region e = std_slot(self, 0);
	const struct region shared[] = {
		/* Touching the front and the back of e. */
		{ 3, 0, e.gpa - 2 * pg, 2 * pg, hva_page(self, 30) },
		{ 4, 0, e.gpa + e.size, 2 * pg, hva_page(self, 32) },
		/* e's HVA range, whole and in part. */
		{ 5, 0, 0x1000000, e.size, e.hva },
		{ 6, RO, 0x2000000, 4 * pg, e.hva + 6 * pg },
		/* The canary's HVA. */
		{ 7, 0, 0x3000000, pg, self->canary.hva },
	};
	unsigned int i;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	for (i = 0; i < ARRAY_SIZE(shared); i++) {
		const struct region *r = &shared[i];

		ASSERT_EQ(0, set_region(self->vm, V1, r)) TH_LOG("slot %u",
								 r->slot);
	}
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa + e.size - 1,
		    &e);
	for (i = 0; i < ARRAY_SIZE(shared); i++) {
		const struct region *r = &shared[i];

		expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r->gpa, r);
		expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA,
			    r->gpa + r->size - 1, r);
	}
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, CANARY_GPA,
		    &self->canary);
}

struct fail_case {
	const char *what;
	__u32 step;
	struct region before;	/* slot SLOT_ID before; size 0: none */
	struct region update;	/* the update that must fail once */
};

static const char * const step_name[] = {
	"SLOT_ALLOC", "INVALID_ALLOC", "BITMAP_ALLOC", "ARCH_PREPARE",
};

/*
 * Each update (a change type reaching a step) fails with -ENOMEM when the
 * step is armed, leaves the slot table and generation exactly as they
 * were, and succeeds once the step is disarmed.
 */
TEST_F(memslot, seed002_failed_update_changes_nothing)
{
	const struct region none = {};
	const struct region a = std_slot(self, 0), a_log = std_slot(self, LOG);
	const struct region del = { SLOT_ID, 0, SLOT_GPA, 0, a.hva };
	const struct region b = { SLOT_ID, 0, MOVE_GPA, a.size, a.hva };
	const struct region b_log = { SLOT_ID, LOG, MOVE_GPA, a.size, a.hva };
	const struct fail_case cases[] = {
		{ "CREATE", OKVM_FAIL_SLOT_ALLOC, none, a },
		{ "CREATE", OKVM_FAIL_ARCH_PREPARE, none, a },
		{ "CREATE with LOG", OKVM_FAIL_SLOT_ALLOC, none, a_log },
		{ "CREATE with LOG", OKVM_FAIL_BITMAP_ALLOC, none, a_log },
		{ "CREATE with LOG", OKVM_FAIL_ARCH_PREPARE, none, a_log },
		{ "DELETE", OKVM_FAIL_INVALID_ALLOC, a, del },
		{ "DELETE", OKVM_FAIL_ARCH_PREPARE, a, del },
		{ "DELETE of a LOG slot", OKVM_FAIL_INVALID_ALLOC, a_log, del },
		{ "DELETE of a LOG slot", OKVM_FAIL_ARCH_PREPARE, a_log, del },
		{ "MOVE", OKVM_FAIL_SLOT_ALLOC, a, b },
		{ "MOVE", OKVM_FAIL_INVALID_ALLOC, a, b },
		{ "MOVE", OKVM_FAIL_ARCH_PREPARE, a, b },
		{ "MOVE of a LOG slot", OKVM_FAIL_SLOT_ALLOC, a_log, b_log },
		{ "MOVE of a LOG slot", OKVM_FAIL_INVALID_ALLOC, a_log, b_log },
		{ "MOVE of a LOG slot", OKVM_FAIL_ARCH_PREPARE, a_log, b_log },
		/* As in KVM, a MOVE that turns logging on needs a bitmap. */
		{ "MOVE with LOG on", OKVM_FAIL_BITMAP_ALLOC, a, b_log },
		{ "FLAGS_ONLY LOG on", OKVM_FAIL_SLOT_ALLOC, a, a_log },
		{ "FLAGS_ONLY LOG on", OKVM_FAIL_BITMAP_ALLOC, a, a_log },
		{ "FLAGS_ONLY LOG on", OKVM_FAIL_ARCH_PREPARE, a, a_log },
		{ "FLAGS_ONLY LOG off", OKVM_FAIL_SLOT_ALLOC, a_log, a },
		{ "FLAGS_ONLY LOG off", OKVM_FAIL_ARCH_PREPARE, a_log, a },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct fail_case *c = &cases[i];
		struct snapshot s = {};
		char what[80];
		__u64 gen;
		int err;

		snprintf(what, sizeof(what), "%s, %s fails", c->what,
			 step_name[c->step]);
		delete_slot(self->vm, SLOT_ID);
		if (c->before.size)
			ASSERT_EQ(0, set_region(self->vm, V1, &c->before))
				TH_LOG("%s: setup", what);

		snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
		snap_probe_region(&s, &c->before);
		snap_probe_region(&s, &c->update);
		snap_take(self->vm, &s);
		gen = generation(_metadata, self->vm, CANARY_GPA);

		ASSERT_EQ(0, okvm_fail_step(self->vm, c->step, 1));
		err = set_region(self->vm, V1, &c->update);
		EXPECT_EQ(ENOMEM, err) TH_LOG("%s: %s", what, strerror(err));
		EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, what));
		ASSERT_EQ(0, okvm_fail_step(self->vm, c->step, 0));

		/* Disarmed, the same update goes through. */
		err = set_region(self->vm, V1, &c->update);
		EXPECT_EQ(0, err) TH_LOG("%s, then disarmed: %s", what,
					 strerror(err));
		EXPECT_LT(gen, generation(_metadata, self->vm, CANARY_GPA))
			TH_LOG("%s", what);
		if (c->update.size) {
			expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA,
				    c->update.gpa, &c->update);
			expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA,
				    c->update.gpa + c->update.size - 1,
				    &c->update);
		} else {
			expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
				    c->before.gpa);
		}
		if (c->before.size && c->before.gpa != c->update.gpa)
			expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
				    c->before.gpa);
	}
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, CANARY_GPA,
		    &self->canary);
}

/* nth, one-shot, and steps left armed by updates that do not reach them. */
TEST_F(memslot, fail_step_arming)
{
	const __u64 pg = self->pg;
	struct region a = std_slot(self, 0);
	const struct region r3 = { 3, 0, 0x1000000, pg, hva_page(self, 40) };
	const struct region r4 = { 4, 0, 0x1100000, pg, hva_page(self, 41) };

	/* Not reached by CREATE without LOG: stays armed for FLAGS_ONLY. */
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_BITMAP_ALLOC, 1));
	ASSERT_EQ(0, set_region(self->vm, V1, &a));
	a.flags = LOG;
	EXPECT_EQ(ENOMEM, set_region(self->vm, V1, &a));
	/* One-shot. */
	EXPECT_EQ(0, set_region(self->vm, V1, &a));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, a.gpa, &a);

	/* Not reached by CREATE or FLAGS_ONLY: hits the DELETE after. */
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_INVALID_ALLOC, 1));
	EXPECT_EQ(0, set_region(self->vm, V1, &r3));
	a.flags = 0;
	EXPECT_EQ(0, set_region(self->vm, V1, &a));
	EXPECT_EQ(ENOMEM, delete_slot(self->vm, r3.slot));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r3.gpa, &r3);
	EXPECT_EQ(0, delete_slot(self->vm, r3.slot));

	/* A refused update (-EEXIST) does not use up the armed step. */
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_SLOT_ALLOC, 1));
	EXPECT_EQ(EEXIST, okvm_set_region(self->vm, r3.slot, 0, a.gpa, pg,
					  r3.hva));
	EXPECT_EQ(ENOMEM, set_region(self->vm, V1, &r3));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r3.gpa);

	/* nth = 2: the second pass fails, not the first. */
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_SLOT_ALLOC, 2));
	EXPECT_EQ(0, set_region(self->vm, V1, &r3));
	EXPECT_EQ(ENOMEM, set_region(self->vm, V2, &r4));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r4.gpa);
	EXPECT_EQ(0, set_region(self->vm, V2, &r4));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r4.gpa, &r4);

	/* nth = 0 disarms. */
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_ARCH_PREPARE, 1));
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_ARCH_PREPARE, 0));
	EXPECT_EQ(0, delete_slot(self->vm, r4.slot));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, r4.gpa);
}

/*
 * The end @limit of a VM's guest physical space: a slot ending exactly
 * there is accepted, one page further is refused, also for a MOVE. The
 * VM must have a slot at @gen_gpa. Uses ids 20 and 21.
 */
static void check_gpa_limit(struct __test_metadata *_metadata, int vm,
			    __u64 limit, __u64 gen_gpa, __u64 hva)
{
	const __u64 pg = page_size();
	const struct region top = { 20, 0, limit - 2 * pg, 2 * pg, hva };
	const struct bad_case beyond[] = {
		{ "straddling the limit", { 21, 0, limit - pg, 2 * pg, hva },
		  GPA_LIMIT_ERRNO },
		{ "at the limit", { 21, 0, limit, pg, hva }, GPA_LIMIT_ERRNO },
		{ "far beyond", { 21, 0, limit * 2, pg, hva },
		  GPA_LIMIT_ERRNO },
	};
	const struct region gen_slot = { 0, 0, gen_gpa, pg, 0 };
	const struct bad_case move_up = {
		"MOVE one page up", { 20, 0, limit - pg, 2 * pg, hva },
		GPA_LIMIT_ERRNO
	};
	unsigned int i;
	int v2;

	TH_LOG("guest physical limit %#llx", (unsigned long long)limit);
	for (v2 = V1; v2 <= V2; v2++)
		for (i = 0; i < ARRAY_SIZE(beyond); i++)
			expect_refused(_metadata, vm, v2, &gen_slot, &beyond[i]);

	ASSERT_EQ(0, set_region(vm, V1, &top));
	expect_slot(_metadata, vm, OKVM_LOOKUP_GPA, limit - 2 * pg, &top);
	expect_slot(_metadata, vm, OKVM_LOOKUP_GPA, limit - 1, &top);
	expect_none(_metadata, vm, OKVM_LOOKUP_GPA, limit);

	for (v2 = V1; v2 <= V2; v2++)
		expect_refused(_metadata, vm, v2, &top, &move_up);
	expect_slot(_metadata, vm, OKVM_LOOKUP_GPA, limit - 1, &top);

	/* Down a page and back up to the top. */
	EXPECT_EQ(0, okvm_set_region(vm, 20, 0, limit - 3 * pg, 2 * pg, hva));
	expect_none(_metadata, vm, OKVM_LOOKUP_GPA, limit - 1);
	EXPECT_EQ(0, set_region(vm, V2, &top));
	expect_slot(_metadata, vm, OKVM_LOOKUP_GPA, limit - 1, &top);
	EXPECT_EQ(0, delete_slot(vm, 20));
}

TEST_F(memslot, seed003_gpa_above_4g_and_at_top)
{
	const __u64 pg = self->pg;
	const struct region low = { 3, 0, 0x20000, 2 * pg, hva_page(self, 20) };
	const struct region high[] = {
		{ 4, 0, 1ULL << 32, 2 * pg, hva_page(self, 22) },
		{ 5, 0, (1ULL << 39) - pg, pg, hva_page(self, 24) },
		{ 6, LOG, 0x1234560000ULL, 3 * pg, hva_page(self, 26) },
		{ 7, 0, (1ULL << 32) | 0x40000, pg, hva_page(self, 30) },
	};
	unsigned int i;

	ASSERT_EQ(0, set_region(self->vm, V1, &low));
	for (i = 0; i < ARRAY_SIZE(high); i++) {
		const struct region *r = &high[i];
		int err = set_region(self->vm, i & 1 ? V1 : V2, r);

		EXPECT_EQ(0, err) TH_LOG("gpa %#llx: %s",
					 (unsigned long long)r->gpa,
					 strerror(err));
	}

	/* Found at their exact 64-bit GPAs, and by HVA. */
	for (i = 0; i < ARRAY_SIZE(high); i++) {
		const struct region *r = &high[i];

		expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r->gpa, r);
		expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA,
			    r->gpa + r->size - 1, r);
		expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
			    r->gpa + r->size);
		expect_slot(_metadata, self->vm, OKVM_LOOKUP_HVA, r->hva, r);
		/* Truncated to 32 bits nothing is there. */
		expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
			    (__u32)r->gpa);
	}
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, (1ULL << 32) - 1);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, 0x40000);

	/* A GPA equal to a low slot's but for a high bit is not that slot. */
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, low.gpa, &low);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, low.gpa | 1ULL << 32);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, low.gpa | 1ULL << 36);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
		    CANARY_GPA | 1ULL << 32);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA,
		    CANARY_GPA | 1ULL << 63);

	/* A high slot may be moved below 4 GiB and back. */
	ASSERT_EQ(0, okvm_set_region(self->vm, high[0].slot, 0, 0x100000,
				     high[0].size, high[0].hva));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, high[0].gpa);
	ASSERT_EQ(0, set_region(self->vm, V1, &high[0]));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, high[0].gpa,
		    &high[0]);

	check_gpa_limit(_metadata, self->vm, default_gpa_limit(), CANARY_GPA,
			hva_page(self, 40));

#ifdef __aarch64__
	{
		/* The smallest and the largest IPA space a VM may have. */
		int max = ioctl(self->dev, KVM_CHECK_EXTENSION,
				KVM_CAP_ARM_VM_IPA_SIZE);
		const int bits[] = { 32, max };

		ASSERT_LE(40, max);
		for (i = 0; i < ARRAY_SIZE(bits); i++) {
			int vm = okvm_create_vm(self->dev,
						KVM_VM_TYPE_ARM_IPA_SIZE(bits[i]));

			ASSERT_LE(0, vm) TH_LOG("IPA %d bits", bits[i]);
			ASSERT_EQ(0, okvm_set_region(vm, 0, 0, 0, pg,
						     hva_page(self, 42)));
			check_gpa_limit(_metadata, vm, 1ULL << bits[i], 0,
					hva_page(self, 44));
			close(vm);
		}
	}
#endif
}

/* KVM_MEM_MAX_NR_PAGES: 2^31 pages or more is -EINVAL before any arch check. */
TEST_F(memslot, slot_over_max_pages)
{
	const struct bad_case big = {
		"2^31 pages", { FREE_ID, 0, 0, TOO_MANY_PAGES * self->pg,
				1ULL << 44 }, EINVAL
	};
	const struct region e = std_slot(self, 0);
	int v2;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	for (v2 = V1; v2 <= V2; v2++)
		expect_refused(_metadata, self->vm, v2, &e, &big);
}

/* KVM_SET_USER_MEMORY_REGION reads its 32 bytes, REGION2 all 160. */
TEST_F(memslot, struct_sizes)
{
	const __u64 pg = self->pg;
	const struct kvm_userspace_memory_region v1 = {
		FREE_ID, 0, FREE_GPA, pg, hva_page(self, FREE_HVA_PAGE)
	};
	const struct region r = { FREE_ID, 0, FREE_GPA, pg,
				  hva_page(self, FREE_HVA_PAGE) };
	const struct region r3 = { 3, 0, 0x300000, pg, hva_page(self, 40) };
	struct kvm_userspace_memory_region2 *v2;
	struct snapshot s = {};
	char *buf;

	/* The v1 struct ends where an inaccessible page begins. */
	buf = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mprotect(buf + pg, pg, PROT_NONE));
	memcpy(buf + pg - sizeof(v1), &v1, sizeof(v1));
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION,
			   buf + pg - sizeof(v1)) ? errno : 0);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa, &r);

	/* The same 32 bytes as a REGION2 run into that page: -EFAULT. */
	v2 = (void *)(buf + pg - sizeof(v1));
	v2->slot = r3.slot;
	v2->guest_phys_addr = r3.gpa;
	v2->memory_size = r3.size;
	v2->userspace_addr = r3.hva;
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &r3);
	snap_take(self->vm, &s);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION2, v2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "short REGION2"));

	/* A whole REGION2 before that page is read. */
	v2 = (void *)(buf + pg - sizeof(*v2));
	memset(v2, 0, sizeof(*v2));
	v2->slot = r3.slot;
	v2->guest_phys_addr = r3.gpa;
	v2->memory_size = r3.size;
	v2->userspace_addr = r3.hva;
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION2, v2) ?
		     errno : 0);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r3.gpa, &r3);
	munmap(buf, 2 * pg);
}

/*
 * As in KVM, REGION2's guest_memfd_offset, guest_memfd and padding are
 * not looked at without KVM_MEM_GUEST_MEMFD; with it the call fails.
 */
TEST_F(memslot, region2_guest_memfd_fields)
{
	const __u64 pg = self->pg;
	const struct region r = { FREE_ID, 0, FREE_GPA, pg,
				  hva_page(self, FREE_HVA_PAGE) };
	struct kvm_userspace_memory_region2 v2;
	struct snapshot s = {};
	unsigned int i;

	memset(&v2, 0, sizeof(v2));
	v2.slot = FREE_ID;
	v2.flags = KVM_MEM_GUEST_MEMFD;
	v2.guest_phys_addr = r.gpa;
	v2.memory_size = r.size;
	v2.userspace_addr = r.hva;
	v2.guest_memfd = 0;
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &r);
	snap_take(self->vm, &s);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION2, &v2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "GUEST_MEMFD"));

	v2.flags = 0;
	v2.guest_memfd_offset = 0x123;
	v2.guest_memfd = 0xffffffff;
	v2.pad1 = 0xdead;
	for (i = 0; i < ARRAY_SIZE(v2.pad2); i++)
		v2.pad2[i] = ~0ULL;
	EXPECT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION2, &v2) ?
		     errno : 0);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa, &r);
}

TEST_F(memslot, bad_pointers)
{
	struct snapshot s = {};

	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_take(self->vm, &s);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION2, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, OKVM_TEST_MEMSLOT_LOOKUP, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->vm, OKVM_TEST_FAIL_STEP, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "NULL pointers"));
}

TEST_F(memslot, two_vms_independent)
{
	const __u64 pg = self->pg;
	const struct region e = std_slot(self, 0);
	const struct region other = { SLOT_ID, LOG, 0x300000, 2 * pg,
				      hva_page(self, 40) };
	/* The same GPA as e in the second VM is no overlap. */
	const struct region same_gpa = { 3, 0, e.gpa, e.size, e.hva };
	__u64 gen2;
	int vm2;

	vm2 = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, vm2);
	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	ASSERT_EQ(0, set_region(vm2, V1, &other));
	ASSERT_EQ(0, set_region(vm2, V1, &same_gpa));

	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, other.gpa);
	expect_slot(_metadata, vm2, OKVM_LOOKUP_GPA, other.gpa, &other);
	expect_slot(_metadata, vm2, OKVM_LOOKUP_GPA, e.gpa, &same_gpa);
	expect_none(_metadata, vm2, OKVM_LOOKUP_GPA, CANARY_GPA);

	/* Updates and armed failures of one VM leave the other alone. */
	gen2 = generation(_metadata, vm2, other.gpa);
	ASSERT_EQ(0, delete_slot(self->vm, SLOT_ID));
	ASSERT_EQ(0, okvm_fail_step(self->vm, OKVM_FAIL_SLOT_ALLOC, 1));
	EXPECT_EQ(gen2, generation(_metadata, vm2, other.gpa));
	expect_slot(_metadata, vm2, OKVM_LOOKUP_GPA, other.gpa, &other);
	expect_slot(_metadata, vm2, OKVM_LOOKUP_GPA, e.gpa, &same_gpa);
	EXPECT_EQ(0, okvm_set_region(vm2, 4, 0, 0x500000, pg,
				     hva_page(self, 42)));
	EXPECT_EQ(ENOMEM, set_region(self->vm, V1, &e));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa);

	/* Closing one VM does not touch the other's slots. */
	close(vm2);
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, CANARY_GPA,
		    &self->canary);
	EXPECT_EQ(0, set_region(self->vm, V1, &e));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, e.gpa, &e);
}

/* A VM is only usable from the mm that created it: -EIO from a child. */
TEST_F(memslot, other_mm_eio)
{
	const __u64 pg = self->pg;
	const struct region e = std_slot(self, 0);
	const struct region r = { FREE_ID, 0, FREE_GPA, pg,
				  hva_page(self, FREE_HVA_PAGE) };
	struct snapshot s = {};
	int status;
	pid_t pid;

	ASSERT_EQ(0, set_region(self->vm, V1, &e));
	snap_probe(&s, OKVM_LOOKUP_GPA, CANARY_GPA);
	snap_probe_region(&s, &e);
	snap_probe_region(&s, &r);
	snap_take(self->vm, &s);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const struct region del = { SLOT_ID, 0, 0, 0, 0 };
		const struct region bad = { FREE_ID, 1 << 9, 1, 1, 1 };
		struct okvm_test_memslot m;
		int code = 0;

		if (set_region(self->vm, V1, &r) != EIO)
			code = 1;
		else if (set_region(self->vm, V2, &r) != EIO)
			code = 2;
		else if (set_region(self->vm, V1, &del) != EIO)
			code = 3;
		else if (set_region(self->vm, V1, &bad) != EIO)
			code = 4;
		else if (okvm_lookup(self->vm, OKVM_LOOKUP_GPA, e.gpa, &m) != EIO)
			code = 5;
		else if (okvm_fail_step(self->vm, OKVM_FAIL_SLOT_ALLOC, 1) != EIO)
			code = 6;
		_exit(code);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("check %d in the child", WEXITSTATUS(status));
	EXPECT_TRUE(snap_unchanged(_metadata, self->vm, &s, "child's calls"));

	/* Nothing was armed by the child either. */
	EXPECT_EQ(0, set_region(self->vm, V1, &r));
	expect_slot(_metadata, self->vm, OKVM_LOOKUP_GPA, r.gpa, &r);
}

/* A VM without the canary, for tests that need every slot id. */
FIXTURE(bare) {
	int dev;
	int vm;
	void *page;
};

FIXTURE_SETUP(bare)
{
	self->vm = -1;
	self->page = MAP_FAILED;
	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	self->page = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
}

FIXTURE_TEARDOWN(bare)
{
	if (self->vm >= 0)
		close(self->vm);
	if (self->dev >= 0)
		close(self->dev);
	if (self->page != MAP_FAILED)
		munmap(self->page, page_size());
}

/* Report at most this many bad slots of one pass, then only count. */
#define MAX_REPORTS	5

/*
 * KVM_CAP_NR_MEMSLOTS one-page slots, one page apart in GPA, all on the
 * same page of HVA: every one created, found and deleted. Under TCG this
 * takes a while; single-threaded on purpose.
 */
TEST_F_TIMEOUT(bare, max_slots, 1500)
{
	const __u64 pg = page_size();
	const __u64 hva = (unsigned long)self->page;
	int nr = ioctl(self->dev, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	struct okvm_test_memslot m;
	__u64 gen_first = 0, gen_last;
	int i, err, bad = 0;
	double t;

	ASSERT_EQ(OKVM_NR_MEMSLOTS, nr);

	t = now_seconds();
	for (i = 0; i < nr; i++) {
		err = okvm_set_region(self->vm, i, 0, i * pg, pg, hva);
		ASSERT_EQ(0, err) TH_LOG("create slot %d: %s", i,
					 strerror(err));
		if (i == 0) {
			ASSERT_EQ(0, okvm_lookup(self->vm, OKVM_LOOKUP_GPA, 0,
						 &m));
			gen_first = m.generation;
		}
	}
	ksft_print_msg("create %d slots: %.2f s\n", nr, now_seconds() - t);

	/* Each slot is found at its GPA, first and last byte. */
	for (i = 0; i < nr; i++) {
		__u64 gpa = i * pg + (i & 1 ? pg - 1 : 0);

		err = okvm_lookup(self->vm, OKVM_LOOKUP_GPA, gpa, &m);
		if (!err && m.slot == (__u32)i && m.guest_phys_addr == i * pg &&
		    m.memory_size == pg && m.userspace_addr == hva)
			continue;
		if (bad++ < MAX_REPORTS)
			TH_LOG("lookup %#llx: %s, slot %u gpa %#llx",
			       (unsigned long long)gpa, strerror(err), m.slot,
			       (unsigned long long)m.guest_phys_addr);
	}
	EXPECT_EQ(0, bad);
	gen_last = m.generation;
	/* Each CREATE made a new generation. */
	EXPECT_LE(gen_first + nr - 1, gen_last);
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, nr * pg);

	/* One i more is refused, with the table full or not. */
	EXPECT_EQ(EINVAL, okvm_set_region(self->vm, nr, 0, nr * pg, pg, hva));
	expect_none(_metadata, self->vm, OKVM_LOOKUP_GPA, nr * pg);

	t = now_seconds();
	for (i = 0; i < nr; i++) {
		err = delete_slot(self->vm, i);
		ASSERT_EQ(0, err) TH_LOG("delete slot %d: %s", i,
					 strerror(err));
	}
	ksft_print_msg("delete %d slots: %.2f s\n", nr, now_seconds() - t);

	bad = 0;
	for (i = 0; i < nr; i++) {
		err = okvm_lookup(self->vm, OKVM_LOOKUP_GPA, i * pg, &m);
		if (err != ENOENT && bad++ < MAX_REPORTS)
			TH_LOG("lookup %#llx after delete: %s, slot %u",
			       (unsigned long long)(i * pg), strerror(err),
			       m.slot);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(EINVAL, okvm_set_region(self->vm, nr, 0, nr * pg, pg, hva));
}

OKVM_RELOAD_FIXTURE();

TEST_F(reload, testing_off_eperm)
{
	struct okvm_test_memslot m;
	int dev, vm;
	void *mem;

	mem = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);

	ASSERT_EQ(0, okvm_unload());
	ASSERT_EQ(0, okvm_load(""));
	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);

	/* The memslot ioctls work; the test interface says no. */
	EXPECT_EQ(0, okvm_set_region(vm, 0, 0, 0, page_size(),
				     (unsigned long)mem));
	EXPECT_EQ(EPERM, okvm_lookup(vm, OKVM_LOOKUP_GPA, 0, &m));
	EXPECT_EQ(EPERM, okvm_lookup(vm, OKVM_LOOKUP_HVA,
				     (unsigned long)mem, &m));
	EXPECT_EQ(EPERM, okvm_fail_step(vm, OKVM_FAIL_SLOT_ALLOC, 1));
	EXPECT_EQ(EPERM, okvm_fail_step(vm, OKVM_FAIL_SLOT_ALLOC, 0));
	/* Nothing was armed. */
	EXPECT_EQ(0, okvm_set_region(vm, 1, 0, page_size(), page_size(),
				     (unsigned long)mem));
	close(vm);
	close(dev);

	ASSERT_EQ(0, okvm_unload());
	ASSERT_EQ(0, okvm_load("testing=1"));
	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	EXPECT_EQ(ENOENT, okvm_lookup(vm, OKVM_LOOKUP_GPA, 0, &m));
	EXPECT_EQ(0, okvm_set_region(vm, 0, 0, 0, page_size(),
				     (unsigned long)mem));
	EXPECT_EQ(0, okvm_lookup(vm, OKVM_LOOKUP_GPA, 0, &m));
	close(vm);
	close(dev);
	munmap(mem, page_size());
}

TEST_HARNESS_MAIN
