/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model of okvm's gfn-to-pfn cache (src/pfncache.c) for spin; see
 * README.rst beside it, run it with check.sh.
 *
 * One hva-based cache, at UHVA to start with. Four processes race on it
 * (their _pid in brackets, as the trail prints them):
 *
 *   writer()    [1] the hrtimer writer in hard irq context: read_lock,
 *               okvm_pfncache_check(), store through khva, read_unlock;
 *               any number of times
 *   refresher() [2] the refresh work item: okvm_pfncache_refresh(), twice
 *   toggler()   [3] okvm_pfncache_deactivate(), then maybe
 *               okvm_pfncache_activate() of UHVA again or of UHVA2 (which
 *               refreshes)
 *   notifier()  [4] one invalidate_range_start/end pair over UHVA;
 *               between the two the host page behind UHVA is either kept
 *               (mprotect) or freed and replaced (MADV_DONTNEED)
 *
 * Designs, chosen with cpp macros (spin -a -D...):
 *   (none)               okvm's design
 *   NO_DEACTIVATE_MUTEX  okvm, but deactivate does not take refresh_lock
 *   NO_REFRESH_LOCK      okvm with no refresh_lock at all: the recheck
 *                        under gpc->lock must be enough on its own
 *   SEED001              the old KVM design of seed 001: refresh reuses
 *                        the old khva when the pfn comes back unchanged
 *                        and writes back without a recheck; deactivate
 *                        does not take refresh_lock
 *
 * Encoding: pages are 1..NPAGES-1 (0: none, the error pfn), kernel
 * mappings are vmap slots 1..NSLOTS-1 (0: NULL), addresses are 1 and 2.
 */

#define UHVA		1	/* the cache's address, in the notifier's range */
#define UHVA2		2	/* another address, outside it */
#define NHVAS		3
#define NPAGES		4
#define NSLOTS		4

/* struct okvm_pfncache, all under gpc->lock */
bit gpc_active;
bit gpc_valid;
byte gpc_uhva;
byte gpc_pfn;
byte gpc_khva;
byte gpc_epoch;

/* gpc->lock: an rwlock, readers may be in hard irq context */
byte lk_readers;
byte lk_writer;		/* the write holder's _pid + 1 */

/* gpc->refresh_lock: a mutex, holder's _pid + 1 */
byte rl_owner;

/* struct okvm, under vm->mmu_lock; the range is always UHVA here */
byte mmu_invalidate_seq;
byte mmu_invalidate_in_progress;

/* host: the page the mm maps at each address, and which are not freed */
byte hva_page[NHVAS];
bit page_alive[NPAGES];

/* kernel mappings: vmap slots and the page each one maps */
bit mapped[NSLOTS];
byte map_page[NSLOTS];

/* ghost: the notifier has invalidated the cache, range_end not yet run */
bit zapped;
/* ghost: the address the last activate asked for */
byte want_uhva;

/* ---- locks ---- */

inline read_lock()
{
	atomic { !lk_writer -> lk_readers++ }
}

inline read_unlock()
{
	atomic { assert(lk_readers > 0); lk_readers-- }
}

inline write_lock()
{
	atomic { !lk_writer && lk_readers == 0 -> lk_writer = _pid + 1 }
}

inline write_unlock()
{
	atomic { assert(lk_writer == _pid + 1); lk_writer = 0 }
}

inline mutex_lock()
{
	atomic { rl_owner == 0 -> rl_owner = _pid + 1 }
}

inline mutex_unlock()
{
	atomic { assert(rl_owner == _pid + 1); rl_owner = 0 }
}

/*
 * might_sleep(): vmap, vunmap and the page lookup may sleep, so they must
 * not run under gpc->lock (the writer holds it for read only in irq
 * context and never sleeps). The mutex may be held.
 */
#define might_sleep()	assert(lk_writer != _pid + 1)

/* ---- kernel mappings ---- */

/* vmap() of one page: take the lowest free slot. */
inline vmap(pg, slot)
{
	atomic {
		might_sleep();
		slot = 1;
		do
		:: slot < NSLOTS && mapped[slot] -> slot++
		:: else -> break
		od;
		assert(slot < NSLOTS);
		mapped[slot] = 1;
		map_page[slot] = pg;
		printf("%d: vmap(pfn %d) = khva %d\n", _pid, pg, slot)
	}
}

