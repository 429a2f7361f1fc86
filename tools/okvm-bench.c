// SPDX-License-Identifier: GPL-2.0
/*
 * okvm-bench: guest-driven micro-benchmarks of an arm64 hypervisor, using
 * only the KVM userspace ABI, so that the same binary measures okvm and the
 * in-tree KVM.
 *
 * One tiny guest program (below, copied into guest RAM, run at EL1 with the
 * MMU off) serves every benchmark. It asks the host for a command through
 * three MMIO reads, runs it, reports completion with an MMIO write and asks
 * again. The host answers the last read, starts the clock, enters the guest
 * and stops the clock at the completion exit: one timed KVM_RUN covers
 * exactly the work, plus one entry and one exit.
 *
 * Output: one line per metric,
 *   bench <metric> <median> <unit> (n=<repetitions>)
 * plus "info" and "#" lines. Exit status 0 only if every benchmark ran
 * without an unexpected exit or error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#ifndef __aarch64__
#error "okvm-bench is an arm64 program"
#endif

/* Guest physical layout */
#define CODE_GPA	0x40000000ULL	/* slot 0: the guest program */
#define CODE_SIZE	0x10000UL
#define DATA_GPA	0x80000000ULL	/* slot 1: touched memory (2 MiB aligned) */
#define MMIO_GPA	0x10000000ULL	/* the command window, in no slot */
#define SLOTS_GPA	0x100000000ULL	/* memslot benchmark: created here */
#define MOVED_GPA	0x200000000ULL	/* ... and moved here */

/* Offsets in the command window (see the guest program) */
#define W_OP		0	/* read: the command */
#define W_ADDR		8	/* read: its address argument */
#define W_COUNT		16	/* read: its count argument */
#define W_DONE		24	/* write: command finished (value: result) */
#define W_TICK		32	/* write: one MMIO round trip */
#define W_BADOP		40	/* write: the guest got an unknown command */

enum { OP_TOUCH = 1, OP_MMIO = 2, OP_HVC = 3 };

#define SZ_2M		(2UL << 20)
#define GUEST_PAGE	4096UL		/* the guest's touch stride */

/*
 * The guest program. Position independent, x20 holds the command window's
 * address (set by the host; SMCCC calls preserve x18-x30). Only loads and stores with an unsigned
 * immediate offset touch the window, so every MMIO abort carries a valid
 * syndrome; all accesses are 8-byte aligned (with the MMU off, data
 * accesses are Device memory).
 */
asm(
"	.pushsection .rodata, \"a\"\n"
"	.balign 8\n"
"	.global bench_guest, bench_guest_end\n"
"bench_guest:\n"
"1:	ldr	x1, [x20, #8]\n"	/* W_ADDR */
"	ldr	x2, [x20, #16]\n"	/* W_COUNT */
"	ldr	x3, [x20, #0]\n"	/* W_OP: the timed run starts here */
"	mov	x21, #0\n"
"	cmp	x3, #1\n"
"	b.eq	10f\n"
"	cmp	x3, #2\n"
"	b.eq	20f\n"
"	cmp	x3, #3\n"
"	b.eq	30f\n"
"	str	x3, [x20, #40]\n"	/* W_BADOP */
"	b	1b\n"
	/* OP_TOUCH: one 8-byte store at the start of each 4 KiB page */
"10:	cbz	x2, 90f\n"
"11:	str	x2, [x1]\n"
"	add	x1, x1, #4096\n"
"	subs	x2, x2, #1\n"
"	b.ne	11b\n"
"	b	90f\n"
	/* OP_MMIO: count stores to the window, each one exit to the host */
"20:	cbz	x2, 90f\n"
"21:	str	x2, [x20, #32]\n"	/* W_TICK */
"	subs	x2, x2, #1\n"
"	b.ne	21b\n"
"	b	90f\n"
	/*
	 * OP_HVC: SMCCC_ARCH_FEATURES (0x80000001) for a feature id nobody
	 * implements; the hypervisor answers NOT_SUPPORTED (-1) in the kernel.
	 * x21 counts the answers that were anything else. SMCCC returns
	 * in x0-x3 and preserves x18-x30: the loop counts in x22.
	 */
"30:	cbz	x2, 90f\n"
"	mov	x22, x2\n"
"31:	movz	w0, #0x8000, lsl #16\n"
"	movk	w0, #0x0001\n"
"	movz	w1, #0x8000, lsl #16\n"
"	movk	w1, #0x0fff\n"
"	hvc	#0\n"
"	cmn	w0, #1\n"
"	cinc	x21, x21, ne\n"
"	subs	x22, x22, #1\n"
"	b.ne	31b\n"
"90:	str	x21, [x20, #24]\n"	/* W_DONE */
"	b	1b\n"
"bench_guest_end:\n"
"	.popsection\n"
);
extern const char bench_guest[], bench_guest_end[];

