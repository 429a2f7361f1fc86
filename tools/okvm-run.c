// SPDX-License-Identifier: GPL-2.0
/*
 * okvm-run: a minimal arm64 VMM that uses nothing but the KVM userspace
 * ABI, so that it runs unchanged against the in-tree KVM and against okvm.
 *
 * One RAM slot, one PL011-compatible UART (transmit only), PSCI handled by
 * the hypervisor (KVM_ARM_VCPU_PSCI_0_2), no interrupt controller. Each
 * vCPU runs in its own thread. See Documentation/okvm-run.rst.
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define RAM_BASE	0x40000000ULL
#define IPA_LIMIT	(1ULL << 40)	/* the default IPA size of VM type 0 */
#define MAX_VCPUS	64
#define NR_REASONS	64		/* exit reasons we count one by one */

#define UART_BASE	0x09000000ULL
#define UART_SIZE	0x1000ULL
#define UARTDR		0x00
#define UARTFR		0x18
#define UARTFR_RXFE	(1u << 4)
#define UARTFR_TXFE	(1u << 7)

/* exit status of okvm-run */
#define RC_OK		0
#define RC_ERROR	1
#define RC_USAGE	2
#define RC_TIMEOUT	124

enum { DEV_PL011, DEV_UNCLAIMED, NR_DEVS };

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
	/* written by the vCPU's own thread only; read after it is joined */
	uint64_t runs;
	uint64_t exits[NR_REASONS + 1];	/* [NR_REASONS]: anything above */
	uint64_t mmio_reads[NR_DEVS];
	uint64_t mmio_writes[NR_DEVS];
	double run_secs;
};

static struct {
	const char *dev;
	const char *image;
	uint64_t mem_mib;
	uint64_t load_addr;
	int load_addr_set;
	int nr_vcpus;
	int quiet;
	int ignore_mmio;
	int thp;
	double max_seconds;
} opt = {
	.dev = "/dev/kvm",
	.mem_mib = 64,
	.nr_vcpus = 1,
};

static int kvm_fd = -1, vm_fd = -1;
static uint8_t *ram;
static uint64_t ram_size;
static long page_size;
static int run_size;
static struct vcpu vcpus[MAX_VCPUS];

/* How the run ended: the first vCPU (or the timer) to decide wins. */
static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t end_cond;
static int ended;
static int end_status;
static atomic_int stopping;

/* The guest's console, shared by all vCPUs. */
static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static int console_mid_line;

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_S390_SIEIC] = "S390_SIEIC",
	[KVM_EXIT_S390_RESET] = "S390_RESET",
	[KVM_EXIT_DCR] = "DCR",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_OSI] = "OSI",
	[KVM_EXIT_PAPR_HCALL] = "PAPR_HCALL",
	[KVM_EXIT_S390_UCONTROL] = "S390_UCONTROL",
	[KVM_EXIT_WATCHDOG] = "WATCHDOG",
	[KVM_EXIT_S390_TSCH] = "S390_TSCH",
	[KVM_EXIT_EPR] = "EPR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_S390_STSI] = "S390_STSI",
	[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV",
	[KVM_EXIT_ARM_NISV] = "ARM_NISV",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_AP_RESET_HOLD] = "AP_RESET_HOLD",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_XEN] = "XEN",
	[KVM_EXIT_RISCV_SBI] = "RISCV_SBI",
	[KVM_EXIT_RISCV_CSR] = "RISCV_CSR",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
	/* numbers newer than Linux 6.1's headers */
	[38] = "LOONGARCH_IOCSR",
	[39] = "MEMORY_FAULT",
	[40] = "TDX",
};

static const char *const dev_names[NR_DEVS] = {
	[DEV_PL011] = "pl011",
	[DEV_UNCLAIMED] = "unclaimed",
};

static const char *exit_name(uint32_t reason)
{
	static __thread char buf[24];

	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) &&
	    exit_names[reason])
		return exit_names[reason];
	snprintf(buf, sizeof(buf), "EXIT_%" PRIu32, reason);
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Messages of okvm-run itself go to stderr, each on a line of its own. */
static void note(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&console_lock);
	fflush(stdout);
	if (console_mid_line) {
		/* keep our lines greppable after a guest's unfinished line */
		fputc('\n', stderr);
		console_mid_line = 0;
	}
	fputs("okvm-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&console_lock);
}

