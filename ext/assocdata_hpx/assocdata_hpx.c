/*
 * assocdata_hpx: the cone -> HEALPix ranges step of the experimental position
 * index of ivoa.obscore (docs/position-index.md).
 *
 * The index is a b-tree on `hpx`, the NESTED HEALPix index at depth 29 of
 * (s_ra, s_dec) as PgSphere's healpix_nest(29, spoint(...)) computes it. A cone
 * search becomes a few ranges of depth-29 indices (a MOC of the cone at an
 * adaptive depth, merged) OR'ed on the b-tree, then an exact distance test.
 *
 * Why C: the ranges must be computed while planning, once per query, from the
 * constants of the query. PL/Python costs ~0.5 ms of planning per query and a
 * second of import per backend; an SQL function with a long body is re-read at
 * every inlining. Here a planner support function (SupportRequestSimplify)
 * replaces the call hpx._cone(hpx, ra, dec, ra0, dec0, r) by
 *     (hpx >= lo1 AND hpx <= hi1) OR ... OR (hpx >= loN AND hpx <= hiN)
 *     AND hpx.within(ra, dec, ra0, dec0, r)
 * with exactly the N ranges this cone needs, as constants: the planner sees
 * OR'ed range conditions on the b-tree (a BitmapOr) and nothing else.
 * When the centre is not a constant (a join), the call becomes a fixed number
 * of arms whose bounds are hpx.cone_lo/cone_hi(ra0, dec0, r, i), evaluated per
 * outer row (the way q3c_join works), with a one-entry cache.
 *
 * Exactness: hpx.within() is PgSphere 1.2.0's `spoint @ scircle` (the predicate
 * Vollt emits), reimplemented with the same arithmetic: points normalised like
 * spoint(), Vincenty's formula for the distance, and its 1e-9 rad tolerance.
 * The ranges are conservative: every pixel that may meet the cone enlarged by
 * that tolerance is kept (pixel bounding circles from Healpix's max_pixrad with
 * a 1 % margin), so the range test never drops a row the exact test accepts.
 *
 * Nothing here can crash the server: every input is checked (NaN, infinity,
 * radius outside [0, 90] degrees raise an ERROR), memory is palloc'ed.
 * The HEALPix formulas (nested numbering, pixel centres, max_pixrad) follow
 * Gorski et al. 2005, ApJ 622, 759 and the Healpix C++ library's definitions.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pg_list.h"
#include "nodes/supportnodes.h"
#include "parser/parsetree.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "utils/syscache.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_opfamily.h"
#include "utils/selfuncs.h"
#include "nodes/pathnodes.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/multirangetypes.h"
#include "utils/rangetypes.h"
#include "utils/typcache.h"
#include "utils/tuplestore.h"

PG_MODULE_MAGIC;

#define HPX_DEPTH 29
/* PgSphere's tolerance (pg_sphere.h EPSILON) */
#define PGS_EPSILON 1.0e-9
/* float.c RADIANS_PER_DEGREE: radians(x) = x * this */
#define RAD_PER_DEG 0.0174532925199432957692
#define PIH 1.57079632679489661923
#define PI_ 3.14159265358979323846
#define PID 6.28318530717958647692

/* int8 comparison operators of pg_catalog (fixed OIDs) */
#define INT8EQ_OID 410
#define INT8LE_OID 414
#define INT8GE_OID 415

/* ranges of a constant cone: at most this many arms */
#define CONST_MAX_RANGES 16
/* cells of the finest order per cone radius, constant cones */
#define CONST_RATIO 4.0
/* the same when the table's density is known: cells ~r/16 wide at most, then
 * no finer than ~0.5 row a cell (cone_ranges_planned). Measured on 10M rows,
 * 1 deg cones: cells ~r/8 (order 9) gave 1,031 candidate rows for 766 in the
 * cone; order 10 (the 0.5-row cap), 962, and an execution 0.05 ms shorter for
 * 0.025 ms more planning. */
#define FINE_RATIO 16.0
/* arms of the join form, and its cells per radius: cells about 2 r wide (up to
 * 3 x 3 of them meet a cone, merged into JOIN_ARMS ranges by filling the
 * smallest gaps). Measured on 10M rows, 10,000 cones of 1': cells ~4 r (every
 * cone in at most four cells) visit twice the heap blocks and take ~10 % longer;
 * cells ~r use all four arms for every cone and take ~5 % longer. */
#define JOIN_ARMS 4
#define JOIN_RATIO 0.5

typedef struct
{
	int64		lo;				/* inclusive, depth-29 units */
	int64		hi;				/* inclusive */
} HpxRange;

typedef struct
{
	HpxRange   *r;
	int			n;
	int			cap;
} RangeList;

/* ------------------------------------------------------------ geometry */

/* spoint(): the normalisation PgSphere applies to (lng, lat) in radians */
static void
sph_normalize(double *lng, double *lat)
{
	bool		lat_is_neg = (*lat < 0);

	if (*lng < 0 || *lng > PID)
		*lng = *lng - floor(*lng / PID) * PID;
	if (*lat < -PIH || *lat > PIH)
		*lat = *lat - floor(*lat / PID) * PID;
	if (*lng < 0.0)
		*lng += PID;
	if (*lat > PI_)
		*lat -= 2 * PI_;
	if (*lat > PIH)
	{
		*lat = PI_ - *lat;
		*lng += (*lng < PI_) ? PI_ : -PI_;
	}
	if (*lat < -PIH)
	{
		*lat = -PI_ - *lat;
		*lng += (*lng < PI_) ? PI_ : -PI_;
	}
	if ((*lat == PIH || fabs(*lat - PIH) <= PGS_EPSILON) && lat_is_neg)
		*lat = -PIH;
	if (*lng == PID || fabs(*lng - PID) <= PGS_EPSILON)
		*lng = 0.0;
	if (fabs(*lng) <= PGS_EPSILON)
		*lng = 0.0;
	if (fabs(*lat) <= PGS_EPSILON)
		*lat = 0.0;
}

/* PgSphere's spoint_dist (Vincenty), p1 = the tested point, p2 = the centre */
static double
sph_dist(double lng1, double lat1, double lng2, double lat2)
{
	double		dl = lng1 - lng2;
	double		a = cos(lat2) * sin(dl);
	double		b = cos(lat1) * sin(lat2) - sin(lat1) * cos(lat2) * cos(dl);
	double		f = atan2(sqrt(a * a + b * b),
						  sin(lat1) * sin(lat2) + cos(lat1) * cos(lat2) * cos(dl));

	return fabs(f) <= PGS_EPSILON ? 0.0 : f;
}