static const char *dev_path = "/dev/kvm";
static int reps = 9;
static const char *only;
static int kvm_fd = -1;
static long page_size;

static void fail(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "okvm-bench: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *metric, double *v, int n, const char *unit)
{
	printf("bench %s %.3f %s (n=%d)\n", metric, median(v, n), unit, n);
	fflush(stdout);
}

/* ---------------------------------------------------------------- VMs */

struct vm {
	int fd;
	int vcpu;
	struct kvm_run *run;
	size_t run_size;
	void *code;
};

static int set_slot(struct vm *vm, uint32_t slot, uint32_t flags,
		    uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static uint64_t core_reg(size_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (off / 4);
}

static int set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)&val };

	return ioctl(vcpu, KVM_SET_ONE_REG, &r);
}

static void vm_close(struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->code)
		munmap(vm->code, CODE_SIZE);
	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->vcpu = -1;
}

/* A VM; with_vcpu: plus one vCPU at the guest program, and its RAM. */
static int vm_open(struct vm *vm, const char *what, int with_vcpu)
{
	struct kvm_vcpu_init init;
	int sz;

	memset(vm, 0, sizeof(*vm));
	vm->vcpu = -1;
	vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		fail(what, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	if (!with_vcpu)
		return 0;

	vm->code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->code == MAP_FAILED) {
		vm->code = NULL;
		fail(what, "mmap: %s", strerror(errno));
		goto err;
	}
	memcpy(vm->code, bench_guest, bench_guest_end - bench_guest);
	if (set_slot(vm, 0, 0, CODE_GPA, CODE_SIZE, vm->code)) {
		fail(what, "code slot: %s", strerror(errno));
		goto err;
	}
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0) {
		fail(what, "KVM_CREATE_VCPU: %s", strerror(errno));
		goto err;
	}
	sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		fail(what, "KVM_GET_VCPU_MMAP_SIZE: %d (%s)", sz, strerror(errno));
		goto err;
	}
	vm->run_size = sz;
	vm->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		fail(what, "mmap kvm_run: %s", strerror(errno));
		goto err;
	}
	memset(&init, 0, sizeof(init));
	if (ioctl(vm->fd, KVM_ARM_PREFERRED_TARGET, &init)) {
		fail(what, "KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		goto err;
	}
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vm->vcpu, KVM_ARM_VCPU_INIT, &init)) {
		fail(what, "KVM_ARM_VCPU_INIT: %s", strerror(errno));
		goto err;
	}
	if (set_reg(vm->vcpu, core_reg(offsetof(struct kvm_regs, regs.pc)), CODE_GPA) ||
	    set_reg(vm->vcpu, core_reg(offsetof(struct kvm_regs, regs.regs[20])), MMIO_GPA)) {
		fail(what, "KVM_SET_ONE_REG: %s", strerror(errno));
		goto err;
	}
	return 0;
err:
	vm_close(vm);
	return -1;
}

/*
 * Enter the guest once; it must exit with an access to the command window.
 * Returns the window offset, or -1.
 */
