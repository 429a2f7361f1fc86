/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces whose shape differs between the kernel lines okvm
 * builds for (6.1, 6.12, 7.x). This is the only file that tests
 * LINUX_VERSION_CODE; tools/harness/check-style.sh lets checkpatch accept
 * that here and nowhere else.
 */
#ifndef OKVM_COMPAT_H
#define OKVM_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/version.h>

/* One page of @mm at @addr, with a reference; mmap_lock held for read. */
static inline long okvm_get_user_page_remote(struct mm_struct *mm,
					     unsigned long addr,
					     unsigned int gup_flags,
					     struct page **page)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, addr, 1, gup_flags, page, NULL, NULL);
#else
	return get_user_pages_remote(mm, addr, 1, gup_flags, page, NULL);
#endif
}

/* hrtimer_setup() replaced hrtimer_init() in 6.13. */
static inline void okvm_hrtimer_setup(struct hrtimer *timer,
				      enum hrtimer_restart (*fn)(struct hrtimer *),
				      clockid_t clock, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * Inside the kernel, kvm_run.immediate_exit is named immediate_exit__unsafe
 * since 6.10 (so that KVM reads it once); the ABI is the same.
 */
#ifdef HINT_UNSAFE_IN_KVM
#define okvm_run_immediate_exit(run)	READ_ONCE((run)->immediate_exit__unsafe)
#else
#define okvm_run_immediate_exit(run)	READ_ONCE((run)->immediate_exit)
#endif

#ifdef CONFIG_ARM64
#include <asm/neon.h>
#include <asm/simd.h>

/*
 * Kernel-mode FP/SIMD: since scoped_ksimd() exists (7.x) the caller gives
 * kernel_neon_begin/end() a buffer for the state of a preempted section.
 */
#ifdef scoped_ksimd
#define okvm_neon_begin(buf)	kernel_neon_begin(buf)
#define okvm_neon_end(buf)	kernel_neon_end(buf)
#else
#define okvm_neon_begin(buf)	((void)(buf), kernel_neon_begin())
#define okvm_neon_end(buf)	((void)(buf), kernel_neon_end())
#endif
#endif

#endif /* OKVM_COMPAT_H */