static void
check_cone(double ra0, double dec0, double r)
{
	if (!isfinite(ra0) || !isfinite(dec0) || !isfinite(r))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hpx cone: centre (%g, %g) and radius %g must be finite numbers",
						ra0, dec0, r)));
	/* scircle's own limits: 0 <= radius <= 90 deg, with PgSphere's tolerance */
	if (r * RAD_PER_DEG > PIH + PGS_EPSILON || r * RAD_PER_DEG + PGS_EPSILON < 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hpx cone: radius %g deg is outside [0, 90] degrees", r)));
}

static void
vec_from_lnglat(double lng, double lat, double v[3])
{
	double		c = cos(lat);

	v[0] = c * cos(lng);
	v[1] = c * sin(lng);
	v[2] = sin(lat);
}

static double
vec_angle(const double a[3], const double b[3])
{
	double		cx = a[1] * b[2] - a[2] * b[1];
	double		cy = a[2] * b[0] - a[0] * b[2];
	double		cz = a[0] * b[1] - a[1] * b[0];

	return atan2(sqrt(cx * cx + cy * cy + cz * cz),
				 a[0] * b[0] + a[1] * b[1] + a[2] * b[2]);
}

static void
vec_from_zphi(double z, double phi, double sth, double v[3])
{
	if (sth < 0)
		sth = sqrt((1.0 - z) * (1.0 + z));
	v[0] = sth * cos(phi);
	v[1] = sth * sin(phi);
	v[2] = z;
}

/* ------------------------------------------------------------- HEALPix */