static void __attribute__((noreturn)) fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("okvm-run: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(RC_ERROR);
}

/* Record how the run ends (first caller wins) and wake the main thread. */
static void end_run(int status)
{
	pthread_mutex_lock(&end_lock);
	if (!ended) {
		ended = 1;
		end_status = status;
	}
	atomic_store(&stopping, 1);
	pthread_cond_signal(&end_cond);
	pthread_mutex_unlock(&end_lock);
}

static void console_put(uint8_t c)
{
	pthread_mutex_lock(&console_lock);
	fputc(c, stdout);
	console_mid_line = c != '\n';
	if (c == '\n')
		fflush(stdout);
	pthread_mutex_unlock(&console_lock);
}

static uint64_t mmio_value(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static void pl011_access(uint64_t off, struct kvm_run *run)
{
	uint32_t fr = UARTFR_TXFE | UARTFR_RXFE;

	if (run->mmio.is_write) {
		if (off == UARTDR)
			console_put(run->mmio.data[0]);
		return;	/* every other register ignores writes */
	}
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (off == UARTFR)
		memcpy(run->mmio.data, &fr, run->mmio.len < 4 ? run->mmio.len : 4);
}

/* Returns 0 to keep running the vCPU, -1 to stop (the end is recorded). */
static int handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t addr = run->mmio.phys_addr;
	uint32_t len = run->mmio.len;
	int dev = DEV_UNCLAIMED;

	if (addr >= UART_BASE && addr - UART_BASE < UART_SIZE)
		dev = DEV_PL011;
	if (run->mmio.is_write)
		v->mmio_writes[dev]++;
	else
		v->mmio_reads[dev]++;

	if (dev == DEV_PL011) {
		pl011_access(addr - UART_BASE, run);
		return 0;
	}
	if (run->mmio.is_write)
		note("vcpu %d: unclaimed MMIO write, addr 0x%" PRIx64
		     ", len %" PRIu32 ", data 0x%" PRIx64 "%s", v->id, addr, len,
		     mmio_value(run->mmio.data, len),
		     opt.ignore_mmio ? " (ignored)" : "");
	else
		note("vcpu %d: unclaimed MMIO read, addr 0x%" PRIx64
		     ", len %" PRIu32 "%s", v->id, addr, len,
		     opt.ignore_mmio ? " (reads 0)" : "");
	if (!opt.ignore_mmio) {
		note("stopping: unclaimed MMIO (use --ignore-mmio to read 0 / ignore)");
		end_run(RC_ERROR);
		return -1;
	}
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	return 0;
}

static int handle_system_event(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t type = run->system_event.type;

	switch (type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		note("guest exited: shutdown");
		end_run(RC_OK);
		return -1;
	case KVM_SYSTEM_EVENT_RESET:
		note("guest exited: reset (not restarted: okvm-run does not reboot guests)");
		end_run(RC_OK);
		return -1;
	case KVM_SYSTEM_EVENT_CRASH:
		note("guest exited: crash (vcpu %d)", v->id);
		end_run(RC_ERROR);
		return -1;
	default:
		note("vcpu %d: unexpected SYSTEM_EVENT type %" PRIu32 ", ndata %"
		     PRIu32 ", data[0] 0x%llx", v->id, type,
		     run->system_event.ndata,
		     (unsigned long long)run->system_event.data[0]);
		end_run(RC_ERROR);
		return -1;
	}
}

