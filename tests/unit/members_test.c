/*
 * members: the membership as a pure function of its entries (proto/members.c).
 * Who may change the team (admins only, judged in the state each writer
 * had seen), boxes and teachers refused, removals and their cut-offs, the
 * deterministic rule for two admins removing each other, re-adds, and the
 * same outcome in every order the entries are given in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "members.h"
#include "tap.h"

#define LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXE	400

static uint8_t F[PROTO_IDLEN], A[PROTO_IDLEN], B[PROTO_IDLEN],
    T[PROTO_IDLEN], X[PROTO_IDLEN], Y[PROTO_IDLEN], BOX[PROTO_IDLEN];

struct hist {
	struct member_entry e[MAXE];
	size_t		 n;
	uint64_t	 seq[256];	/* per author's first byte */
	uint64_t	 clock;
};

static size_t
who(const uint8_t *id)
{
	return id[0];
}

static void
ids(void)
{
	uint8_t *all[] = { F, A, B, T, X, Y, BOX };

	for (size_t i = 0; i < LEN(all); i++) {
		memset(all[i], 0x10 * (int)(i + 1), PROTO_IDLEN);
		all[i][0] = (uint8_t)i;
	}
}

/* An entry by author about target, having seen the entries listed
 * (indexes into h, -1 ends); returns its index. */
static size_t
entry(struct hist *h, const uint8_t *author, const uint8_t *target,
    uint8_t role, uint8_t removal, uint64_t cutoff, const char *name,
    const int *seen)
{
	struct member_entry *e = &h->e[h->n];

	memset(e, 0, sizeof(*e));
	memcpy(e->ref.author, author, PROTO_IDLEN);
	e->ref.seq = ++h->seq[who(author)];
	memset(e->ref.hash, (int)h->n + 1, PROTO_HASHLEN);
	e->ref.has_hash = 1;
	e->hlc = ++h->clock;
	memcpy(e->target, target, PROTO_IDLEN);
	e->role = role;
	e->removal = removal;
	e->cutoff_seq = cutoff;
	if (name != NULL) {
		e->name = name;
		e->name_len = strlen(name);
	}
	e->has_seen = 1;
	for (; seen != NULL && *seen >= 0; seen++)
		e->seen[e->nseen++] = h->e[*seen].ref;
	return h->n++;
}

#define SEEN(...)	((const int[]){ __VA_ARGS__, -1 })

static struct members *
eval(const struct hist *h)
{
	return proto_members_eval(F, h->e, h->n);
}

static int
role_of(const struct members *m, const uint8_t *id)
{
	const struct member *x = proto_members_find(m, id);

	return x == NULL ? -1 : x->removal ? -2 : x->role;
}

/* The membership as text: equal on two evaluations exactly when they
 * agree on who is in, with what role and name, removed by whom. */
static void
summary(const struct members *m, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%u:%u:%u:%.*s:%u:%llu;",
		    m->m[i].id[0], m->m[i].role, m->m[i].removal,
		    (int)m->m[i].name_len, m->m[i].name ? m->m[i].name : "",
		    m->m[i].removed_by[0],
		    (unsigned long long)m->m[i].cutoff_seq);
}

/* Every order of the entries (a few hundred shuffles) gives one outcome. */
static int
same_in_every_order(const struct hist *h, char *first, size_t cap)
{
	struct hist s = *h;
	char buf[1024];
	unsigned seed = 1;
	struct members *m = eval(h);

	if (m == NULL)
		return 0;
	summary(m, first, cap);
	proto_members_free(m);
	for (int round = 0; round < 300; round++) {
		for (size_t i = s.n - 1; i > 0; i--) {
			size_t j;
			struct member_entry tmp;

			seed = seed * 1103515245 + 12345;
			j = (seed >> 8) % (i + 1);
			tmp = s.e[i];
			s.e[i] = s.e[j];
			s.e[j] = tmp;
		}
		if ((m = eval(&s)) == NULL)
			return 0;
		summary(m, buf, sizeof(buf));
		proto_members_free(m);
		if (strcmp(buf, first) != 0) {
			printf("#   order %d: %s\n#   first:   %s\n", round, buf,
			    first);
			return 0;
		}
	}
	return 1;
}