static const int jrll[12] = {2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
static const int jpll[12] = {1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7};

/* the even bits of v, packed */
static inline int64
compress_bits(uint64 v)
{
	v &= UINT64CONST(0x5555555555555555);
	v = (v | (v >> 1)) & UINT64CONST(0x3333333333333333);
	v = (v | (v >> 2)) & UINT64CONST(0x0f0f0f0f0f0f0f0f);
	v = (v | (v >> 4)) & UINT64CONST(0x00ff00ff00ff00ff);
	v = (v | (v >> 8)) & UINT64CONST(0x0000ffff0000ffff);
	v = (v | (v >> 16)) & UINT64CONST(0x00000000ffffffff);
	return (int64) v;
}

/* centre of NESTED pixel `pix` at `order`, as a unit vector */
static void
pix_center(int order, int64 pix, double v[3])
{
	int64		nside = INT64CONST(1) << order;
	int64		npface = nside * nside;
	int			face = (int) (pix >> (2 * order));
	int64		ipf = pix & (npface - 1);
	int64		ix = compress_bits((uint64) ipf);
	int64		iy = compress_bits((uint64) ipf >> 1);
	int64		jr = ((int64) jrll[face] << order) - ix - iy - 1;
	double		fact2 = 4.0 / (12.0 * (double) npface);
	double		fact1 = (double) (nside << 1) * fact2;
	double		z,
				sth = -1.0,
				phi;
	int64		nr,
				tmp;

	if (jr < nside)
	{
		double		t;

		nr = jr;
		t = (double) nr * (double) nr * fact2;
		z = 1.0 - t;
		if (z > 0.99)
			sth = sqrt(t * (2.0 - t));
	}
	else if (jr > 3 * nside)
	{
		double		t;

		nr = 4 * nside - jr;
		t = (double) nr * (double) nr * fact2;
		z = t - 1.0;
		if (z < -0.99)
			sth = sqrt(t * (2.0 - t));
	}
	else
	{
		nr = nside;
		z = (double) (2 * nside - jr) * fact1;
	}
	tmp = (int64) jpll[face] * nr + ix - iy;
	if (tmp < 0)
		tmp += 8 * nr;
	phi = (nr == nside) ? 0.75 * PIH * (double) tmp * fact1
		: (0.5 * PIH * (double) tmp) / (double) nr;
	vec_from_zphi(z, phi, sth, v);
}

/* Healpix's max_pixrad: largest centre-to-corner distance of a pixel at order */
static double
max_pixrad(int order)
{
	double		nside = ldexp(1.0, order);
	double		va[3],
				vb[3];
	double		t1 = 1.0 - 1.0 / nside;

	t1 *= t1;
	vec_from_zphi(2.0 / 3.0, PI_ / (4.0 * nside), -1.0, va);
	vec_from_zphi(1.0 - t1 / 3.0, 0.0, -1.0, vb);
	return vec_angle(va, vb);
}

static double pixrad_bound[HPX_DEPTH + 1];
static bool pixrad_ready = false;

static void
init_pixrad(void)
{
	int			k;

	if (pixrad_ready)
		return;
	/* 1 % margin over the corner distance (Healpix's own inclusive queries use
	 * max_pixrad as is), plus rounding */
	for (k = 0; k <= HPX_DEPTH; k++)
		pixrad_bound[k] = 1.01 * max_pixrad(k) + 1e-12;
	pixrad_ready = true;
}

/* ------------------------------------------------------------- ranges */

static void
range_add(RangeList *rl, int64 lo, int64 hi)
{
	if (rl->n > 0 && rl->r[rl->n - 1].hi + 1 == lo)
	{
		rl->r[rl->n - 1].hi = hi;
		return;
	}
	if (rl->n == rl->cap)
	{
		rl->cap = rl->cap ? rl->cap * 2 : 64;
		rl->r = rl->r ? repalloc(rl->r, rl->cap * sizeof(HpxRange))
			: palloc(rl->cap * sizeof(HpxRange));
	}
	rl->r[rl->n].lo = lo;
	rl->r[rl->n].hi = hi;
	rl->n++;
}

typedef struct
{
	double		c[3];			/* cone centre */
	double		cos_out[HPX_DEPTH + 1];	/* dot below: the cell cannot meet the cone */
	double		cos_in[HPX_DEPTH + 1];	/* dot above: the cell is inside the cone */
	int			maxorder;
	bool		pgsphere_edges;	/* also the cells PgSphere files edge points under */
	bool		unsorted;		/* PgSphere's edge cells were added out of order */
	RangeList  *out;
} Walk;

static inline int64
spread_bits(int64 v)
{
	uint64		x = (uint64) v & UINT64CONST(0x00000000ffffffff);

	x = (x | (x << 16)) & UINT64CONST(0x0000ffff0000ffff);
	x = (x | (x << 8)) & UINT64CONST(0x00ff00ff00ff00ff);
	x = (x | (x << 4)) & UINT64CONST(0x0f0f0f0f0f0f0f0f);
	x = (x | (x << 2)) & UINT64CONST(0x3333333333333333);
	x = (x | (x << 1)) & UINT64CONST(0x5555555555555555);
	return (int64) x;
}

static void
add_cell(RangeList *out, int order, int64 pix)
{
	int			shift = 2 * (HPX_DEPTH - order);

	range_add(out, pix << shift, ((pix + 1) << shift) - 1);
}

/*
 * Emit a cell, and what PgSphere 1.2.0 calls it. Its healpix_nest (healpix_bare's
 * loc2hpc) does not clamp the in-face coordinates: a point exactly on the upper
 * x (or y) edge of a base face (x = 1.0: RA a multiple of 90 deg in the polar caps,
 * some equatorial face edges, the poles) gets ix = nside, which spills into the
 * face bits: its index is that of the cell (ix = 0, same iy) of face + 1 (y: of
 * (same ix, iy = 0) of face + 2; both: pixel 0 of face + 3). The hpx column holds
 * PgSphere's values, so a cell on such an edge also brings the cell its
 * points are filed under (a few extra candidates, removed by the exact test).
 */
static void
emit(Walk *w, int order, int64 pix)
{
	int64		nside = INT64CONST(1) << order;
	int64		npface = nside * nside;
	int64		face = pix >> (2 * order);
	int64		ipf = pix & (npface - 1);
	int64		ix = compress_bits((uint64) ipf);
	int64		iy = compress_bits((uint64) ipf >> 1);

	add_cell(w->out, order, pix);
	if (!w->pgsphere_edges)
		return;
	if (ix == nside - 1)
	{
		add_cell(w->out, order, (face + 1) * npface + (spread_bits(iy) << 1));
		w->unsorted = true;
	}
	if (iy == nside - 1)
	{
		add_cell(w->out, order, (face + 2) * npface + spread_bits(ix));
		w->unsorted = true;
	}
	if (ix == nside - 1 && iy == nside - 1)
		add_cell(w->out, order, (face + 3) * npface);
}

static void
walk(Walk *w, int order, int64 pix)
{
	double		v[3],
				dot;
	int			k;

	pix_center(order, pix, v);
	dot = v[0] * w->c[0] + v[1] * w->c[1] + v[2] * w->c[2];
	if (dot < w->cos_out[order])
		return;					/* cannot meet the cone */
	if (order == w->maxorder || dot >= w->cos_in[order])
	{
		emit(w, order, pix);
		return;
	}
	for (k = 0; k < 4; k++)
		walk(w, order + 1, 4 * pix + k);
}

static int
cmp_range(const void *a, const void *b)
{
	const HpxRange *x = (const HpxRange *) a,
			   *y = (const HpxRange *) b;

	return x->lo < y->lo ? -1 : (x->lo > y->lo ? 1 : 0);
}

static int
cmp_gap(const void *a, const void *b)
{
	const int64 *x = (const int64 *) a,
			   *y = (const int64 *) b;

	/* by gap size, then by position: deterministic */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : (x[1] > y[1] ? 1 : 0);
}

/* Fill the smallest gaps (fewest extra depth-29 cells, i.e. least extra area)
 * until at most `maxn` ranges remain. */
static void
fill_gaps(RangeList *rl, int maxn)
{
	int64	   *gaps;
	bool	   *fill;
	int			i,
				j,
				ngaps = rl->n - 1;

	if (rl->n <= maxn)
		return;
	gaps = palloc(sizeof(int64) * 2 * ngaps);
	fill = palloc0(sizeof(bool) * ngaps);
	for (i = 0; i < ngaps; i++)
	{
		gaps[2 * i] = rl->r[i + 1].lo - rl->r[i].hi;
		gaps[2 * i + 1] = i;
	}
	qsort(gaps, ngaps, 2 * sizeof(int64), cmp_gap);
	for (i = 0; i < rl->n - maxn; i++)
		fill[gaps[2 * i + 1]] = true;
	for (i = 0, j = 0; i < rl->n; i++)
	{
		if (i > 0 && fill[i - 1])
			rl->r[j - 1].hi = rl->r[i].hi;
		else
			rl->r[j++] = rl->r[i];
	}
	rl->n = j;
	pfree(gaps);
	pfree(fill);
}

/* order whose cells are about r / ratio wide (cell side ~ sqrt(pi/3) / 2^order) */
static int
order_for(double r, double ratio)
{
	double		want;
	int			order;

	if (r <= 0.0)
		return HPX_DEPTH;
	want = log2(1.0233267079464885 * ratio / r);
	order = (int) ceil(want);
	if (order < 0)
		order = 0;
	if (order > HPX_DEPTH)
		order = HPX_DEPTH;
	return order;
}

/* sort by lower bound and merge overlapping or adjacent ranges */
static void
sort_merge(RangeList *rl)
{
	int			i,
				j;

	if (rl->n < 2)
		return;
	qsort(rl->r, rl->n, sizeof(HpxRange), cmp_range);
	for (i = 1, j = 0; i < rl->n; i++)
	{
		if (rl->r[i].lo <= rl->r[j].hi + 1)
		{
			if (rl->r[i].hi > rl->r[j].hi)
				rl->r[j].hi = rl->r[i].hi;
		}
		else
			rl->r[++j] = rl->r[i];
	}
	rl->n = j + 1;
}

/*
 * Face coordinates of a point (HEALPix, Gorski et al. 2005, sec. 4): base face
 * 0..11 and (x, y) in [0, 1] within it; nside * (x, y) are the cell's (ix, iy).
 */
static int
face_xy(double lng, double lat, double *x, double *y)
{
	double		z = sin(lat),
				za = fabs(z),
				tt = 4.0 * (lng / PID - floor(lng / PID));

	if (tt >= 4.0)
		tt = 0.0;
	if (za <= 2.0 / 3.0)
	{
		double		jp = 0.5 + tt - 0.75 * z;
		double		jm = 0.5 + tt + 0.75 * z;
		int			ifp = (int) jp,
					ifm = (int) jm;

		*x = jm - ifm;
		*y = 1.0 + ifp - jp;
		return ifp == ifm ? (ifp | 4) : (ifp < ifm ? ifp : ifm + 8);
	}
	else
	{
		int			ntt = (int) tt;
		double		tp,
					t,
					jp,
					jm;

		if (ntt >= 4)
			ntt = 3;
		tp = tt - ntt;
		/* sqrt(3 (1 - |z|)), from cos(lat) near the poles (no cancellation) */
		t = za < 0.99 ? sqrt(3.0 * (1.0 - za)) : cos(lat) / sqrt((1.0 + za) / 3.0);
		jp = tp * t;
		jm = (1.0 - tp) * t;
		if (jp > 1.0)
			jp = 1.0;
		if (jm > 1.0)
			jm = 1.0;
		if (z >= 0)
		{
			*x = 1.0 - jm;
			*y = 1.0 - jp;
			return ntt;
		}
		*x = jp;
		*y = jm;
		return ntt + 8;
	}
}

/*
 * A cone small against the cells of maxorder, away from the edges of its base
 * face: the cells are found around the centre's cell instead of by a descent
 * from the 12 base cells (the join form computes ranges for every outer row).
 * Within a face, (x, y) move by at most 1.5 face units per radian on the sphere
 * (bound of the gradient of the HEALPix projection, polar caps and equatorial
 * zone); with 2 per radian, a box of the face that holds the centre's
 * coordinates +- 2 r holds the whole cone, and when that box is inside the face
 * the cone does not leave it. Every cell of the box is then tested like the
 * descent does (bounding circle). Returns false (use the descent) otherwise.
 */
static bool
small_cone(Walk *w, double lng, double lat, double rr)
{
	int			order = w->maxorder;
	int64		nside = INT64CONST(1) << order;
	double		x,
				y,
				half = 2.0 * rr;
	int			face;
	int64		ix0,
				ix1,
				iy0,
				iy1,
				ix,
				iy;

	if (half * (double) nside > 3.0)
		return false;			/* many cells: the descent is cheaper */
	face = face_xy(lng, lat, &x, &y);
	if (x - half <= 0.0 || x + half >= 1.0 || y - half <= 0.0 || y + half >= 1.0)
		return false;			/* near an edge of the base face */
	ix0 = (int64) floor((x - half) * nside);
	ix1 = (int64) floor((x + half) * nside);
	iy0 = (int64) floor((y - half) * nside);
	iy1 = (int64) floor((y + half) * nside);
	if (ix1 >= nside)
		ix1 = nside - 1;
	if (iy1 >= nside)
		iy1 = nside - 1;
	for (ix = ix0; ix <= ix1; ix++)
		for (iy = iy0; iy <= iy1; iy++)
		{
			int64		pix = ((int64) face << (2 * order)) + spread_bits(ix)
				+ (spread_bits(iy) << 1);
			double		v[3];

			pix_center(order, pix, v);
			if (v[0] * w->c[0] + v[1] * w->c[1] + v[2] * w->c[2] >= w->cos_out[order])
				emit(w, order, pix);
		}
	w->unsorted = true;
	return true;
}

/* cos_out/cos_in of order k for a cone of radius rr (radians, with tolerance) */
static inline void
cone_bounds(Walk *w, double rr, int k)
{
	double		outer = rr + pixrad_bound[k];

	/* a little slack on the cosine (rounding of the dot product) */
	w->cos_out[k] = outer >= PI_ ? -2.0 : cos(outer) - 1e-15;
	w->cos_in[k] = rr - pixrad_bound[k] > 0 ? cos(rr - pixrad_bound[k]) + 1e-15 : 2.0;
}

/* All cells of `maxorder` (or coarser, when wholly inside) that may meet the
 * cone, as merged ranges. r in degrees. */
static void
cone_walk_ex(double ra0, double dec0, double r, int maxorder, bool pgsphere_edges, RangeList *out)
{
	Walk		w;
	double		lng = ra0 * RAD_PER_DEG,
				lat = dec0 * RAD_PER_DEG,
				rr;
	int			k;
	int64		base;

	check_cone(ra0, dec0, r);
	init_pixrad();
	sph_normalize(&lng, &lat);
	vec_from_lnglat(lng, lat, w.c);
	/* PgSphere accepts dist <= r + 1e-9; one more 1e-9 for rounding */
	rr = r * RAD_PER_DEG + 2 * PGS_EPSILON;
	w.maxorder = maxorder;
	w.pgsphere_edges = pgsphere_edges;
	w.unsorted = false;
	w.out = out;
	out->n = 0;
	/*
	 * The bounds of the orders the search visits only: maxorder alone for a
	 * small cone, 0..maxorder for the descent (two cosines per order, computed
	 * once per cone: for every outer row of a join, where the 60 of all orders
	 * were ~1 us of the ~10 us a row costs).
	 */
	cone_bounds(&w, rr, maxorder);
	if (!small_cone(&w, lng, lat, rr))
	{
		for (k = 0; k < maxorder; k++)
			cone_bounds(&w, rr, k);
		for (base = 0; base < 12; base++)
			walk(&w, 0, base);
	}
	if (w.unsorted)
		sort_merge(out);
}

/* for the hpx column (PgSphere's healpix_nest values): with PgSphere's edge cells */
static void
cone_walk(double ra0, double dec0, double r, int maxorder, RangeList *out)
{
	cone_walk_ex(ra0, dec0, r, maxorder, true, out);
}

/* the ranges at a coarser order: bounds widened to whole cells, then merged */
static void
coarsen(const RangeList *in, int order, RangeList *out)
{
	int			shift = 2 * (HPX_DEPTH - order);
	int			i;

	out->n = 0;
	for (i = 0; i < in->n; i++)
	{
		int64		lo = (in->r[i].lo >> shift) << shift;
		int64		hi = (((in->r[i].hi >> shift) + 1) << shift) - 1;

		if (out->n > 0 && lo <= out->r[out->n - 1].hi + 1)
		{
			if (hi > out->r[out->n - 1].hi)
				out->r[out->n - 1].hi = hi;
		}
		else
			range_add(out, lo, hi);
	}
}

/*
 * The plan of a cone: which order, how many ranges. Each range is one b-tree
 * descent and one more OR arm to plan (COST_ARM, us); each row of the covered
 * area that is not in the cone is one heap fetch and one exact test (COST_ROW,
 * us). With the table's density (rows per square degree, from pg_class),
 * choose the order and number of ranges of least cost: few coarse ranges for a
 * small cone or a sparse table, finer ones for a large cone on a dense table.
 */
#define COST_ARM 5.0
#define COST_ROW 2.0
#define SKY_DEG2 41252.961249419271
/* square degrees of one depth-29 cell */
#define CELL29_DEG2 (SKY_DEG2 / (12.0 * 288230376151711744.0))

static double
ranges_area(const RangeList *rl)
{
	double		cells = 0;
	int			i;

	for (i = 0; i < rl->n; i++)
		cells += (double) (rl->r[i].hi - rl->r[i].lo + 1);
	return cells * CELL29_DEG2;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* least cost number of ranges (<= maxk) for rl, and that cost */
static int
best_k(const RangeList *rl, double density, int maxk, double *cost)
{
	int			n = rl->n,
				k,
				best = n < maxk ? n : maxk;
	int64	   *gaps;
	double		area = ranges_area(rl),
				fill = 0,
				bestcost;

	if (n <= 1)
	{
		*cost = COST_ARM + COST_ROW * density * area;
		return n;
	}
	gaps = palloc(sizeof(int64) * (n - 1));
	for (k = 0; k < n - 1; k++)
		gaps[k] = rl->r[k + 1].lo - rl->r[k].hi - 1;
	qsort(gaps, n - 1, sizeof(int64), cmp_int64);
	/* k ranges: the n - k smallest gaps filled */
	bestcost = 1e300;
	for (k = n; k >= 1; k--)
	{
		double		c;

		if (k < n)
			fill += (double) gaps[n - k - 1] * CELL29_DEG2;
		if (k > maxk)
			continue;
		c = COST_ARM * k + COST_ROW * density * (area + fill);
		if (c < bestcost)
		{
			bestcost = c;
			best = k;
		}
	}
	pfree(gaps);
	*cost = bestcost;
	return best;
}

/* order whose cells hold about `rows` rows at this density (0: no table, finest) */
static int
order_for_rows(double density, double rows)
{
	double		want;

	if (density <= 0)
		return HPX_DEPTH;
	/* cell area 41253 / (12 4^order) = rows / density */
	want = 0.5 * log2(SKY_DEG2 * density / (12.0 * rows));
	if (want < 0)
		return 0;
	return want > HPX_DEPTH ? HPX_DEPTH : (int) floor(want);
}

/*
 * The ranges of a constant cone, for the support function: the order is at most
 * the one of cells ~ r/16 wide (FINE_RATIO), and no finer than cells holding
 * ~0.5 row (finer cells cost more ranges than the rows they save); then the order
 * and number of ranges (<= maxk) of least cost. density <= 0: unknown (cells
 * ~ r/4, maxk).
 */
static void
cone_ranges_planned(double ra0, double dec0, double r, double density, int maxk,
					RangeList *out)
{
	int			fine = order_for(r * RAD_PER_DEG, density > 0 ? FINE_RATIO : CONST_RATIO);
	int			coarse_cap = order_for_rows(density, 0.5);
	int			order,
				best_order,
				k,
				bestk = maxk;
	double		bestcost = 1e300;
	RangeList	tmp = {NULL, 0, 0};

	if (density > 0)
	{
		int			floor_order = order_for(r * RAD_PER_DEG, 0.5);	/* cells ~ 2 r */

		if (fine > coarse_cap)
			fine = coarse_cap > floor_order ? coarse_cap : floor_order;
	}
	cone_walk(ra0, dec0, r, fine, out);
	if (density <= 0)
	{
		fill_gaps(out, maxk);
		return;
	}
	best_order = fine;
	for (order = fine; order >= 0 && order >= fine - 4; order--)
	{
		double		cost;

		if (order == fine)
			k = best_k(out, density, maxk, &cost);
		else
		{
			coarsen(out, order, &tmp);
			k = best_k(&tmp, density, maxk, &cost);
		}
		if (cost < bestcost)
		{
			bestcost = cost;
			bestk = k;
			best_order = order;
		}
	}
	if (best_order != fine)
	{
		coarsen(out, best_order, &tmp);
		out->n = 0;
		for (k = 0; k < tmp.n; k++)
			range_add(out, tmp.r[k].lo, tmp.r[k].hi);
	}
	if (tmp.r)
		pfree(tmp.r);
	fill_gaps(out, bestk);
}

/* The ranges covering the cone (degrees) with cells ~ r / ratio, at most maxn (0: all). */
static void
cone_ranges(double ra0, double dec0, double r, double ratio, int maxn, RangeList *out)
{
	cone_walk(ra0, dec0, r, order_for(r * RAD_PER_DEG, ratio), out);
	if (maxn > 0)
		fill_gaps(out, maxn);
}

/* one-entry cache for the per-row functions (join form, runtime fallback) */
typedef struct
{
	bool		valid;
	double		ra0,
				dec0,
				r;
	int			maxorder;
	int			maxn;
	RangeList	rl;
} ConeCache;

static ConeCache cache;

static RangeList *
cached_ranges(double ra0, double dec0, double r, int maxorder, int maxn)
{
	if (cache.valid && cache.ra0 == ra0 && cache.dec0 == dec0 && cache.r == r
		&& cache.maxorder == maxorder && cache.maxn == maxn)
		return &cache.rl;
	cache.valid = false;
	if (cache.rl.r == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		cache.rl.cap = 256;
		cache.rl.r = palloc(cache.rl.cap * sizeof(HpxRange));
		MemoryContextSwitchTo(old);
	}
	{
		/* compute into a local list, copy into the cache's permanent array */
		RangeList	tmp = {NULL, 0, 0};
		int			i;

		if (maxorder < 0 || maxorder > HPX_DEPTH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("hpx cone: order %d outside 0..%d", maxorder, HPX_DEPTH)));
		cone_walk(ra0, dec0, r, maxorder, &tmp);
		fill_gaps(&tmp, maxn);
		if (tmp.n > cache.rl.cap)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			pfree(cache.rl.r);
			cache.rl.cap = tmp.n;
			cache.rl.r = palloc(cache.rl.cap * sizeof(HpxRange));
			MemoryContextSwitchTo(old);
		}
		for (i = 0; i < tmp.n; i++)
			cache.rl.r[i] = tmp.r[i];
		cache.rl.n = tmp.n;
		if (tmp.r)
			pfree(tmp.r);
	}
	cache.ra0 = ra0;
	cache.dec0 = dec0;
	cache.r = r;
	cache.maxorder = maxorder;
	cache.maxn = maxn;
	cache.valid = true;
	return &cache.rl;
}

