// SPDX-License-Identifier: GPL-2.0
/*
 * The test interface's gfn-to-pfn caches (OKVM_TEST_PFNCACHE, testing=1):
 * a few caches per VM, each with a writer that stores an increasing
 * counter through the cache from a hard-interrupt hrtimer, as a vCPU's
 * interrupt delivery would, and refreshes it from a work item when the
 * check fails. The selftests race everything else against it.
 */
#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "okvm.h"
#include "pfncache.h"

/* Writer periods accepted by OKVM_PFNCACHE_OP_START. */
#define OKVM_TEST_GPC_MIN_NS	(10 * NSEC_PER_USEC)
#define OKVM_TEST_GPC_MAX_NS	NSEC_PER_SEC

struct okvm_test_gpc {
	struct okvm_pfncache gpc;
	struct hrtimer timer;
	struct work_struct refresh_work;
	/* Guarded by the state's lock. */
	bool running;
	unsigned long len;
	/* Set before the timer starts, read by it. */
	u64 period_ns;
	/*
	 * Written only by the timer callback, which never runs twice at
	 * once; read racily by OKVM_PFNCACHE_OP_STATS.
	 */
	u64 counter;
	u64 stores;
	u64 skipped;
	u64 stale;
	/* Written by the work item. */
	atomic64_t refreshes;
	atomic64_t refresh_errors;
};

struct okvm_test_pfncache_state {
	/* Serialises the ops that start, stop or retarget a cache. */
	struct mutex lock;
	struct okvm_test_gpc c[OKVM_TEST_PFNCACHE_MAX];
};

/*
 * Does the pointer the cache hands out map the page it claims? Always, in
 * a correct cache. A stale pointer (seed 001: a mapping that deactivate
 * already took down) maps nothing or another page.
 */
static bool okvm_test_gpc_pointer_ok(struct okvm_pfncache *gpc)
{
	struct page *page = vmalloc_to_page(gpc->khva);

	return page && page_to_pfn(page) == gpc->pfn;
}

static enum hrtimer_restart okvm_test_gpc_tick(struct hrtimer *timer)
{
	struct okvm_test_gpc *t = container_of(timer, struct okvm_test_gpc,
					       timer);
	struct okvm_pfncache *gpc = &t->gpc;
	bool refresh = false;
	unsigned long flags;

	read_lock_irqsave(&gpc->lock, flags);
	if (!okvm_pfncache_check(gpc, sizeof(u64))) {
		WRITE_ONCE(t->skipped, t->skipped + 1);
		refresh = gpc->active;
	} else if (!okvm_test_gpc_pointer_ok(gpc)) {
		WRITE_ONCE(t->stale, t->stale + 1);
	} else {
		u64 next = t->counter + 1;

		memcpy(okvm_pfncache_ptr(gpc), &next, sizeof(next));
		WRITE_ONCE(t->counter, next);
		WRITE_ONCE(t->stores, t->stores + 1);
	}
	read_unlock_irqrestore(&gpc->lock, flags);
	if (refresh)
		schedule_work(&t->refresh_work);

	hrtimer_forward_now(timer, ns_to_ktime(t->period_ns));
	return HRTIMER_RESTART;
}

static void okvm_test_gpc_refresh_work(struct work_struct *work)
{
	struct okvm_test_gpc *t = container_of(work, struct okvm_test_gpc,
					       refresh_work);

	atomic64_inc(&t->refreshes);
	if (okvm_pfncache_refresh(&t->gpc, sizeof(u64)))
		atomic64_inc(&t->refresh_errors);
}

static void okvm_test_gpc_init(struct okvm_test_gpc *t, struct okvm *vm)
{
	okvm_pfncache_init(&t->gpc, vm);
	INIT_WORK(&t->refresh_work, okvm_test_gpc_refresh_work);
	okvm_hrtimer_setup(&t->timer, okvm_test_gpc_tick, CLOCK_MONOTONIC,
			   HRTIMER_MODE_REL_HARD);
}

static void okvm_test_gpc_stop(struct okvm_test_gpc *t)
{
	if (!t->running)
		return;
	hrtimer_cancel(&t->timer);
	/* The timer is gone, so nothing queues the work again. */
	cancel_work_sync(&t->refresh_work);
	t->running = false;
}

/* Load or store 8 bytes through the cache from process context. */
static int okvm_test_gpc_access(struct okvm_test_gpc *t, u64 *value,
				bool write)
{
	if (READ_ONCE(t->len) < sizeof(u64))
		return -EINVAL;
	return okvm_pfncache_rw(&t->gpc, 0, value, sizeof(*value), write);
}

static struct okvm_test_pfncache_state *okvm_test_pfncache_get(struct okvm *vm)
{
	struct okvm_test_pfncache_state *s, *old;
	int i;