static void report_unexpected_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t r = run->exit_reason;

	switch (r) {
	case KVM_EXIT_FAIL_ENTRY:
		note("vcpu %d: exit FAIL_ENTRY, hardware_entry_failure_reason 0x%llx, cpu %u",
		     v->id,
		     (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		     run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		note("vcpu %d: exit INTERNAL_ERROR, suberror %u, ndata %u",
		     v->id, run->internal.suberror, run->internal.ndata);
		break;
	case KVM_EXIT_ARM_NISV:
		note("vcpu %d: exit ARM_NISV (data abort without a valid syndrome), esr_iss 0x%llx, fault_ipa 0x%llx",
		     v->id, (unsigned long long)run->arm_nisv.esr_iss,
		     (unsigned long long)run->arm_nisv.fault_ipa);
		break;
	case KVM_EXIT_HYPERCALL:
		note("vcpu %d: exit HYPERCALL, nr 0x%llx, args 0x%llx 0x%llx",
		     v->id, (unsigned long long)run->hypercall.nr,
		     (unsigned long long)run->hypercall.args[0],
		     (unsigned long long)run->hypercall.args[1]);
		break;
	default:
		note("vcpu %d: unexpected exit %s (%" PRIu32 ")", v->id,
		     exit_name(r), r);
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	while (!atomic_load(&stopping)) {
		double t0 = now();
		int ret = ioctl(v->fd, KVM_RUN, 0);
		int err = errno;
		uint32_t r;

		v->run_secs += now() - t0;
		v->runs++;
		if (ret < 0) {
			if (err == EINTR) {
				/* a kick: the timer or another vCPU ended the run */
				v->exits[KVM_EXIT_INTR]++;
				continue;
			}
			note("vcpu %d: KVM_RUN: %s (errno %d)", v->id,
			     strerror(err), err);
			end_run(RC_ERROR);
			break;
		}
		r = v->run->exit_reason;
		v->exits[r < NR_REASONS ? r : NR_REASONS]++;
		if (r == KVM_EXIT_MMIO) {
			if (handle_mmio(v))
				break;
		} else if (r == KVM_EXIT_SYSTEM_EVENT) {
			handle_system_event(v);
			break;
		} else if (r == KVM_EXIT_INTR) {
			continue;	/* the loop condition sees a stop */
		} else {
			report_unexpected_exit(v);
			end_run(RC_ERROR);
			break;
		}
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;	/* only there to make KVM_RUN return EINTR */
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: okvm-run [options] <guest image>\n"
		"  the image is an ELF64 aarch64 executable or a flat binary\n"
		"  --dev PATH         KVM device node (default /dev/kvm)\n"
		"  --mem MIB          guest RAM at 0x%llx, in MiB (default 64)\n"
		"  --load-addr ADDR   flat image load (and entry) address (default: RAM start)\n"
		"  --vcpus N          vCPUs (default 1); 1..N-1 start powered off (PSCI CPU_ON)\n"
		"  --max-seconds S    stop the guest after S seconds, exit 124 (default: no limit)\n"
		"  --ignore-mmio      unclaimed MMIO reads 0 and ignores writes (default: stop)\n"
		"  --thp              allow transparent huge pages for RAM (default: off)\n"
		"  --quiet            no summary\n"
		"  --help\n", RAM_BASE);
}

static uint64_t parse_u64(const char *name, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "okvm-run: bad %s: '%s'\n", name, s);
		exit(RC_USAGE);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mem", required_argument, NULL, 'm' },
		{ "load-addr", required_argument, NULL, 'l' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "ignore-mmio", no_argument, NULL, 'i' },
		{ "thp", no_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt.dev = optarg;
			break;
		case 'm':
			opt.mem_mib = parse_u64("--mem", optarg);
			break;
		case 'l':
			opt.load_addr = parse_u64("--load-addr", optarg);
			opt.load_addr_set = 1;
			break;
		case 'c':
			opt.nr_vcpus = (int)parse_u64("--vcpus", optarg);
			if (opt.nr_vcpus < 1 || opt.nr_vcpus > MAX_VCPUS) {
				fprintf(stderr, "okvm-run: --vcpus must be 1..%d\n",
					MAX_VCPUS);
				exit(RC_USAGE);
			}
			break;
		case 't':
			errno = 0;
			opt.max_seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || opt.max_seconds < 0) {
				fprintf(stderr, "okvm-run: bad --max-seconds: '%s'\n",
					optarg);
				exit(RC_USAGE);
			}
			break;
		case 'i':
			opt.ignore_mmio = 1;
			break;
		case 'H':
			opt.thp = 1;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(RC_OK);
		default:
			usage(stderr);
			exit(RC_USAGE);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(RC_USAGE);
	}
	opt.image = argv[optind];
	if (opt.mem_mib < 1 || opt.mem_mib > (IPA_LIMIT - RAM_BASE) >> 20) {
		fprintf(stderr, "okvm-run: --mem must be 1..%llu MiB\n",
			(IPA_LIMIT - RAM_BASE) >> 20);
		exit(RC_USAGE);
	}
}

