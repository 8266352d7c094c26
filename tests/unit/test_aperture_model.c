// SPDX-License-Identifier: GPL-2.0
/*
 * Randomized model check of the p2pmap BAR aperture slot allocator.
 *
 * Drives kernel/p2pgpu/p2pgpu_aper.c with thousands of seeded random operations,
 * including invalid ones and stale timestamps, and compares every return
 * value, lookup and counter against a deliberately naive reference model
 * (arrays and linear scans, no lists). The model states the policy directly:
 * the victim is the least recently used unpinned, non-evicting allocation
 * whose age is at least min_residency (any age for the forced pick) and
 * that the caller's filter, if any, does not keep; the allocator's LRU walk
 * must agree with it. Structural invariants are checked after every operation.
 *
 * The seed is printed. Set P2PMAP_UNIT_SEED=<n> to replay a run; by default
 * a fixed set of seeds runs plus one derived from the clock.
 */
#include <time.h>
#include <unistd.h>

/* kernel/p2pgpu/p2pgpu_aper.c, found through -I$(KLIB); see the Makefile. */
#include "p2pgpu_aper.c"

#include "aperture_check.h"
#include "tap.h"

/* ---- PRNG: splitmix64, so runs replay identically everywhere ---- */

static u64 rng_state;

static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* ---- reference model ---- */

struct m_unit {
	void *owner;
	u64 index;
	u64 stamp;
	u64 seq;		/* order of the last LRU event; ties on stamp */
	u32 pins;
	unsigned int order;
	bool evicting;
};

struct model {
	u32 nslots;
	u64 min_res;
	u64 now;
	u64 seq;
	long *head;		/* per slot: head slot number or -1 if free */
	struct m_unit *u;	/* indexed by head slot */
	struct p2pgpu_aper_stats ev;
	unsigned long warns;
};

static bool m_is_head(const struct model *m, u64 s)
{
	return s < m->nslots && m->head[s] == (long)s;
}

static u32 m_count(const struct model *m, int what)
{
	u32 s, n = 0;

	for (s = 0; s < m->nslots; s++) {
		const struct m_unit *h;

		if (m->head[s] < 0)
			continue;
		h = &m->u[m->head[s]];
		if (what == 0 ||
		    (what == 1 && h->pins) ||
		    (what == 2 && h->evicting))
			n++;
	}
	return n;
}

static void m_place(struct model *m, u32 first, unsigned int order,
		    void *owner, u64 index)
{
	u32 i;

	for (i = 0; i < (1U << order); i++)
		m->head[first + i] = first;
	m->u[first] = (struct m_unit){
		.owner = owner, .index = index, .stamp = m->now,
		.seq = ++m->seq, .order = order,
	};
}

static void m_stamp(struct model *m, u32 h)
{
	m->u[h].stamp = m->now;
	m->u[h].seq = ++m->seq;
}

/*
 * Victim filter of the model run: keep the owners in @owner_mask (owner
 * cookies are 0x10000 + 0x10 * k, k < 8) and, with @by_index, the
 * allocations whose first index is @mod3 modulo 3 (so a filter that is
 * handed a wrong index or owner keeps the wrong allocations).
 */
struct m_keep {
	u8 owner_mask;
	bool by_index;
	unsigned int mod3;
};

static bool m_keep_fn(void *owner, u64 index, unsigned int order, void *arg)
{
	const struct m_keep *k = arg;
	uintptr_t o = ((uintptr_t)owner - 0x10000) / 0x10;

	(void)order;
	if (o < 8 && (k->owner_mask >> o) & 1)
		return true;
	return k->by_index && index % 3 == k->mod3;
}

/* ---- one run ---- */

struct run_cfg {
	u32 nslots;
	u64 min_res;
	unsigned int ops;
	unsigned int max_order;
};

struct run_arg {
	const struct run_cfg *cfg;
	u64 seed;
};

/* Compare with the model; on mismatch report and clear the caller's ok. */
#define EXPECT(what, got, want) ({					\
	long long __g = (long long)(got), __w = (long long)(want);	\
	if (__g != __w) {						\
		ok = false;						\
		tap_fail_at(__FILE__, __LINE__, what);			\
		tap_diag("    op %u (%s): got %lld, model says %lld",	\
			 op, opname, __g, __w);				\
	}								\
	__g == __w;							\
})