	/* Pairs with cmpxchg_release() below: the caches are initialised. */
	s = smp_load_acquire(&vm->test_pfncache);
	if (s)
		return s;
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	mutex_init(&s->lock);
	for (i = 0; i < OKVM_TEST_PFNCACHE_MAX; i++)
		okvm_test_gpc_init(&s->c[i], vm);
	old = cmpxchg_release(&vm->test_pfncache, NULL, s);
	if (!old)
		return s;
	/* Another thread won; its caches are the VM's. */
	for (i = 0; i < OKVM_TEST_PFNCACHE_MAX; i++)
		okvm_pfncache_destroy(&s->c[i].gpc);
	kfree(s);
	return old;
}

static int okvm_test_pfncache_op(struct okvm *vm, struct okvm_test_gpc *t,
				 struct okvm_test_pfncache *a)
{
	bool hva = a->flags & OKVM_PFNCACHE_F_HVA;

	switch (a->op) {
	case OKVM_PFNCACHE_OP_ACTIVATE:
		if (a->flags & ~(OKVM_PFNCACHE_F_HVA | OKVM_PFNCACHE_F_WRITE))
			return -EINVAL;
		if (!hva && (a->addr >> vm->gpa_bits))
			return -EINVAL;
		if (!a->len || a->len > PAGE_SIZE - offset_in_page(a->addr))
			return -EINVAL;
		WRITE_ONCE(t->len, a->len);
		return okvm_pfncache_activate(&t->gpc,
					      hva ? OKVM_PFNCACHE_NO_GPA :
						    a->addr,
					      hva ? a->addr : 0, a->len,
					      a->flags & OKVM_PFNCACHE_F_WRITE);
	case OKVM_PFNCACHE_OP_DEACTIVATE:
		okvm_pfncache_deactivate(&t->gpc);
		return 0;
	case OKVM_PFNCACHE_OP_REFRESH:
		return okvm_pfncache_refresh(&t->gpc, a->len);
	case OKVM_PFNCACHE_OP_CHECK: {
		unsigned long flags;
		bool ok;

		read_lock_irqsave(&t->gpc.lock, flags);
		ok = okvm_pfncache_check(&t->gpc, a->len);
		read_unlock_irqrestore(&t->gpc.lock, flags);
		return ok ? 0 : -EAGAIN;
	}
	case OKVM_PFNCACHE_OP_WRITE:
		return okvm_test_gpc_access(t, &a->value, true);
	case OKVM_PFNCACHE_OP_READ:
		return okvm_test_gpc_access(t, &a->value, false);
	case OKVM_PFNCACHE_OP_START:
		if (a->period_ns < OKVM_TEST_GPC_MIN_NS ||
		    a->period_ns > OKVM_TEST_GPC_MAX_NS)
			return -EINVAL;
		if (t->running)
			return -EBUSY;
		t->period_ns = a->period_ns;
		t->running = true;
		hrtimer_start(&t->timer, ns_to_ktime(t->period_ns),
			      HRTIMER_MODE_REL_HARD);
		return 0;
	case OKVM_PFNCACHE_OP_STOP:
		okvm_test_gpc_stop(t);
		return 0;
	case OKVM_PFNCACHE_OP_STATS:
		a->stores = READ_ONCE(t->stores);
		a->skipped = READ_ONCE(t->skipped);
		a->stale = READ_ONCE(t->stale);
		a->last = READ_ONCE(t->counter);
		a->refreshes = atomic64_read(&t->refreshes);
		a->refresh_errors = atomic64_read(&t->refresh_errors);
		return 0;
	default:
		return -EINVAL;
	}
}

long okvm_test_pfncache_ioctl(struct okvm *vm, void __user *argp)
{
	struct okvm_test_pfncache_state *s;
	struct okvm_test_pfncache a;
	struct okvm_test_gpc *t;
	int ret;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.id >= OKVM_TEST_PFNCACHE_MAX || a.op > OKVM_PFNCACHE_OP_STATS)
		return -EINVAL;
	s = okvm_test_pfncache_get(vm);
	if (!s)
		return -ENOMEM;
	t = &s->c[a.id];

	/*
	 * Only the ops that change the writer or the target are serialised;
	 * refresh, check, read and write race with everything on purpose.
	 */
	switch (a.op) {
	case OKVM_PFNCACHE_OP_START:
	case OKVM_PFNCACHE_OP_STOP:
	case OKVM_PFNCACHE_OP_ACTIVATE:
		mutex_lock(&s->lock);
		ret = okvm_test_pfncache_op(vm, t, &a);
		mutex_unlock(&s->lock);
		break;
	default:
		ret = okvm_test_pfncache_op(vm, t, &a);
	}
	if (ret)
		return ret;
	return copy_to_user(argp, &a, sizeof(a)) ? -EFAULT : 0;
}

/* At VM destruction, before the notifier goes: stop and free the caches. */
void okvm_test_pfncache_destroy(struct okvm *vm)
{
	struct okvm_test_pfncache_state *s = vm->test_pfncache;
	int i;

	if (!s)
		return;
	for (i = 0; i < OKVM_TEST_PFNCACHE_MAX; i++) {
		okvm_test_gpc_stop(&s->c[i]);
		okvm_pfncache_destroy(&s->c[i].gpc);
	}
	mutex_destroy(&s->lock);
	kfree(s);
	vm->test_pfncache = NULL;
}