static bool
in_ranges(const RangeList *rl, int64 h)
{
	int			lo = 0,
				hi = rl->n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (h < rl->r[mid].lo)
			hi = mid - 1;
		else if (h > rl->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
within(double ra, double dec, double ra0, double dec0, double r)
{
	double		lng = ra * RAD_PER_DEG,
				lat = dec * RAD_PER_DEG,
				clng = ra0 * RAD_PER_DEG,
				clat = dec0 * RAD_PER_DEG;

	sph_normalize(&lng, &lat);
	sph_normalize(&clng, &clat);
	return sph_dist(lng, lat, clng, clat) <= r * RAD_PER_DEG + PGS_EPSILON;
}

/* ------------------------------------------------------------ SQL API */

PG_FUNCTION_INFO_V1(hpx_within);
/* hpx.within(ra, dec, ra0, dec0, radius) degrees: PgSphere's spoint @ scircle */
Datum
hpx_within(PG_FUNCTION_ARGS)
{
	double		ra = PG_GETARG_FLOAT8(0),
				dec = PG_GETARG_FLOAT8(1),
				ra0 = PG_GETARG_FLOAT8(2),
				dec0 = PG_GETARG_FLOAT8(3),
				r = PG_GETARG_FLOAT8(4);

	check_cone(ra0, dec0, r);
	if (!isfinite(ra) || !isfinite(dec))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(within(ra, dec, ra0, dec0, r));
}

PG_FUNCTION_INFO_V1(hpx_cone_exec);
/* hpx._cone(hpx, ra, dec, ra0, dec0, radius): what the support function rewrites;
 * evaluated as is only when the planner did not (never for constant cones). */
Datum
hpx_cone_exec(PG_FUNCTION_ARGS)
{
	int64		h = PG_GETARG_INT64(0);
	double		ra = PG_GETARG_FLOAT8(1),
				dec = PG_GETARG_FLOAT8(2),
				ra0 = PG_GETARG_FLOAT8(3),
				dec0 = PG_GETARG_FLOAT8(4),
				r = PG_GETARG_FLOAT8(5);
	RangeList  *rl;

	check_cone(ra0, dec0, r);
	rl = cached_ranges(ra0, dec0, r, order_for(r * RAD_PER_DEG, JOIN_RATIO), JOIN_ARMS);
	if (!in_ranges(rl, h))
		PG_RETURN_BOOL(false);
	if (!isfinite(ra) || !isfinite(dec))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(within(ra, dec, ra0, dec0, r));
}

/* bound i of the join form; false when the cone has fewer ranges (the arm is
 * then NULL: a b-tree scan with a NULL key stops before descending) */
static bool
join_bound(PG_FUNCTION_ARGS, bool upper, int64 *out)
{
	double		ra0 = PG_GETARG_FLOAT8(0),
				dec0 = PG_GETARG_FLOAT8(1),
				r = PG_GETARG_FLOAT8(2);
	int32		i = PG_GETARG_INT32(3);
	int32		maxorder = PG_GETARG_INT32(4);
	RangeList  *rl = cached_ranges(ra0, dec0, r, maxorder, JOIN_ARMS);

	if (i < 0 || i >= JOIN_ARMS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hpx cone: range number %d outside 0..%d", i, JOIN_ARMS - 1)));
	if (i >= rl->n)
		return false;
	*out = upper ? rl->r[i].hi : rl->r[i].lo;
	return true;
}

PG_FUNCTION_INFO_V1(hpx_cone_lo);
Datum
hpx_cone_lo(PG_FUNCTION_ARGS)
{
	int64		v;

	if (!join_bound(fcinfo, false, &v))
		PG_RETURN_NULL();
	PG_RETURN_INT64(v);
}

PG_FUNCTION_INFO_V1(hpx_cone_hi);
Datum
hpx_cone_hi(PG_FUNCTION_ARGS)
{
	int64		v;

	if (!join_bound(fcinfo, true, &v))
		PG_RETURN_NULL();
	PG_RETURN_INT64(v);
}

PG_FUNCTION_INFO_V1(hpx_bool_eq_int);
/* boolean = integer: b = (i <> 0); see hpx_bool_eq_int_support */
Datum
hpx_bool_eq_int(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_BOOL(0) == (PG_GETARG_INT32(1) != 0));
}

PG_FUNCTION_INFO_V1(hpx_bool_eq_int_support);
/*
 * ADQL has no boolean: Vollt emits a boolean UDF as `<translation> = 1`. This
 * support function folds `b = <non-zero constant>` to `b` and `b = 0` to
 * `NOT b` while planning, so the predicate inside stays visible to the index
 * machinery (a CAST or CASE would hide it).
 */
Datum
hpx_bool_eq_int_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	Node	   *b,
			   *i;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	if (list_length(req->fcall->args) != 2)
		PG_RETURN_POINTER(NULL);
	b = linitial(req->fcall->args);
	i = lsecond(req->fcall->args);
	if (!IsA(i, Const) || ((Const *) i)->constisnull)
		PG_RETURN_POINTER(NULL);
	if (DatumGetInt32(((Const *) i)->constvalue) != 0)
		PG_RETURN_POINTER(b);
	PG_RETURN_POINTER(make_notclause((Expr *) b));
}

PG_FUNCTION_INFO_V1(hpx_cone_ranges);
/* hpx.cone_ranges(ra0, dec0, radius, max_ranges): the ranges (inclusive bounds) */
Datum
hpx_cone_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	double		ra0 = PG_GETARG_FLOAT8(0),
				dec0 = PG_GETARG_FLOAT8(1),
				r = PG_GETARG_FLOAT8(2);
	int32		maxn = PG_GETARG_INT32(3);
	RangeList	rl = {NULL, 0, 0};
	int			i;

	if (maxn < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hpx cone: max_ranges must be >= 0 (0: no limit)")));
	InitMaterializedSRF(fcinfo, 0);
	cone_ranges(ra0, dec0, r, CONST_RATIO, maxn, &rl);
	for (i = 0; i < rl.n; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = Int64GetDatum(rl.r[i].lo);
		values[1] = Int64GetDatum(rl.r[i].hi);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

/* ------------------------------------------------------ multiranges */

/* int8multirange of half-open depth-29 ranges [lo, hi + 1) */
static Datum
ranges_to_multirange(const HpxRange *r, int n)
{
	TypeCacheEntry *mrtyp = lookup_type_cache(INT8MULTIRANGEOID, TYPECACHE_MULTIRANGE_INFO);
	TypeCacheEntry *rtyp = mrtyp->rngtype;
	RangeType **items = palloc(sizeof(RangeType *) * (n > 0 ? n : 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		RangeBound	lower = {Int64GetDatum(r[i].lo), false, true, true};
		RangeBound	upper = {Int64GetDatum(r[i].hi + 1), false, false, false};

		items[i] = make_range(rtyp, &lower, &upper, false);
	}
	return PointerGetDatum(make_multirange(INT8MULTIRANGEOID, rtyp, n, items));
}

PG_FUNCTION_INFO_V1(hpx_cone_moc);
/* hpx.cone_moc(ra0, dec0, radius): the cone's coverage as an int8multirange */
Datum
hpx_cone_moc(PG_FUNCTION_ARGS)
{
	RangeList	rl = {NULL, 0, 0};
	double		r = PG_GETARG_FLOAT8(2);

	/* geometric coverage, compared with other geometric coverages (footprints,
	 * catalogue MOCs), not with PgSphere's hpx values: no edge cells */
	cone_walk_ex(PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1), r,
				 order_for(r * RAD_PER_DEG, CONST_RATIO), false, &rl);
	PG_RETURN_DATUM(ranges_to_multirange(rl.r, rl.n));
}

PG_FUNCTION_INFO_V1(hpx_smoc_text_ranges);
/* hpx.smoc_text_ranges(text): PgSphere's smoc text ("7/621 623 8/2463-2465 ...")
 * as an int8multirange of depth-29 ranges. Rejects anything else with an error. */
Datum
hpx_smoc_text_ranges(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char	   *s = text_to_cstring(t);
	char	   *p = s;
	int			order = -1;
	RangeList	rl = {NULL, 0, 0};

	for (;;)
	{
		int64		a,
					b;
		char	   *end;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p < '0' || *p > '9')
			goto bad;
		a = strtoll(p, &end, 10);
		p = end;
		if (*p == '/')
		{
			if (a < 0 || a > HPX_DEPTH)
				goto bad;
			order = (int) a;
			p++;
			continue;
		}
		b = a;
		if (*p == '-')
		{
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoll(p, &end, 10);
			p = end;
		}
		if (order < 0 || (*p != ' ' && *p != '\0') || b < a
			|| b >= (INT64CONST(12) << (2 * order)))
			goto bad;
		{
			int			shift = 2 * (HPX_DEPTH - order);
			RangeList  *out = &rl;

			range_add(out, a << shift, ((b + 1) << shift) - 1);
		}
	}
	/* the MOC text lists orders in turn: sort and merge into disjoint ranges */
	sort_merge(&rl);
	PG_RETURN_DATUM(ranges_to_multirange(rl.r, rl.n));
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("hpx: not a MOC text at \"%.20s\"", p)));
	PG_RETURN_NULL();
}