/* vunmap(): the slot must be mapped (no double unmap). */
inline vunmap(slot)
{
	atomic {
		printf("%d: vunmap(khva %d)\n", _pid, slot);
		might_sleep();
		assert(slot != 0 && mapped[slot]);
		mapped[slot] = 0;
		map_page[slot] = 0
	}
}

/* hva_to_pfn(): GUP, may sleep; returns the page mapped at the hva now. */
inline hva_to_pfn(hva, pg)
{
	atomic {
		might_sleep();
		pg = hva_page[hva];
		printf("%d: hva_to_pfn(uhva %d) = pfn %d\n", _pid, hva, pg)
	}
}

/*
 * okvm_mmu_invalidate_retry() for the cache: must a lookup that read @seq
 * before translating @hva start over? Read under the locks, in one step.
 */
#define mmu_retry(seq, hva) \
	((mmu_invalidate_in_progress > 0 && (hva) == UHVA) || \
	 mmu_invalidate_seq != (seq))

/* okvm_pfncache_check(gpc, len): caller holds gpc->lock for read. */
#define okvm_pfncache_check()	(gpc_active && gpc_valid)

/* ---- the cache ---- */

/*
 * Who takes refresh_lock. okvm: refresh, activate and deactivate.
 * NO_DEACTIVATE_MUTEX: not deactivate. NO_REFRESH_LOCK: nobody (pfncache.h
 * says correctness does not depend on it). SEED001: not deactivate.
 */
#ifdef NO_REFRESH_LOCK
#define refresh_lock()		skip
#define refresh_unlock()	skip
#else
#define refresh_lock()		mutex_lock()
#define refresh_unlock()	mutex_unlock()
#endif

#if defined(NO_REFRESH_LOCK) || defined(NO_DEACTIVATE_MUTEX) || \
    defined(SEED001)
#define deactivate_lock()	skip
#define deactivate_unlock()	skip
#else
#define deactivate_lock()	mutex_lock()
#define deactivate_unlock()	mutex_unlock()
#endif

/*
 * The locals of every caller of refresh, activate or deactivate (Promela
 * inlines share their caller's scope): the copies a refresh works on, and
 * struct okvm_pfncache_map old/new. Zeroed again on return, so that they
 * do not multiply the states.
 */
#define CACHE_LOCALS \
	byte my_epoch, my_uhva, seq, new_pfn, new_khva, old_pfn, old_khva

inline cache_locals_clear()
{
	d_step {
		my_epoch = 0; my_uhva = 0; seq = 0; new_pfn = 0;
		new_khva = 0; old_pfn = 0; old_khva = 0
	}
}

/* okvm_pfncache_take(gpc, &old): move the mapping out; write lock held. */
inline okvm_pfncache_take()
{
	assert(lk_writer == _pid + 1);
	old_pfn = gpc_pfn;
	old_khva = gpc_khva;
	gpc_pfn = 0;
	gpc_khva = 0
}

/* okvm_pfncache_release(&old): unmap it; no lock held. */
inline okvm_pfncache_release()
{
	if
	:: old_khva != 0 ->
		atomic {
			vunmap(old_khva);
			old_khva = 0;
			old_pfn = 0
		}
	:: else -> skip
	fi
}

/* okvm_pfncache_map(): look the page up, map it into new. */
inline okvm_pfncache_map()
{
	hva_to_pfn(my_uhva, new_pfn);
	vmap(new_pfn, new_khva)
}

#ifndef SEED001

/* okvm_pfncache_discard(&new, &old): throw away a mapping that lost. */
inline okvm_pfncache_discard()
{
	atomic {
		vunmap(new_khva);
		new_khva = 0;
		new_pfn = 0
	}
}

/*
 * okvm_pfncache_do_refresh(): nothing read before the lock is dropped is
 * trusted after it; the new mapping goes in only if the cache is still
 * active with the same epoch and no invalidation started or ended.
 */