/* A slot argument: usually a used slot, sometimes any, sometimes invalid. */
static u32 pick_slot(const struct model *m)
{
	u64 r = rnd_below(100);
	u32 s;

	if (r < 3)
		return m->nslots + (u32)rnd_below(3);
	if (r < 5)
		return U32_MAX - (u32)rnd_below(2);
	if (r < 75) {
		u32 start = (u32)rnd_below(m->nslots);

		for (s = 0; s < m->nslots; s++) {
			u32 k = (start + s) % m->nslots;

			if (m->head[k] >= 0)
				return k;
		}
	}
	return (u32)rnd_below(m->nslots);
}

static bool compare_stats(const struct p2pgpu_aper *aper,
			  const struct model *m, unsigned int op,
			  const char *opname)
{
	struct p2pgpu_aper_stats st;
	bool ok = true;

	p2pgpu_aper_get_stats(aper, &st);
	EXPECT("total", st.total, m->nslots);
	EXPECT("used", st.used, m_count(m, 0));
	EXPECT("pinned", st.pinned, m_count(m, 1));
	EXPECT("evicting", st.evicting, m_count(m, 2));
	EXPECT("free", st.free, m->nslots - m_count(m, 0));
	EXPECT("allocs", st.allocs, m->ev.allocs);
	EXPECT("run_allocs", st.run_allocs, m->ev.run_allocs);
	EXPECT("frees", st.frees, m->ev.frees);
	EXPECT("evictions", st.evictions, m->ev.evictions);
	EXPECT("evict_aborts", st.evict_aborts, m->ev.evict_aborts);
	EXPECT("enospc", st.enospc, m->ev.enospc);
	EXPECT("run_enospc", st.run_enospc, m->ev.run_enospc);
	EXPECT("ebusy_pinned", st.ebusy_pinned, m->ev.ebusy_pinned);
	EXPECT("ebusy_residency", st.ebusy_residency, m->ev.ebusy_residency);
	EXPECT("ebusy_evicting", st.ebusy_evicting, m->ev.ebusy_evicting);
	EXPECT("ebusy_kept", st.ebusy_kept, m->ev.ebusy_kept);
	return ok;
}