static void
test_founder_alone(void)
{
	struct hist h = { .n = 0 };
	struct members *m = eval(&h);

	CHECK(m != NULL);
	CHECK(role_of(m, F) == MROLE_ADMIN);
	CHECK(proto_members_admins(m) == 1);
	CHECK(proto_members_takes(m, F, 99));
	CHECK(!proto_members_takes(m, A, 1));
	proto_members_free(m);
}

static void
test_admins_add(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, t, x;

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	t = entry(&h, A, T, MROLE_TEACHER, 0, 0, "Tom", SEEN((int)a));
	x = entry(&h, T, X, MROLE_TEACHER, 0, 0, "Xi", SEEN((int)t));
	m = eval(&h);
	CHECK(role_of(m, A) == MROLE_ADMIN);
	CHECK(role_of(m, T) == MROLE_TEACHER);
	CHECK(role_of(m, X) == -1);	/* a teacher adds no one */
	CHECK(m->honoured[a] && m->honoured[t] && !m->honoured[x]);
	CHECK(m->head[t] && !m->head[a]);
	CHECK(memcmp(proto_members_find(m, T)->added_by, A, PROTO_IDLEN) == 0);
	proto_members_free(m);
}

/* Every membership write a box could make is refused. */
static void
test_box_writes_nothing(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t b, t;

	b = entry(&h, F, BOX, MROLE_BOX, 0, 0, "Staff room", NULL);
	t = entry(&h, F, T, MROLE_TEACHER, 0, 0, "Tom", SEEN((int)b));
	entry(&h, BOX, T, 0, MREMOVE_LEFT, 0, NULL, SEEN((int)t));
	entry(&h, BOX, BOX, MROLE_ADMIN, 0, 0, NULL, SEEN((int)t));
	entry(&h, BOX, X, MROLE_ADMIN, 0, 0, "Mallory", SEEN((int)t));
	entry(&h, BOX, T, 0, 0, 0, "Renamed", SEEN((int)t));
	entry(&h, BOX, F, MROLE_TEACHER, 0, 0, NULL, SEEN((int)t));
	/* An admin cannot make a box an admin either. */
	entry(&h, F, BOX, MROLE_ADMIN, 0, 0, NULL, SEEN((int)t));
	m = eval(&h);
	CHECK(role_of(m, BOX) == MROLE_BOX);
	CHECK(role_of(m, T) == MROLE_TEACHER);
	CHECK(role_of(m, X) == -1);
	CHECK(role_of(m, F) == MROLE_ADMIN);
	CHECK(proto_members_find(m, T)->name_len == 3);
	for (size_t i = 2; i < 7; i++)
		CHECK(!m->honoured[i]);
	proto_members_free(m);
}

/* Authority is judged where its writer stood: a demoted admin's change
 * made before it heard of the demotion counts, one made after does not. */
static void
test_causal_authority(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, d, x, y;

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	d = entry(&h, F, A, MROLE_TEACHER, 0, 0, NULL, SEEN((int)a));
	x = entry(&h, A, X, MROLE_TEACHER, 0, 0, "Xi", SEEN((int)a));
	y = entry(&h, A, Y, MROLE_TEACHER, 0, 0, "Yu", SEEN((int)d));
	m = eval(&h);
	CHECK(role_of(m, A) == MROLE_TEACHER);
	CHECK(m->honoured[x] && role_of(m, X) == MROLE_TEACHER);
	CHECK(!m->honoured[y] && role_of(m, Y) == -1);
	proto_members_free(m);
}

/* A demotion names the demoted admin's last entry its writer had seen:
 * the admin's changes after that one count only if they saw the demotion
 * (and then as a teacher's, unless it was promoted again), whatever
 * state they claim, in every order. */