/* ---------------------------------------------------- planner support */

/* a function of the extension's schema, by name; cached per backend, keyed by
 * the calling function's OID (a re-created extension has new OIDs) */
typedef struct
{
	Oid			caller;
	const char *name;
	Oid			oid;
} SiblingCache;

static SiblingCache siblings[8];

static Oid
sibling_function(Oid funcid, const char *name, int nargs, Oid *argtypes)
{
	char	   *nsp;
	List	   *qname;
	Oid			oid;
	int			i;

	for (i = 0; i < (int) lengthof(siblings); i++)
		if (siblings[i].caller == funcid && siblings[i].name == name)
			return siblings[i].oid;
	nsp = get_namespace_name(get_func_namespace(funcid));
	qname = list_make2(makeString(nsp), makeString(pstrdup(name)));
	oid = LookupFuncName(qname, nargs, argtypes, false);
	for (i = 0; i < (int) lengthof(siblings); i++)
		if (siblings[i].caller == InvalidOid)
		{
			siblings[i].caller = funcid;
			siblings[i].name = name;	/* a string literal: its address is its identity */
			siblings[i].oid = oid;
			break;
		}
	return oid;
}

static Expr *
int8_cmp(Oid opno, Node *left, Node *right)
{
	OpExpr	   *op = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) left,
											  (Expr *) right, InvalidOid, InvalidOid);

	op->opfuncid = get_opcode(opno);
	return (Expr *) op;
}