/* Returns false at the first divergence. */
static bool one_op(struct p2pgpu_aper *aper, struct model *m, u64 *clock,
		   unsigned int op, const struct run_cfg *cfg)
{
	const char *opname = "?";
	u64 r = rnd_below(100), now;
	void *owner = (void *)(uintptr_t)(0x10000 + 0x10 * rnd_below(8));
	u64 index = rnd_below(10) ? rnd_below(1 << 20) : U64_MAX - rnd_below(8);
	bool ok = true;
	u32 s;
	int ret;

	/* Caller's clock: mostly creeping forward, sometimes stale. */
	*clock += rnd_below(4) ? rnd_below(3) : rnd_below(cfg->min_res + 3);
	now = rnd_below(50) ? *clock : *clock - rnd_below(*clock + 1);

	if (r < 22) {
		opname = "alloc";
		m->now = max(m->now, now);
		ret = p2pgpu_aper_alloc(aper, owner, index, now);
		if (m_count(m, 0) == m->nslots) {
			EXPECT("alloc ret", ret, -ENOSPC);
			m->ev.enospc++;
		} else if (EXPECT("alloc in range",
				  ret >= 0 && (u32)ret < m->nslots, 1) &&
			   EXPECT("alloc slot was free", m->head[ret], -1)) {
			m_place(m, ret, 0, owner, index);
			m->ev.allocs++;
		}
	} else if (r < 32) {
		unsigned int order = (unsigned int)rnd_below(cfg->max_order + 1);
		long want = -ENOSPC;
		u32 nr = 1U << order, base, i;

		opname = "alloc_run";
		if (!rnd_below(40))
			order = 32 + (unsigned int)rnd_below(3);
		ret = p2pgpu_aper_alloc_run(aper, order, owner, index, now);
		if (order > 31 || index > U64_MAX - (nr - 1)) {
			EXPECT("run ret", ret, -EINVAL);
			goto check;
		}
		m->now = max(m->now, now);
		for (base = 0; nr <= m->nslots && base <= m->nslots - nr;
		     base += nr) {
			for (i = 0; i < nr && m->head[base + i] < 0; i++)
				;
			if (i == nr) {
				want = base;
				break;
			}
		}
		EXPECT("run ret", ret, want);
		if (ret >= 0 && ret == want) {
			m_place(m, ret, order, owner, index);
			m->ev.run_allocs++;
		} else if (want < 0) {
			m->ev.run_enospc++;
		}
	} else if (r < 47) {
		opname = "free";
		s = pick_slot(m);
		ret = p2pgpu_aper_free(aper, s);
		if (!m_is_head(m, s)) {
			EXPECT("free ret", ret, -EINVAL);
		} else if (m->u[s].pins) {
			EXPECT("free ret", ret, -EBUSY);
		} else if (EXPECT("free ret", ret, 0)) {
			u32 i, nr = 1U << m->u[s].order;

			for (i = 0; i < nr; i++)
				m->head[s + i] = -1;
			m->ev.frees++;
		}
	} else if (r < 57) {
		opname = "pin";
		s = pick_slot(m);
		ret = p2pgpu_aper_pin(aper, s);
		if (s >= m->nslots || m->head[s] < 0)
			EXPECT("pin ret", ret, -EINVAL);
		else if (m->u[m->head[s]].evicting)
			EXPECT("pin ret", ret, -EBUSY);
		else if (EXPECT("pin ret", ret, 0))
			m->u[m->head[s]].pins++;
	} else if (r < 67) {
		opname = "unpin";
		s = pick_slot(m);
		/* Mostly unpin pinned slots; underflow must warn. */
		if (s < m->nslots && m->head[s] >= 0 &&
		    !m->u[m->head[s]].pins && rnd_below(10))
			return true;
		m->now = max(m->now, now);
		ret = p2pgpu_aper_unpin(aper, s, now);
		if (s >= m->nslots || m->head[s] < 0) {
			EXPECT("unpin ret", ret, -EINVAL);
		} else if (!m->u[m->head[s]].pins) {
			EXPECT("unpin ret", ret, -EINVAL);
			m->warns++;
		} else if (EXPECT("unpin ret", ret, 0)) {
			if (--m->u[m->head[s]].pins == 0)
				m_stamp(m, m->head[s]);
		}
	} else if (r < 75) {
		opname = "touch";
		s = pick_slot(m);
		m->now = max(m->now, now);
		ret = p2pgpu_aper_touch(aper, s, now);
		if (s >= m->nslots || m->head[s] < 0)
			EXPECT("touch ret", ret, -EINVAL);
		else if (m->u[m->head[s]].evicting)
			EXPECT("touch ret", ret, -EBUSY);
		else if (EXPECT("touch ret", ret, 0))
			m_stamp(m, m->head[s]);
	} else if (r < 88) {
		enum p2pgpu_aper_busy why = -1, want_why;
		long want = -ENOENT, best = -1;
		bool any_cand = false, any_pinned = false, any_evict = false;
		bool any_kept = false, force = false;
		struct m_keep keep = { 0 };
		u64 mode = rnd_below(4);
		u32 h;

		/* 0, 1: plain pick; 2: forced (any); 3: with a victim filter. */
		opname = "pick_victim";
		if (mode == 2) {
			opname = "pick_victim_any";
			force = true;
		} else if (mode == 3) {
			opname = "pick_victim_filter";
			force = rnd_below(2);
			keep.owner_mask = (u8)rnd();
			keep.by_index = rnd_below(2);
			keep.mod3 = (unsigned int)rnd_below(3);
		}
		m->now = max(m->now, now);
		for (h = 0; h < m->nslots; h++) {
			const struct m_unit *u = &m->u[h];

			if (!m_is_head(m, h))
				continue;
			if (u->pins) {
				any_pinned = true;
				continue;
			}
			if (u->evicting) {
				any_evict = true;
				continue;
			}
			any_cand = true;
			if (!force && m->now - u->stamp < m->min_res)
				continue;
			if (mode == 3 && m_keep_fn(u->owner, u->index, u->order, &keep)) {
				any_kept = true;
				continue;
			}
			if (best < 0 || u->seq < m->u[best].seq)
				best = h;
		}
		want_why = P2PGPU_APER_BUSY_NONE;
		if (best >= 0) {
			want = best;
		} else if (any_kept) {
			want = -EBUSY;
			want_why = P2PGPU_APER_BUSY_KEPT;
			m->ev.ebusy_kept++;
		} else if (any_cand) {
			want = -EBUSY;
			want_why = P2PGPU_APER_BUSY_RESIDENCY;
			m->ev.ebusy_residency++;
		} else if (any_pinned) {
			want = -EBUSY;
			want_why = P2PGPU_APER_BUSY_PINNED;
			m->ev.ebusy_pinned++;
		} else if (any_evict) {
			want = -EBUSY;
			want_why = P2PGPU_APER_BUSY_EVICTING;
			m->ev.ebusy_evicting++;
		}
		if (mode < 2)
			ret = p2pgpu_aper_pick_victim(aper, now,
						      rnd_below(8) ? &why : NULL);
		else if (mode == 2)
			ret = p2pgpu_aper_pick_victim_any(aper, now,
							  rnd_below(8) ? &why : NULL);
		else
			ret = p2pgpu_aper_pick_victim_filter(aper, now, force,
							     m_keep_fn, &keep,
							     rnd_below(8) ? &why : NULL);
		EXPECT("victim", ret, want);
		if (why != (enum p2pgpu_aper_busy)-1)
			EXPECT("why", why, want_why);
		if (ok && ret >= 0) {
			m->u[ret].evicting = true;
			m->ev.evictions++;
			/* Usually the caller completes the eviction at once. */
			if (rnd_below(3)) {
				opname = "free victim";
				EXPECT("free victim", p2pgpu_aper_free(aper, ret), 0);
				for (h = 0; h < (1U << m->u[ret].order); h++)
					m->head[ret + h] = -1;
				m->ev.frees++;
			}
		}
	} else if (r < 93) {
		opname = "abort_evict";
		s = pick_slot(m);
		m->now = max(m->now, now);
		ret = p2pgpu_aper_abort_evict(aper, s, now);
		if (!m_is_head(m, s) || !m->u[s].evicting) {
			EXPECT("abort ret", ret, -EINVAL);
		} else if (EXPECT("abort ret", ret, 0)) {
			m->u[s].evicting = false;
			m_stamp(m, s);
			m->ev.evict_aborts++;
		}
	} else {
		struct p2pgpu_aper_info info;

		opname = "lookup";
		s = pick_slot(m);
		memset(&info, 0xa5, sizeof(info));
		ret = p2pgpu_aper_lookup(aper, s, &info);
		if (s >= m->nslots) {
			EXPECT("lookup ret", ret, -EINVAL);
		} else if (m->head[s] < 0) {
			EXPECT("lookup ret", ret, -ENOENT);
		} else if (EXPECT("lookup ret", ret, 0)) {
			const struct m_unit *u = &m->u[m->head[s]];

			EXPECT("owner", info.owner == u->owner, 1);
			EXPECT("index", info.index == u->index + (s - m->head[s]), 1);
			EXPECT("head", info.head, m->head[s]);
			EXPECT("order", info.order, u->order);
			EXPECT("pin_count", info.pin_count, u->pins);
			EXPECT("evicting", info.evicting, u->evicting);
		}
	}
check:
	EXPECT("now", aper->now, m->now);
	if (!compare_stats(aper, m, op, opname))
		ok = false;
	EXPECT("warns", shim_warn_count, m->warns);
	if (!aper_check_invariants(aper)) {
		tap_diag("    after op %u (%s)", op, opname);
		ok = false;
	}
	return ok;
}