static void
test_demotion_cutoff(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, x, d, y, p, z;
	char first[1024];

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	x = entry(&h, A, X, MROLE_TEACHER, 0, 0, "Xi", SEEN((int)a));
	d = entry(&h, F, A, MROLE_TEACHER, 0, h.e[x].ref.seq, NULL,
	    SEEN((int)x));
	h.e[d].has_cutoff = 1;
	/* Written after the demotion reached F, claiming not to know it. */
	y = entry(&h, A, Y, MROLE_TEACHER, 0, 0, "Yu", SEEN((int)a));
	m = eval(&h);
	CHECK(role_of(m, A) == MROLE_TEACHER);
	CHECK(m->honoured[x] && role_of(m, X) == MROLE_TEACHER);
	CHECK(!m->honoured[y] && role_of(m, Y) == -1);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
	/* Without the cut-off (a 0.2 demotion) it counted, as concurrent. */
	h.e[d].has_cutoff = 0;
	m = eval(&h);
	CHECK(m->honoured[y] && role_of(m, Y) == MROLE_TEACHER);
	proto_members_free(m);
	h.e[d].has_cutoff = 1;
	/* Promoted again by one who saw the demotion: A's change that saw
	 * the promotion counts. */
	p = entry(&h, F, A, MROLE_ADMIN, 0, 0, NULL, SEEN((int)d));
	z = entry(&h, A, B, MROLE_TEACHER, 0, 0, "Bo", SEEN((int)p));
	m = eval(&h);
	CHECK(role_of(m, A) == MROLE_ADMIN);
	CHECK(m->honoured[z] && role_of(m, B) == MROLE_TEACHER);
	CHECK(!m->honoured[y]);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
}

static void
test_removal_cutoff(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t t, r;
	char first[1024];

	t = entry(&h, F, T, MROLE_TEACHER, 0, 0, "Tom", NULL);
	r = entry(&h, F, T, 0, MREMOVE_LOST, 7, NULL, SEEN((int)t));
	m = eval(&h);
	CHECK(role_of(m, T) == -2);
	CHECK(proto_members_takes(m, T, 7));
	CHECK(!proto_members_takes(m, T, 8));
	CHECK(proto_members_find(m, T)->removal == MREMOVE_LOST);
	CHECK(proto_members_find(m, T)->remove_entry == (long)r);
	proto_members_free(m);
	/* Re-added by a writer who saw the removal: a member again. */
	entry(&h, F, T, MROLE_TEACHER, MREMOVE_UNDO, 0, NULL, SEEN((int)r));
	m = eval(&h);
	CHECK(role_of(m, T) == MROLE_TEACHER);
	CHECK(proto_members_takes(m, T, 100));
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
}

/* Two admins remove each other while apart: the one added earlier (the
 * founder here) stays, in every order. */
static void
test_mutual_removal(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, ra, rf;
	char first[1024];

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	ra = entry(&h, F, A, 0, MREMOVE_LEFT, 0, NULL, SEEN((int)a));
	rf = entry(&h, A, F, 0, MREMOVE_LEFT, 1, NULL, SEEN((int)a));
	m = eval(&h);
	CHECK(role_of(m, F) == MROLE_ADMIN);
	CHECK(role_of(m, A) == -2);
	CHECK(m->honoured[ra] && !m->honoured[rf]);
	CHECK(proto_members_admins(m) == 1);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));

	/* Two admins neither of which founded the team: the earlier
	 * added keeps its place; the founder left long ago. */
	memset(&h, 0, sizeof(h));
	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	entry(&h, F, B, MROLE_ADMIN, 0, 0, "Ben", SEEN((int)a));
	rf = entry(&h, A, F, 0, MREMOVE_LEFT, 2, NULL, SEEN(1));
	ra = entry(&h, B, A, 0, MREMOVE_LEFT, 0, NULL, SEEN((int)rf));
	entry(&h, A, B, 0, MREMOVE_LEFT, 0, NULL, SEEN((int)rf));
	m = eval(&h);
	CHECK(role_of(m, A) == MROLE_ADMIN);
	CHECK(role_of(m, B) == -2);
	CHECK(role_of(m, F) == -2);
	CHECK(!m->honoured[ra]);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
}