inline okvm_pfncache_do_refresh()
{
	write_lock();
	if
	:: !gpc_active ->
		write_unlock()		/* -EINVAL */
	:: gpc_active && gpc_valid ->
		write_unlock()		/* 0 */
	:: gpc_active && !gpc_valid ->
		atomic {
			/* work on copies; drop the stale mapping now */
			my_uhva = gpc_uhva;
			my_epoch = gpc_epoch;
			okvm_pfncache_take();
			printf("%d: refresh: take khva %d, drop lock (epoch %d)\n",
			       _pid, old_khva, my_epoch)
		}
		write_unlock();
		okvm_pfncache_release();
		do
		:: true ->
			seq = mmu_invalidate_seq;
			okvm_pfncache_map();
			write_lock();
			if
			:: !gpc_active || gpc_epoch != my_epoch ->
				/* deactivated or retargeted meanwhile: lost */
				printf("%d: refresh: lost the race\n", _pid);
				write_unlock();
				okvm_pfncache_discard();
				break		/* -EAGAIN */
			:: gpc_active && gpc_epoch == my_epoch &&
			   mmu_retry(seq, my_uhva) ->
				printf("%d: refresh: invalidated, retry\n", _pid);
				write_unlock();
				okvm_pfncache_discard()
			:: else ->
				atomic {
					okvm_pfncache_take();
					gpc_uhva = my_uhva;
					gpc_pfn = new_pfn;
					gpc_khva = new_khva;
					gpc_valid = 1;
					printf("%d: refresh: valid=1 pfn %d khva %d\n",
					       _pid, new_pfn, new_khva)
				}
				write_unlock();
				okvm_pfncache_release();
				break		/* 0 */
			fi
		od
	fi;
	cache_locals_clear()
}

#else /* SEED001 */

/*
 * Seed 001: the lookup remembers the old pfn and khva, and reuses the old
 * khva when the pfn came back unchanged. The write-back does not look at
 * active or epoch: whatever happened while gpc->lock was dropped is
 * overwritten.
 */
inline okvm_pfncache_do_refresh()
{
	write_lock();
	if
	:: !gpc_active ->
		write_unlock()
	:: gpc_active && gpc_valid ->
		write_unlock()
	:: gpc_active && !gpc_valid ->
		atomic {
			my_uhva = gpc_uhva;
			old_pfn = gpc_pfn;
			old_khva = gpc_khva;
			printf("%d: refresh: drop lock (old pfn %d, old khva %d)\n",
			       _pid, old_pfn, old_khva)
		}
		write_unlock();
		do
		:: true ->
			seq = mmu_invalidate_seq;
			hva_to_pfn(my_uhva, new_pfn);
			if
			:: new_pfn == old_pfn ->
				/* same page: keep the old mapping */
				atomic {
					new_khva = old_khva;
					printf("%d: refresh: same pfn, reuse khva %d\n",
					       _pid, old_khva)
				}
			:: else ->
				vmap(new_pfn, new_khva)
			fi;
			write_lock();
			/* no recheck of active or epoch */
			if
			:: mmu_retry(seq, my_uhva) ->
				printf("%d: refresh: invalidated, retry\n", _pid);
				write_unlock();
				atomic {
					if
					:: new_khva != old_khva -> vunmap(new_khva)
					:: else -> skip
					fi;
					new_khva = 0;
					new_pfn = 0
				}
			:: else ->
				atomic {
					if
					:: new_khva == old_khva -> old_khva = 0
					:: else -> skip
					fi;
					gpc_pfn = new_pfn;
					gpc_khva = new_khva;
					gpc_valid = 1;
					printf("%d: refresh: valid=1 pfn %d khva %d (active %d)\n",
					       _pid, new_pfn, new_khva, gpc_active)
				}
				write_unlock();
				okvm_pfncache_release();
				break
			fi
		od
	fi;
	cache_locals_clear()
}

#endif /* SEED001 */

/* okvm_pfncache_refresh(gpc, len) */
inline okvm_pfncache_refresh()
{
	refresh_lock();
	okvm_pfncache_do_refresh();
	refresh_unlock()
}

/*
 * okvm_pfncache_activate(gpc, addr): the same in every design. A cache
 * that is still valid for the same target keeps its mapping.
 */
inline okvm_pfncache_activate(addr)
{
	refresh_lock();
	write_lock();
	atomic {
		if
		:: gpc_uhva != addr ->
			gpc_uhva = addr;
			gpc_epoch++;
			gpc_valid = 0;
			okvm_pfncache_take()
		:: else -> skip
		fi;
		gpc_active = 1;
		want_uhva = addr;
		printf("%d: activate: active=1, valid %d khva %d kept\n",
		       _pid, gpc_valid, gpc_khva)
	}
	write_unlock();
	okvm_pfncache_release();
	okvm_pfncache_do_refresh();
	refresh_unlock()
}

/* okvm_pfncache_deactivate(gpc) */
inline okvm_pfncache_deactivate()
{
	deactivate_lock();
	write_lock();
	atomic {
		gpc_active = 0;
		gpc_valid = 0;
		gpc_epoch++;
		okvm_pfncache_take();
		printf("%d: deactivate: active=0 valid=0 khva=NULL\n", _pid)
	}
	write_unlock();
	deactivate_unlock();
	okvm_pfncache_release()
}