static void run_model(const void *arg)
{
	const struct run_cfg *cfg = ((const struct run_arg *)arg)->cfg;
	u64 seed = ((const struct run_arg *)arg)->seed, clock = 0;
	unsigned long warns0 = shim_warn_count;
	struct p2pgpu_aper *aper;
	struct model m = { 0 };
	unsigned int op;
	u32 s;

	tap_diag("seed=%" PRIu64 " nslots=%u min_residency=%" PRIu64
		 " ops=%u max_order=%u (replay: P2PMAP_UNIT_SEED=%" PRIu64 ")",
		 seed, cfg->nslots, cfg->min_res, cfg->ops, cfg->max_order,
		 seed);
	rng_state = seed;

	aper = p2pgpu_aper_create(cfg->nslots, cfg->min_res);
	if (!TAP_CHECK(!IS_ERR(aper)))
		return;
	m.nslots = cfg->nslots;
	m.min_res = cfg->min_res;
	m.head = malloc(sizeof(*m.head) * cfg->nslots);
	m.u = calloc(cfg->nslots, sizeof(*m.u));
	if (!TAP_CHECK(m.head && m.u))
		goto out;
	for (s = 0; s < cfg->nslots; s++)
		m.head[s] = -1;
	/* The model counts warnings relative to the run's start. */
	m.warns = warns0;

	/* Expected WARN_ONs (unpin underflow) are checked op by op. */
	shim_warn_quiet = 1;
	for (op = 0; op < cfg->ops; op++)
		if (!one_op(aper, &m, &clock, op, cfg))
			break;
	shim_warn_quiet = 0;
	tap_expect_warns(m.warns - warns0);
	tap_diag("  %u ops: allocs %" PRIu64 " runs %" PRIu64 " frees %" PRIu64
		 " victims %" PRIu64 " aborts %" PRIu64 " enospc %" PRIu64
		 " run_enospc %" PRIu64 " busy pinned/residency/evicting/kept %"
		 PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 " warns %lu", op,
		 m.ev.allocs, m.ev.run_allocs, m.ev.frees, m.ev.evictions,
		 m.ev.evict_aborts, m.ev.enospc, m.ev.run_enospc,
		 m.ev.ebusy_pinned, m.ev.ebusy_residency, m.ev.ebusy_evicting,
		 m.ev.ebusy_kept, m.warns - warns0);

	/* Tear down the way a caller would: drop pins, then free. */
	for (s = 0; s < cfg->nslots; s++) {
		if (!m_is_head(&m, s))
			continue;
		while (m.u[s].pins--)
			TAP_CHECK_EQ(p2pgpu_aper_unpin(aper, s, clock), 0);
		TAP_CHECK_EQ(p2pgpu_aper_free(aper, s), 0);
	}
	TAP_CHECK_EQ(aper->nr_used, 0);
	TAP_CHECK(aper_check_invariants(aper));
out:
	free(m.head);
	free(m.u);
	p2pgpu_aper_destroy(aper);
}