/* Remove each other, re-add each other, add the same device: one
 * membership in every order, with an admin. */
static void
test_concurrent_storm(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, ra, rf, x1, x2;
	char first[1024];

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	ra = entry(&h, F, A, 0, MREMOVE_LEFT, 0, NULL, SEEN((int)a));
	rf = entry(&h, A, F, 0, MREMOVE_LEFT, 1, NULL, SEEN((int)a));
	entry(&h, F, A, MROLE_ADMIN, MREMOVE_UNDO, 0, NULL, SEEN((int)ra));
	entry(&h, A, F, MROLE_ADMIN, MREMOVE_UNDO, 0, NULL, SEEN((int)rf));
	x1 = entry(&h, F, X, MROLE_TEACHER, 0, 0, "X by F", SEEN((int)a));
	x2 = entry(&h, A, X, MROLE_ADMIN, 0, 0, "X by A", SEEN((int)a));
	(void)x1, (void)x2;
	m = eval(&h);
	CHECK(proto_members_admins(m) >= 1);
	CHECK(role_of(m, F) == MROLE_ADMIN);
	CHECK(role_of(m, X) == MROLE_TEACHER || role_of(m, X) == MROLE_ADMIN);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
	printf("# storm: %s\n", first);
}

/* Two admins demote each other: never no admin. */
static void
test_mutual_demotion(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a;
	char first[1024];

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	entry(&h, F, A, MROLE_TEACHER, 0, 0, NULL, SEEN((int)a));
	entry(&h, A, F, MROLE_TEACHER, 0, 0, NULL, SEEN((int)a));
	m = eval(&h);
	CHECK(proto_members_admins(m) == 1);
	proto_members_free(m);
	CHECK(same_in_every_order(&h, first, sizeof(first)));
}

/* Entries of the first release name nothing: each is judged against
 * everything before it. The founder's count; a teacher's do not. */
static void
test_legacy(void)
{
	struct hist h = { .n = 0 };
	struct members *m;

	entry(&h, F, F, MROLE_TEACHER, 0, 0, "Founder", NULL);
	entry(&h, F, T, MROLE_TEACHER, 0, 0, "Tom", NULL);
	entry(&h, T, X, MROLE_TEACHER, 0, 0, "Xi", NULL);
	for (size_t i = 0; i < h.n; i++)
		h.e[i].has_seen = 0;
	m = eval(&h);
	CHECK(role_of(m, F) == MROLE_ADMIN);	/* its own record demotes not */
	CHECK(role_of(m, T) == MROLE_TEACHER);
	CHECK(role_of(m, X) == -1);
	CHECK(proto_members_find(m, F)->name_len == 7);
	proto_members_free(m);
}

/* A reference with a wrong hash names nothing held: the entry is judged
 * by what came before it, as one of the first release is. Forged cycles
 * are left out, not looped on. */
static void
test_bad_refs(void)
{
	struct hist h = { .n = 0 };
	struct members *m;
	size_t a, x;

	a = entry(&h, F, A, MROLE_ADMIN, 0, 0, "Ana", NULL);
	x = entry(&h, A, X, MROLE_TEACHER, 0, 0, "Xi", SEEN((int)a));
	h.e[x].seen[0].hash[0] ^= 1;
	m = eval(&h);
	CHECK(m->honoured[x]);	/* A's add came before it */
	proto_members_free(m);
	/* A cycle: two entries each naming the other. */
	h.e[x].seen[0] = h.e[a].ref;
	h.e[a].seen[0] = h.e[x].ref;
	h.e[a].nseen = 1;
	m = eval(&h);
	CHECK(m != NULL && role_of(m, F) == MROLE_ADMIN);
	CHECK(!m->honoured[a] && !m->honoured[x]);
	proto_members_free(m);
}