/* ---- processes ---- */

/*
 * The hrtimer writer: read_lock (irq-safe), check, store through khva.
 * A failed check skips the store (the real one asks the work item for a
 * refresh; refresher() stands for that). It stops at any point.
 */
proctype writer()
{
	do
	:: read_lock();
		if
		:: okvm_pfncache_check() ->
			/* the store through gpc->khva */
			atomic {
				printf("%d: check ok, store through khva %d\n",
				       _pid, gpc_khva);
				assert(gpc_khva != 0 && mapped[gpc_khva]);
				assert(map_page[gpc_khva] == gpc_pfn);
				assert(page_alive[gpc_pfn]);
				assert(gpc_pfn == hva_page[gpc_uhva]);
				assert(gpc_uhva == want_uhva);
				assert(!zapped || gpc_uhva != UHVA)
			}
		:: else -> skip
		fi;
		read_unlock()
	:: break
	od
}

/* The refresh work item. */
proctype refresher()
{
	CACHE_LOCALS;
	byte n;

	do
	:: n < 2 ->
		okvm_pfncache_refresh();
		n++
	:: else -> break
	od
}

/* A deactivate, then maybe an activate of UHVA or UHVA2 (ioctls). */
proctype toggler()
{
	CACHE_LOCALS;

	okvm_pfncache_deactivate();
	if
	:: okvm_pfncache_activate(UHVA)
	:: okvm_pfncache_activate(UHVA2)
	:: skip	/* left deactivated, as when the VM goes away */
	fi
}

/* One host mapping change over UHVA, bracketed by the mmu notifier. */
proctype notifier()
{
	/* okvm_mn_invalidate_range_start(), under mmu_lock (write) */
	atomic {
		mmu_invalidate_in_progress++;
		printf("%d: invalidate_range_start\n", _pid)
	}

	/* then, mmu_lock dropped, each cache whose uhva is in the range */
	write_lock();
	atomic {
		if
		:: gpc_uhva == UHVA ->
			gpc_valid = 0;
			zapped = 1;
			printf("%d: invalidate_range_start: valid=0\n", _pid)
		:: else -> skip
		fi
	}
	write_unlock();

	/* range_start has returned: the mm changes the pte */
	if
	:: printf("%d: mm: mprotect, page %d stays\n", _pid, hva_page[UHVA])
	:: atomic {
		/* MADV_DONTNEED: the page is freed, a fault gets a new one */
		printf("%d: mm: page %d freed, uhva now maps page 2\n",
		       _pid, hva_page[UHVA]);
		page_alive[hva_page[UHVA]] = 0;
		hva_page[UHVA] = 2;
		page_alive[2] = 1
	}
	fi;

	/* okvm_mn_invalidate_range_end(), under mmu_lock (write) */
	atomic {
		mmu_invalidate_seq++;
		mmu_invalidate_in_progress--;
		zapped = 0;
		printf("%d: invalidate_range_end: seq %d\n", _pid,
		       mmu_invalidate_seq)
	}
}

init {
	byte i;

	/* an active, valid cache of UHVA, mapping page 1 in slot 1 */
	atomic {
		hva_page[UHVA] = 1;
		page_alive[1] = 1;
		hva_page[UHVA2] = 3;
		page_alive[3] = 1;
		mapped[1] = 1;
		map_page[1] = 1;
		gpc_uhva = UHVA;
		want_uhva = UHVA;
		gpc_pfn = 1;
		gpc_khva = 1;
		gpc_active = 1;
		gpc_valid = 1;

		run writer();
		run refresher();
		run toggler();
		run notifier()
	}

	/* all done: locks free, no mapping leaked, the cache consistent */
	_nr_pr == 1;
	assert(lk_readers == 0 && !lk_writer && rl_owner == 0);
	assert(mmu_invalidate_in_progress == 0);
	for (i : 1 .. NSLOTS - 1) {
		assert(mapped[i] == (gpc_khva == i))
	}
	/* a deactivated cache holds no mapping */
	assert(gpc_active || (!gpc_valid && gpc_khva == 0));
	assert(!gpc_valid ||
	       (gpc_pfn == hva_page[gpc_uhva] && map_page[gpc_khva] == gpc_pfn &&
		gpc_uhva == want_uhva))
}