static Node *
int8_const(int64 v)
{
	return (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
							  Int64GetDatum(v), false, FLOAT8PASSBYVAL);
}

static Node *
range_arm(Node *hpx, Node *lo, Node *hi)
{
	return (Node *) make_andclause(list_make2(int8_cmp(INT8GE_OID, copyObject(hpx), lo),
											  int8_cmp(INT8LE_OID, copyObject(hpx), hi)));
}

/* rows per square degree of the table whose column is `hpx` (pg_class.reltuples,
 * as ANALYZE/VACUUM left it); 0 when unknown (not a plain column, never analysed) */
static double
table_density(SupportRequestSimplify *req, Node *hpx)
{
	Var		   *var;
	RangeTblEntry *rte;
	HeapTuple	tup;
	double		reltuples = -1;

	if (req->root == NULL || req->root->parse == NULL || !IsA(hpx, Var))
		return 0;
	var = (Var *) hpx;
	if (var->varlevelsup != 0 || var->varno < 1
		|| var->varno > list_length(req->root->parse->rtable))
		return 0;
	rte = rt_fetch(var->varno, req->root->parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		return 0;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));
	if (HeapTupleIsValid(tup))
	{
		reltuples = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	return reltuples > 0 ? reltuples / SKY_DEG2 : 0;
}