static void
test_text_forms(void)
{
	struct write_ref refs[2], back[4];
	char buf[2 * (MEMBERS_REF_LEN + 1) + 1];
	uint8_t hash[PROTO_HASHLEN];
	uint64_t seq;
	size_t n;

	memset(refs, 0, sizeof(refs));
	memset(refs[0].author, 0xab, PROTO_IDLEN);
	refs[0].seq = 18446744073709551614ULL;
	memset(refs[0].hash, 0x01, PROTO_HASHLEN);
	memset(refs[1].author, 0x02, PROTO_IDLEN);
	refs[1].seq = 0;
	CHECK(proto_member_refs_format(refs, 2, buf, sizeof(buf)) == 0);
	CHECK(proto_member_refs_parse(buf, strlen(buf), back, 4, &n) == 0);
	CHECK(n == 2 && back[0].seq == refs[0].seq && back[1].seq == 0);
	CHECK(memcmp(back[0].author, refs[0].author, PROTO_IDLEN) == 0);
	CHECK(proto_member_refs_parse(buf, strlen(buf), back, 1, &n) != 0);
	CHECK(proto_member_refs_parse("", 0, back, 4, &n) == 0 && n == 0);
	CHECK(proto_member_refs_parse(",", 1, back, 4, &n) != 0);
	CHECK(proto_member_refs_parse(buf, strlen(buf) - 1, back, 4, &n) != 0);
	buf[0] = 'A';
	CHECK(proto_member_refs_parse(buf, strlen(buf), back, 4, &n) != 0);
	CHECK(proto_member_cutoff_parse("12:0000000000000000000000000000000000"
	    "000000000000000000000000000000", 67, &seq, hash) == 0 &&
	    seq == 12);
	CHECK(proto_member_cutoff_parse("012:00", 6, &seq, hash) != 0);
	CHECK(proto_member_cutoff_parse("12", 2, &seq, hash) != 0);
}

/* What an evaluation costs (printed, never asserted: speed is measured,
 * not tested): a team's year of changes, 300 devices added one after
 * another, and 60 changes by six admins who never saw each other's. */
static void
test_cost(void)
{
	static struct hist h;
	static uint8_t ids_[300][PROTO_IDLEN];
	struct timespec t0, t1;
	struct members *m;
	int prev = -1;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 300; i++) {
		memset(ids_[i], 0x80 + i % 100, PROTO_IDLEN);
		ids_[i][0] = (uint8_t)(10 + i / 100);
		ids_[i][1] = (uint8_t)i;
		prev = (int)entry(&h, F, ids_[i], i < 6 ? MROLE_ADMIN :
		    MROLE_TEACHER, 0, 0, "x", prev < 0 ? NULL :
		    (const int[]){ prev, -1 });
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	m = eval(&h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(m != NULL && m->n == 301);
	printf("# 300 adds in a row: %.2f ms\n", (t1.tv_sec - t0.tv_sec) *
	    1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	proto_members_free(m);
	for (int i = 0; i < 60; i++)
		entry(&h, ids_[i % 6], ids_[6 + i], MROLE_TEACHER, 0, 0, "y",
		    (const int[]){ prev, -1 });
	clock_gettime(CLOCK_MONOTONIC, &t0);
	m = eval(&h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(m != NULL && proto_members_admins(m) == 7);
	printf("# and 60 concurrent changes by 6 admins: %.2f ms\n",
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	proto_members_free(m);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_founder_alone),
		TAP_TEST(test_admins_add),
		TAP_TEST(test_box_writes_nothing),
		TAP_TEST(test_causal_authority),
		TAP_TEST(test_demotion_cutoff),
		TAP_TEST(test_removal_cutoff),
		TAP_TEST(test_mutual_removal),
		TAP_TEST(test_concurrent_storm),
		TAP_TEST(test_mutual_demotion),
		TAP_TEST(test_legacy),
		TAP_TEST(test_bad_refs),
		TAP_TEST(test_text_forms),
		TAP_TEST(test_cost),
	};

	ids();
	return tap_run(tests, LEN(tests));
}