static const struct run_cfg cfgs[] = {
	{ .nslots = 1,   .min_res = 0,    .ops = 5000,  .max_order = 1 },
	{ .nslots = 8,   .min_res = 5,    .ops = 20000, .max_order = 3 },
	{ .nslots = 33,  .min_res = 10,   .ops = 20000, .max_order = 4 },
	{ .nslots = 64,  .min_res = 0,    .ops = 20000, .max_order = 2 },
	{ .nslots = 64,  .min_res = 40,   .ops = 20000, .max_order = 6 },
	{ .nslots = 256, .min_res = 3,    .ops = 10000, .max_order = 8 },
	{ .nslots = 16,  .min_res = 1000, .ops = 20000, .max_order = 2 },
};

#define NCFG	TAP_ARRAY_SIZE(cfgs)

int main(void)
{
	static struct tap_case cases[2 * NCFG];
	static struct run_arg args[2 * NCFG];
	static char names[2 * NCFG][96];
	const char *env = getenv("P2PMAP_UNIT_SEED");
	u64 fresh = ((u64)time(NULL) << 20) ^ ((u64)getpid() << 4);
	unsigned int i, n = 0;

	for (i = 0; i < 2 * NCFG; i++) {
		const struct run_cfg *cfg = &cfgs[i % NCFG];
		bool fixed = i < NCFG;

		if (env && *env) {
			/* Replay: every configuration with the given seed. */
			if (!fixed)
				break;
			args[n].seed = strtoull(env, NULL, 0);
		} else if (fixed) {
			/* Fixed seeds: reproducible regression runs. */
			args[n].seed = 0x70327070 + i;
		} else {
			/* Fresh seeds each run, to explore further. */
			args[n].seed = fresh + i;
		}
		args[n].cfg = cfg;
		snprintf(names[n], sizeof(names[n]),
			 "model%s: %u slots, min_residency %" PRIu64 ", %u ops",
			 fixed ? "" : " (fresh seed)", cfg->nslots,
			 cfg->min_res, cfg->ops);
		cases[n] = (struct tap_case){ names[n], run_model, &args[n] };
		n++;
	}
	return tap_run("aperture_model", cases, n);
}