/* Is [gpa, gpa + len) inside RAM? */
static int in_ram(uint64_t gpa, uint64_t len)
{
	return gpa >= RAM_BASE && gpa - RAM_BASE <= ram_size &&
	       len <= ram_size - (gpa - RAM_BASE);
}

static uint64_t load_elf(const uint8_t *img, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)img;
	uint64_t loaded = 0;
	unsigned int i;

	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		fatal("%s: not a little-endian ELF64 file", opt.image);
	if (eh->e_machine != EM_AARCH64)
		fatal("%s: ELF machine %u is not aarch64", opt.image,
		      eh->e_machine);
	if (eh->e_type != ET_EXEC)
		fatal("%s: not an ELF executable (type %u; position-independent images are not relocated)",
		      opt.image, eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
		fatal("%s: bad program header table", opt.image);

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff +
						      i * sizeof(Elf64_Phdr));

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
		    ph->p_filesz > size - ph->p_offset)
			fatal("%s: segment %u is truncated or malformed",
			      opt.image, i);
		if (!in_ram(ph->p_paddr, ph->p_memsz))
			fatal("%s: segment %u (0x%llx+0x%llx) is outside RAM 0x%llx+0x%llx",
			      opt.image, i, (unsigned long long)ph->p_paddr,
			      (unsigned long long)ph->p_memsz, RAM_BASE,
			      (unsigned long long)ram_size);
		/* the rest of p_memsz (.bss) is zero: RAM is fresh anonymous memory */
		memcpy(ram + (ph->p_paddr - RAM_BASE), img + ph->p_offset,
		       ph->p_filesz);
		loaded++;
	}
	if (!loaded)
		fatal("%s: no PT_LOAD segment", opt.image);
	if (!in_ram(eh->e_entry, 4))
		fatal("%s: entry 0x%llx is outside RAM", opt.image,
		      (unsigned long long)eh->e_entry);
	return eh->e_entry;
}

static uint64_t load_image(void)
{
	struct stat st;
	uint8_t *img;
	uint64_t entry;
	int fd;

	fd = open(opt.image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		fatal("%s: %s", opt.image, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		fatal("%s: not a non-empty regular file", opt.image);
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		fatal("%s: mmap: %s", opt.image, strerror(errno));
	close(fd);

	if (st.st_size >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG)) {
		if (opt.load_addr_set)
			fatal("--load-addr applies to flat images only; %s is ELF",
			      opt.image);
		entry = load_elf(img, st.st_size);
	} else {
		uint64_t at = opt.load_addr_set ? opt.load_addr : RAM_BASE;

		if (!in_ram(at, st.st_size))
			fatal("%s: %lld bytes at 0x%llx do not fit in RAM 0x%llx+0x%llx",
			      opt.image, (long long)st.st_size,
			      (unsigned long long)at, RAM_BASE,
			      (unsigned long long)ram_size);
		if (at & 3)
			fatal("--load-addr 0x%llx is not 4-byte aligned",
			      (unsigned long long)at);
		memcpy(ram + (at - RAM_BASE), img, st.st_size);
		entry = at;
	}
	munmap(img, st.st_size);
	return entry;
}

static uint64_t resident_pages(void)
{
	size_t n = ram_size / page_size, i;
	unsigned char *vec = malloc(n);
	uint64_t count = 0;

	if (!vec)
		return 0;
	if (mincore(ram, ram_size, vec)) {
		free(vec);
		return 0;
	}
	for (i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

static void set_core_reg(struct vcpu *v, uint64_t id, uint64_t val,
			 const char *name)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	if (ioctl(v->fd, KVM_SET_ONE_REG, &reg))
		fatal("vcpu %d: KVM_SET_ONE_REG(%s): %s", v->id, name,
		      strerror(errno));
}

#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | \
			 KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))