PG_FUNCTION_INFO_V1(hpx_cone_support);
Datum
hpx_cone_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *fe;
	Node	   *hpx,
			   *ra,
			   *dec,
			   *ra0,
			   *dec0,
			   *rad;
	List	   *arms = NIL;
	Oid			f8[5] = {FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
	Oid			withinf;
	FuncExpr   *exact;
	Node	   *ranges;
	int			i;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	fe = req->fcall;
	if (list_length(fe->args) != 6)
		PG_RETURN_POINTER(NULL);
	hpx = linitial(fe->args);
	ra = lsecond(fe->args);
	dec = lthird(fe->args);
	ra0 = lfourth(fe->args);
	dec0 = list_nth(fe->args, 4);
	rad = list_nth(fe->args, 5);

	withinf = sibling_function(fe->funcid, "within", 5, f8);
	exact = makeFuncExpr(withinf, BOOLOID,
						 list_make4(ra, dec, ra0, dec0),
						 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	exact->args = lappend(exact->args, rad);

	if (IsA(ra0, Const) && IsA(dec0, Const) && IsA(rad, Const))
	{
		Const	   *c0 = (Const *) ra0,
				   *c1 = (Const *) dec0,
				   *c2 = (Const *) rad;
		RangeList	rl = {NULL, 0, 0};

		if (c0->constisnull || c1->constisnull || c2->constisnull)
			PG_RETURN_POINTER(NULL);	/* strict: folded to NULL elsewhere */
		cone_ranges_planned(DatumGetFloat8(c0->constvalue), DatumGetFloat8(c1->constvalue),
							DatumGetFloat8(c2->constvalue), table_density(req, hpx),
							CONST_MAX_RANGES, &rl);
		for (i = 0; i < rl.n; i++)
		{
			if (rl.r[i].lo == rl.r[i].hi)
				arms = lappend(arms, int8_cmp(INT8EQ_OID, copyObject(hpx),
											  int8_const(rl.r[i].lo)));
			else
				arms = lappend(arms, range_arm(hpx, int8_const(rl.r[i].lo),
											   int8_const(rl.r[i].hi)));
		}
		if (rl.r)
			pfree(rl.r);
	}
	else
	{
		/*
		 * join form: JOIN_ARMS arms, bounds computed per outer row at an order
		 * fixed now: cells about 2 r wide when the radius is a constant (see
		 * JOIN_RATIO). Not coarser on a sparse table: the arms cost the same,
		 * coarser cells only add candidate rows.
		 */
		int			order = HPX_DEPTH;
		Oid			armt[6] = {INT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, INT4OID, INT4OID};
		Oid			armf;

		if (IsA(rad, Const) && !((Const *) rad)->constisnull)
		{
			double		r = DatumGetFloat8(((Const *) rad)->constvalue);

			check_cone(0, 0, r);
			order = order_for(r * RAD_PER_DEG, JOIN_RATIO);
		}
		else
			order = 12;			/* a radius per row: a fixed middle order */

		armf = sibling_function(fe->funcid, "_arm", 6, armt);
		for (i = 0; i < JOIN_ARMS; i++)
		{
			List	   *a = list_make4(copyObject(hpx), copyObject(ra0), copyObject(dec0),
									   copyObject(rad));

			a = lappend(a, makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
									 Int32GetDatum(i), false, true));
			a = lappend(a, makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
									 Int32GetDatum(order), false, true));
			arms = lappend(arms, makeFuncExpr(armf, BOOLOID, a, InvalidOid, InvalidOid,
											  COERCE_EXPLICIT_CALL));
		}
	}
	if (arms == NIL)
		ranges = (Node *) makeBoolConst(false, false);
	else if (list_length(arms) == 1)
		ranges = linitial(arms);
	else
		ranges = (Node *) make_orclause(arms);
	PG_RETURN_POINTER(make_andclause(list_make2(ranges, exact)));
}