static long vm_enter(struct vm *vm, const char *what, int *is_write)
{
	struct kvm_run *run = vm->run;

	if (ioctl(vm->vcpu, KVM_RUN, 0)) {
		fail(what, "KVM_RUN: %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_MMIO) {
		fail(what, "unexpected exit reason %u", run->exit_reason);
		return -1;
	}
	if (run->mmio.phys_addr < MMIO_GPA || run->mmio.phys_addr > MMIO_GPA + W_BADOP ||
	    run->mmio.len != 8) {
		fail(what, "unexpected MMIO access at 0x%llx, %u bytes",
		     (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return -1;
	}
	*is_write = run->mmio.is_write;
	return run->mmio.phys_addr - MMIO_GPA;
}

static uint64_t mmio_value(struct vm *vm)
{
	uint64_t v;

	memcpy(&v, vm->run->mmio.data, sizeof(v));
	return v;
}

/* Answer the guest's reads of one window slot. */
static int answer(struct vm *vm, const char *what, long want, uint64_t val)
{
	int is_write;
	long off = vm_enter(vm, what, &is_write);

	if (off < 0)
		return -1;
	if (off != want || is_write) {
		fail(what, "guest %s window offset %ld, expected a read of %ld",
		     is_write ? "wrote" : "read", off, want);
		return -1;
	}
	memcpy(vm->run->mmio.data, &val, sizeof(val));
	return 0;
}

/*
 * Run one guest command and return the nanoseconds from the entry that
 * starts it to the exit that completes it; MMIO ticks on the way are
 * counted into *ticks (NULL: none allowed). *result gets the guest's value.
 */
static int64_t command(struct vm *vm, const char *what, int op, uint64_t addr,
		       uint64_t count, uint64_t *ticks, uint64_t *result)
{
	uint64_t t0, t1, n = 0;
	int is_write;
	long off;

	if (answer(vm, what, W_ADDR, addr) || answer(vm, what, W_COUNT, count) ||
	    answer(vm, what, W_OP, op))
		return -1;
	t0 = now_ns();
	for (;;) {
		off = vm_enter(vm, what, &is_write);
		if (off < 0)
			return -1;
		if (off == W_TICK && is_write && ticks) {
			n++;
			continue;
		}
		break;
	}
	t1 = now_ns();
	if (off != W_DONE || !is_write) {
		fail(what, "guest %s window offset %ld (value %llu), expected completion",
		     is_write ? "wrote" : "read", off,
		     (unsigned long long)mmio_value(vm));
		return -1;
	}
	if (ticks)
		*ticks = n;
	if (result)
		*result = mmio_value(vm);
	return t1 - t0;
}

/* ------------------------------------------------------------- memory */

/* Anonymous memory of size bytes at a 2 MiB aligned address, its own VMA. */
static void *map_aligned(size_t size, int advice)
{
	size_t len = size + SZ_2M;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (a > p)
		munmap(p, a - p);
	if (p + len > a + size)
		munmap(a + size, p + len - (a + size));
	if (madvise(a, size, advice)) {
		munmap(a, size);
		return NULL;
	}
	return a;
}

/* AnonHugePages (kB) of the mapping holding addr, from /proc/self/smaps. */
static long anon_huge_kb(void *addr)
{
	unsigned long start, end, want = (uintptr_t)addr;
	char line[512];
	int inside = 0;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			inside = start <= want && want < end;
			continue;
		}
		if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* ------------------------------------------------------- benchmarks */

struct params {
	uint64_t pages;		/* pages touched by the fault / dirty benchmarks */
	uint64_t mmio;		/* MMIO round trips per repetition */
	uint64_t hvc;		/* hypercalls per repetition */
	uint64_t slots;		/* memslots per repetition */
};
static struct params P = { 2048, 2000, 20000, 1000 };

static int bench_fault(const char *name, int thp)
{
	size_t size = P.pages * GUEST_PAGE;
	double *v = calloc(reps, sizeof(*v));
	long huge = -1;
	struct vm vm;
	int i, ret = -1;
	int64_t ns;
	void *mem;

	if (!v || vm_open(&vm, name, 1)) {
		free(v);
		return -1;
	}
	for (i = 0; i < reps; i++) {
		mem = map_aligned(size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		if (!mem) {
			fail(name, "mmap/madvise: %s", strerror(errno));
			goto out;
		}
		if (set_slot(&vm, 1, 0, DATA_GPA, size, mem)) {
			fail(name, "create slot: %s", strerror(errno));
			munmap(mem, size);
			goto out;
		}
		ns = command(&vm, name, OP_TOUCH, DATA_GPA, P.pages, NULL, NULL);
		if (thp && ns >= 0)
			huge = anon_huge_kb(mem);
		if (set_slot(&vm, 1, 0, DATA_GPA, 0, mem)) {
			fail(name, "delete slot: %s", strerror(errno));
			ns = -1;
		}
		munmap(mem, size);
		if (ns < 0)
			goto out;
		v[i] = (double)ns / P.pages;
	}
	report(name, v, reps, "ns/page");
	if (thp)
		printf("info %s anon_huge_kb=%ld of %zu\n", name, huge, size >> 10);
	ret = 0;
out:
	vm_close(&vm);
	free(v);
	return ret;
}

static int bench_fault_4k(const char *name)
{
	return bench_fault(name, 0);
}

static int bench_fault_thp(const char *name)
{
	return bench_fault(name, 1);
}

static int bench_mmio(const char *name)
{
	double *v = calloc(reps, sizeof(*v));
	uint64_t ticks;
	struct vm vm;
	int i, ret = -1;
	int64_t ns;

	if (!v || vm_open(&vm, name, 1)) {
		free(v);
		return -1;
	}
	for (i = 0; i < reps; i++) {
		ns = command(&vm, name, OP_MMIO, 0, P.mmio, &ticks, NULL);
		if (ns < 0)
			goto out;
		if (ticks != P.mmio) {
			fail(name, "%llu round trips, expected %llu",
			     (unsigned long long)ticks, (unsigned long long)P.mmio);
			goto out;
		}
		v[i] = (double)ns / P.mmio;
	}
	report(name, v, reps, "ns/exit");
	ret = 0;
out:
	vm_close(&vm);
	free(v);
	return ret;
}

static int bench_hvc(const char *name)
{
	double *v = calloc(reps, sizeof(*v));
	uint64_t wrong;
	struct vm vm;
	int i, ret = -1;
	int64_t ns;

	if (!v || vm_open(&vm, name, 1)) {
		free(v);
		return -1;
	}
	for (i = 0; i < reps; i++) {
		ns = command(&vm, name, OP_HVC, 0, P.hvc, NULL, &wrong);
		if (ns < 0)
			goto out;
		if (wrong) {
			fail(name, "%llu of %llu hypercalls did not return NOT_SUPPORTED",
			     (unsigned long long)wrong, (unsigned long long)P.hvc);
			goto out;
		}
		v[i] = (double)ns / P.hvc;
	}
	report(name, v, reps, "ns/hvc");
	ret = 0;
out:
	vm_close(&vm);
	free(v);
	return ret;
}

/* Set S slots (ids 0..S-1, one host page each) at base, or delete them. */
static int64_t slots_pass(struct vm *vm, const char *what, const char *verb,
			  uint64_t n, uint64_t base, char *mem, int del)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++) {
		if (set_slot(vm, i, 0, base + i * page_size,
			     del ? 0 : page_size, mem + i * page_size)) {
			fail(what, "%s slot %llu: %s", verb, (unsigned long long)i,
			     strerror(errno));
			return -1;
		}
	}
	return now_ns() - t0;
}

static int bench_memslot(const char *name)
{
	double *vc = calloc(reps, sizeof(double));
	double *vm_ = calloc(reps, sizeof(double));
	double *vd = calloc(reps, sizeof(double));
	uint64_t n = P.slots;
	int i, ret = -1, max;
	int64_t tc, tm, td;
	struct vm vm;
	char *mem = NULL;

	if (!vc || !vm_ || !vd || vm_open(&vm, name, 0))
		goto out_free;
	max = ioctl(vm.fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (max <= 0) {
		fail(name, "KVM_CAP_NR_MEMSLOTS: %d", max);
		goto out;
	}
	if (n > (uint64_t)max) {
		printf("info %s slots=%d (KVM_CAP_NR_MEMSLOTS)\n", name, max);
		n = max;
	}
	mem = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		mem = NULL;
		fail(name, "mmap: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < reps; i++) {
		tc = slots_pass(&vm, name, "create", n, SLOTS_GPA, mem, 0);
		if (tc < 0)
			goto out;
		tm = slots_pass(&vm, name, "move", n, MOVED_GPA, mem, 0);
		if (tm < 0)
			goto out;
		td = slots_pass(&vm, name, "delete", n, MOVED_GPA, mem, 1);
		if (td < 0)
			goto out;
		vc[i] = tc / 1000.0 / n;
		vm_[i] = tm / 1000.0 / n;
		vd[i] = td / 1000.0 / n;
	}
	report("memslot_create", vc, reps, "us/op");
	report("memslot_move", vm_, reps, "us/op");
	report("memslot_delete", vd, reps, "us/op");
	ret = 0;
out:
	if (mem)
		munmap(mem, n * page_size);
	vm_close(&vm);
out_free:
	free(vc);
	free(vm_);
	free(vd);
	return ret;
}

static long bitmap_weight(const uint64_t *map, uint64_t bits)
{
	long w = 0;
	uint64_t i;

	for (i = 0; i < bits / 64; i++)
		w += __builtin_popcountll(map[i]);
	return w;
}

static int bench_dirty(const char *name)
{
	size_t size = P.pages * GUEST_PAGE;
	uint64_t host_pages = size / page_size;
	uint64_t words = (host_pages + 63) / 64;
	uint64_t *bitmap = calloc(words, sizeof(uint64_t));
	double *vw = calloc(reps, sizeof(double));
	double *vg = calloc(reps, sizeof(double));
	struct kvm_dirty_log log = { .slot = 1 };
	uint64_t t0, t1;
	void *mem = NULL;
	int i, ret = -1;
	long w;
	int64_t ns;
	struct vm vm;

	if (!bitmap || !vw || !vg || vm_open(&vm, name, 1))
		goto out_free;
	log.dirty_bitmap = bitmap;
	mem = map_aligned(size, MADV_NOHUGEPAGE);
	if (!mem) {
		fail(name, "mmap/madvise: %s", strerror(errno));
		goto out;
	}
	if (set_slot(&vm, 1, KVM_MEM_LOG_DIRTY_PAGES, DATA_GPA, size, mem)) {
		fail(name, "create slot: %s", strerror(errno));
		goto out;
	}
	/* repetition -1 is the first touch; it is not reported */
	for (i = -1; i < reps; i++) {
		ns = command(&vm, name, OP_TOUCH, DATA_GPA, P.pages, NULL, NULL);
		if (ns < 0)
			goto out;
		memset(bitmap, 0, words * sizeof(uint64_t));
		t0 = now_ns();
		if (ioctl(vm.fd, KVM_GET_DIRTY_LOG, &log)) {
			fail(name, "KVM_GET_DIRTY_LOG: %s", strerror(errno));
			goto out;
		}
		t1 = now_ns();
		w = bitmap_weight(bitmap, host_pages);
		if ((uint64_t)w != host_pages) {
			fail(name, "%ld of %llu pages logged dirty", w,
			     (unsigned long long)host_pages);
			goto out;
		}
		if (i < 0)
			continue;
		vw[i] = (double)ns / P.pages;
		vg[i] = (t1 - t0) / 1000.0;
	}
	report("dirty_log_pass_write", vw, reps, "ns/page");
	report("dirty_log_pass_get", vg, reps, "us/ioctl");
	ret = 0;
out:
	vm_close(&vm);
	if (mem)
		munmap(mem, size);
out_free:
	free(bitmap);
	free(vw);
	free(vg);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(const char *name);
} benches[] = {
	{ "fault_4k_first_touch", bench_fault_4k },
	{ "fault_thp_first_touch", bench_fault_thp },
	{ "mmio_exit_roundtrip", bench_mmio },
	{ "memslot", bench_memslot },
	{ "dirty_log_pass", bench_dirty },
	{ "vcpu_entry_exit", bench_hvc },
};

/*
 * --only takes a comma-separated list; a name selects a benchmark when one
 * of the two is a prefix of the other ("fault", "memslot_move").
 */
static int selected(const char *name)
{
	const char *p = only, *e;
	size_t len, nl = strlen(name);

	if (!only)
		return 1;
	while (*p) {
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		if (len && !strncmp(p, name, len < nl ? len : nl))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"usage: okvm-bench [--dev PATH] [--quick] [--reps N] [--only NAME[,NAME...]]\n"
		"  --dev PATH   KVM device node (default /dev/kvm)\n"
		"  --quick      3 repetitions and smaller loops (CI)\n"
		"  --reps N     repetitions per metric (default 9; the median is reported)\n"
		"  --only NAME  run only these benchmarks:");
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(f, " %s", benches[i].name);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	int i, ver, failed = 0, ran = 0, quick = 0, set_reps = 0;
	unsigned int b;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc) {
			dev_path = argv[++i];
		} else if (!strcmp(argv[i], "--quick")) {
			quick = 1;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			set_reps = atoi(argv[++i]);
			if (set_reps < 1 || set_reps > 1000) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (quick) {
		reps = 3;
		P.hvc = 5000;
		P.mmio = 1000;
		P.slots = 500;
	}
	if (set_reps)
		reps = set_reps;
	page_size = sysconf(_SC_PAGESIZE);

	kvm_fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		fail(dev_path, "open: %s", strerror(errno));
		return 1;
	}
	ver = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		fail(dev_path, "KVM_GET_API_VERSION = %d", ver);
		return 1;
	}
	printf("# okvm-bench dev=%s reps=%d page_size=%ld pages=%llu mmio=%llu hvc=%llu slots=%llu\n",
	       dev_path, reps, page_size, (unsigned long long)P.pages,
	       (unsigned long long)P.mmio, (unsigned long long)P.hvc,
	       (unsigned long long)P.slots);
	fflush(stdout);
	for (b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
		if (!selected(benches[b].name))
			continue;
		ran++;
		if (benches[b].fn(benches[b].name)) {
			printf("bench %s FAILED\n", benches[b].name);
			fflush(stdout);
			failed++;
		}
	}
	close(kvm_fd);
	if (!ran) {
		fail("--only", "no benchmark matches '%s'", only);
		return 2;
	}
	return failed ? 1 : 0;
}