static void create_vcpu(int id, uint64_t entry)
{
	struct vcpu *v = &vcpus[id];
	struct kvm_vcpu_init init;

	v->id = id;
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		fatal("KVM_CREATE_VCPU(%d): %s", id, strerror(errno));
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED)
		fatal("vcpu %d: mmap of kvm_run: %s", id, strerror(errno));

	memset(&init, 0, sizeof(init));
	if (ioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init)) {
		if (id == 0)
			note("KVM_ARM_PREFERRED_TARGET: %s; using the generic v8 target",
			     strerror(errno));
		memset(&init, 0, sizeof(init));
		init.target = KVM_ARM_TARGET_GENERIC_V8;
	}
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init))
		fatal("vcpu %d: KVM_ARM_VCPU_INIT(target %u): %s", id,
		      init.target, strerror(errno));
	/* secondaries get their PC and x0 from the guest's PSCI CPU_ON */
	if (id == 0) {
		set_core_reg(v, CORE_REG(regs.pc), entry, "pc");
		set_core_reg(v, CORE_REG(regs.regs[0]), 0, "x0");
	}
}

static void print_summary(double setup_secs, double run_secs,
			  uint64_t res_before, uint64_t res_after)
{
	uint64_t reads[NR_DEVS] = { 0 }, writes[NR_DEVS] = { 0 };
	char line[1024];
	int i, r, d;

	note("summary: vcpus %d, ram %" PRIu64 " MiB at 0x%llx, setup %.6f s, run %.6f s, wall %.6f s",
	     opt.nr_vcpus, opt.mem_mib, RAM_BASE, setup_secs, run_secs,
	     setup_secs + run_secs);
	for (i = 0; i < opt.nr_vcpus; i++) {
		struct vcpu *v = &vcpus[i];
		uint64_t total = 0;
		size_t len;

		for (r = 0; r <= NR_REASONS; r++)
			total += v->exits[r];
		len = snprintf(line, sizeof(line),
			       "vcpu %d: runs %" PRIu64 ", in KVM_RUN %.6f s, exits %" PRIu64,
			       i, v->runs, v->run_secs, total);
		for (r = 0; r <= NR_REASONS && len < sizeof(line); r++) {
			if (!v->exits[r])
				continue;
			len += snprintf(line + len, sizeof(line) - len,
					", %s %" PRIu64,
					r < NR_REASONS ? exit_name(r) : "OTHER",
					v->exits[r]);
		}
		note("%s", line);
		for (d = 0; d < NR_DEVS; d++) {
			reads[d] += v->mmio_reads[d];
			writes[d] += v->mmio_writes[d];
		}
	}
	note("mmio pl011@0x%llx: %" PRIu64 " (reads %" PRIu64 ", writes %" PRIu64 ")",
	     UART_BASE, reads[DEV_PL011] + writes[DEV_PL011],
	     reads[DEV_PL011], writes[DEV_PL011]);
	note("mmio %s: %" PRIu64 " (reads %" PRIu64 ", writes %" PRIu64 ")",
	     dev_names[DEV_UNCLAIMED],
	     reads[DEV_UNCLAIMED] + writes[DEV_UNCLAIMED],
	     reads[DEV_UNCLAIMED], writes[DEV_UNCLAIMED]);
	note("ram pages resident: %" PRIu64 " before run (image load), %" PRIu64
	     " after run, %" PRIu64 " total (%ld-byte pages%s)",
	     res_before, res_after, ram_size / page_size, page_size,
	     opt.thp ? ", THP allowed" : "");
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_condattr_t ca;
	struct timespec deadline;
	uint64_t entry, res_before, res_after;
	double t_start, t_run, t_end;
	int api, i, err, joined, kicks;

	parse_args(argc, argv);
	t_start = now();
	page_size = sysconf(_SC_PAGESIZE);

	kvm_fd = open(opt.dev, O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		fatal("%s: %s", opt.dev, strerror(errno));
	api = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		fatal("%s: KVM_GET_API_VERSION = %d, want %d", opt.dev, api,
		      KVM_API_VERSION);
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		fatal("KVM_GET_VCPU_MMAP_SIZE = %d: %s", run_size,
		      run_size < 0 ? strerror(errno) : "too small");
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		fatal("KVM_CREATE_VM: %s", strerror(errno));

	ram_size = opt.mem_mib << 20;
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		fatal("mmap of %" PRIu64 " MiB of RAM: %s", opt.mem_mib,
		      strerror(errno));
	/* 4 KiB pages keep the resident-page count a count of touched pages */
	if (!opt.thp)
		madvise(ram, ram_size, MADV_NOHUGEPAGE);
	entry = load_image();
	{
		struct kvm_userspace_memory_region region = {
			.slot = 0,
			.guest_phys_addr = RAM_BASE,
			.memory_size = ram_size,
			.userspace_addr = (uintptr_t)ram,
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
			fatal("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	}
	for (i = 0; i < opt.nr_vcpus; i++)
		create_vcpu(i, entry);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: KVM_RUN must return EINTR */
	if (sigaction(SIGUSR1, &sa, NULL))
		fatal("sigaction: %s", strerror(errno));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&end_cond, &ca);

	if (!opt.quiet)
		note("%s: %d vcpu(s), %" PRIu64 " MiB RAM at 0x%llx, entry 0x%" PRIx64
		     ", device %s", opt.image, opt.nr_vcpus, opt.mem_mib,
		     RAM_BASE, entry, opt.dev);
	res_before = resident_pages();
	t_run = now();
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)opt.max_seconds;
	deadline.tv_nsec += (long)((opt.max_seconds - (time_t)opt.max_seconds) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	for (i = 0; i < opt.nr_vcpus; i++) {
		err = pthread_create(&vcpus[i].thread, NULL, vcpu_thread,
				     &vcpus[i]);
		if (err) {
			note("pthread_create: %s", strerror(err));
			end_run(RC_ERROR);
			break;
		}
		vcpus[i].started = 1;
	}

	pthread_mutex_lock(&end_lock);
	while (!ended) {
		if (opt.max_seconds > 0) {
			err = pthread_cond_timedwait(&end_cond, &end_lock,
						     &deadline);
			if (err == ETIMEDOUT && !ended) {
				ended = 1;
				end_status = RC_TIMEOUT;
				atomic_store(&stopping, 1);
				pthread_mutex_unlock(&end_lock);
				note("timeout: guest still running after %g s; stopping it",
				     opt.max_seconds);
				pthread_mutex_lock(&end_lock);
			}
		} else {
			pthread_cond_wait(&end_cond, &end_lock);
		}
	}
	pthread_mutex_unlock(&end_lock);

	/*
	 * Stop every vCPU: immediate_exit makes a KVM_RUN that has not
	 * started yet return EINTR at once; the signal interrupts one that
	 * runs or sleeps (a powered-off vCPU). Kick again until all are back.
	 */
	for (i = 0; i < opt.nr_vcpus; i++)
		vcpus[i].run->immediate_exit = 1;
	for (kicks = 0;; kicks++) {
		joined = 0;
		for (i = 0; i < opt.nr_vcpus; i++) {
			struct timespec ts;

			if (!vcpus[i].started) {
				joined++;
				continue;
			}
			pthread_kill(vcpus[i].thread, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (!pthread_timedjoin_np(vcpus[i].thread, NULL, &ts)) {
				vcpus[i].started = 0;
				joined++;
			}
		}
		if (joined == opt.nr_vcpus)
			break;
		if (kicks == 250) {	/* about 5 s */
			note("error: %d vcpu thread(s) did not leave KVM_RUN",
			     opt.nr_vcpus - joined);
			fflush(stdout);
			_exit(RC_ERROR);
		}
	}
	t_end = now();
	res_after = resident_pages();

	fflush(stdout);
	if (!opt.quiet)
		print_summary(t_run - t_start, t_end - t_run, res_before,
			      res_after);
	if (end_status == RC_TIMEOUT)
		note("guest exited: timeout");
	if (!opt.quiet)
		note("exit status %d", end_status);
	return end_status;
}