/* ------------------------------------------- join form, selectivity */

PG_FUNCTION_INFO_V1(hpx_arm);
/* hpx._arm(hpx, ra0, dec0, r, i, maxorder): hpx in range i of the join form;
 * an index condition through its support function */
Datum
hpx_arm(PG_FUNCTION_ARGS)
{
	int64		h = PG_GETARG_INT64(0);
	double		ra0 = PG_GETARG_FLOAT8(1),
				dec0 = PG_GETARG_FLOAT8(2),
				r = PG_GETARG_FLOAT8(3);
	int32		i = PG_GETARG_INT32(4);
	int32		maxorder = PG_GETARG_INT32(5);
	RangeList  *rl;

	check_cone(ra0, dec0, r);
	rl = cached_ranges(ra0, dec0, r, maxorder, JOIN_ARMS);
	if (i < 0 || i >= rl->n)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(h >= rl->r[i].lo && h <= rl->r[i].hi);
}

static double
cell_fraction(int order)
{
	return 1.0 / (12.0 * ldexp(1.0, 2 * order));
}

PG_FUNCTION_INFO_V1(hpx_arm_support);
Datum
hpx_arm_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSelectivity))
	{
		/* one arm ~ one cell of the join order: its share of the sky */
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) rawreq;
		Node	   *ord = list_length(req->args) == 6 ? list_nth(req->args, 5) : NULL;
		int			order = 12;

		if (ord && IsA(ord, Const) && !((Const *) ord)->constisnull)
			order = DatumGetInt32(((Const *) ord)->constvalue);
		if (order < 0 || order > HPX_DEPTH)
			order = 12;
		req->selectivity = 2.0 * cell_fraction(order);
		PG_RETURN_POINTER(req);
	}
	if (IsA(rawreq, SupportRequestIndexCondition))
	{
		SupportRequestIndexCondition *req = (SupportRequestIndexCondition *) rawreq;
		FuncExpr   *fe = (FuncExpr *) req->node;
		List	   *a;
		Oid			bt[5] = {FLOAT8OID, FLOAT8OID, FLOAT8OID, INT4OID, INT4OID};
		Oid			lof,
					hif;
		Node	   *lo,
				   *hi;

		/* a b-tree-like int8 family: >= is strategy 4 (btree, btree_gist) */
		if (!IsA(fe, FuncExpr) || list_length(fe->args) != 6 || req->indexarg != 0
			|| get_opfamily_member(req->opfamily, INT8OID, INT8OID,
								   BTGreaterEqualStrategyNumber) != INT8GE_OID)
			PG_RETURN_POINTER(NULL);
		lof = sibling_function(fe->funcid, "cone_lo", 5, bt);
		hif = sibling_function(fe->funcid, "cone_hi", 5, bt);
		a = list_copy_tail(fe->args, 1);
		lo = (Node *) makeFuncExpr(lof, INT8OID, a, InvalidOid, InvalidOid,
								   COERCE_EXPLICIT_CALL);
		hi = (Node *) makeFuncExpr(hif, INT8OID, copyObject(a), InvalidOid, InvalidOid,
								   COERCE_EXPLICIT_CALL);
		req->lossy = false;
		PG_RETURN_POINTER(list_make2(int8_cmp(INT8GE_OID, copyObject(linitial(fe->args)), lo),
									 int8_cmp(INT8LE_OID, copyObject(linitial(fe->args)), hi)));
	}
	PG_RETURN_POINTER(NULL);
}

PG_FUNCTION_INFO_V1(hpx_within_support);
/* selectivity of within(): the cone's share of the sky (uniform rows) */
Datum
hpx_within_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) rawreq;
		Node	   *rad = list_length(req->args) == 5 ? list_nth(req->args, 4) : NULL;
		double		sel = 1e-6;

		if (rad && IsA(rad, Const) && !((Const *) rad)->constisnull)
		{
			double		r = DatumGetFloat8(((Const *) rad)->constvalue) * RAD_PER_DEG;

			if (isfinite(r))
				sel = (1.0 - cos(r < 0 ? 0 : (r > PI_ ? PI_ : r))) / 2.0;
		}
		if (sel < 1e-12)
			sel = 1e-12;
		if (sel > 1.0)
			sel = 1.0;
		req->selectivity = sel;
		PG_RETURN_POINTER(req);
	}
	PG_RETURN_POINTER(NULL);
}
