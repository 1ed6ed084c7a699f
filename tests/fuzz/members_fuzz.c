/*
 * libFuzzer target: membership records. The same bytes are read three
 * ways, so that one corpus exercises every untrusted path:
 *  - as a change (proto_change_decode) that, when it is a member change,
 *    proto_member_entry reads: it must not crash, whatever the fields;
 *  - as the text of a "seen" or "cutoff" value: a value read must format
 *    back to the same text;
 *  - as a compact history of up to 64 membership entries among 8 devices
 *    (7 bytes each: author, target, role, removal, cut-off, clock, then
 *    the count of entries seen (low 2 bits) with flags 4 (written by the
 *    first release: no seen) and 8 (wrong hashes); then which earlier
 *    entries it saw, one byte each), which proto_members_eval judges, the
 *    founder being device 0. It must
 *    not crash; the entries given in reverse must give the same
 *    membership; and while a non-box member remains, one is an admin.
 * Seeds (tests/fuzz/corpus/members) are histories: a box writing every
 * membership change it could, two admins removing and re-adding each
 * other, a teacher adding devices, a chain of admins.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DEVS	8
#define MAXH	64

static uint8_t devs[DEVS][PROTO_IDLEN];
static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g",
    "h" };

static void
change_path(const uint8_t *buf, size_t len)
{
	static struct change c;
	struct member_entry e;
	struct write_ref ref;

	memset(&ref, 0, sizeof(ref));
	if (proto_change_decode(&c, buf, len) == 0 &&
	    c.kind == KIND_MEMBER && proto_member_entry(&e, &c, &ref, 1) == 0 &&
	    memcmp(e.target, c.record_id, PROTO_RECIDLEN) != 0)
		abort();	/* an entry about another device than its record */
}

static void
text_path(const uint8_t *buf, size_t len)
{
	struct write_ref refs[MEMBERS_MAX_SEEN];
	char out[MEMBERS_MAX_SEEN * (MEMBERS_REF_LEN + 1) + 1];
	uint8_t hash[PROTO_HASHLEN];
	uint64_t seq;
	size_t n;

	if (proto_member_refs_parse((const char *)buf, len, refs,
	    MEMBERS_MAX_SEEN, &n) == 0) {
		if (proto_member_refs_format(refs, n, out, sizeof(out)) != 0 ||
		    strlen(out) != len || memcmp(out, buf, len) != 0)
			abort();
	}
	if (proto_member_cutoff_parse((const char *)buf, len, &seq, hash) == 0 &&
	    seq == UINT64_MAX)
		abort();	/* the one value that means no cut-off */
}

/* The history the bytes describe; returns the entry count. */
static size_t
history(const uint8_t *buf, size_t len, struct member_entry *h)
{
	uint64_t seq[DEVS] = { 0 };
	size_t n = 0;

	while (len >= 7 && n < MAXH) {
		struct member_entry *e = &h[n];
		uint8_t flags = buf[6];

		memset(e, 0, sizeof(*e));
		memcpy(e->ref.author, devs[buf[0] % DEVS], PROTO_IDLEN);
		e->ref.seq = ++seq[buf[0] % DEVS];
		memset(e->ref.hash, (int)n + 1, PROTO_HASHLEN);
		e->ref.has_hash = 1;
		memcpy(e->target, devs[buf[1] % DEVS], PROTO_IDLEN);
		e->role = buf[2] % 4;
		e->removal = buf[3] % 4;
		e->cutoff_seq = buf[4];
		e->hlc = buf[5];
		e->name = names[buf[1] % DEVS];
		e->name_len = 1;
		e->has_seen = !(flags & 4);
		e->has_cutoff = (flags & 16) || e->removal == MREMOVE_LEFT ||
		    e->removal == MREMOVE_LOST;	/* a demotion's, or not */
		buf += 7;
		len -= 7;
		for (size_t s = 0; s < (flags & 3u) && len > 0; s++) {
			if (n > 0) {
				e->seen[e->nseen] = h[*buf % n].ref;
				if (flags & 8)	/* a wrong hash */
					e->seen[e->nseen].hash[0] ^= 0xff;
				e->nseen++;
			}
			buf++;
			len--;
		}
		n++;
	}
	return n;
}

static void
summary(const struct members *m, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%u:%u:%u:%u:%llu;",
		    m->m[i].id[0], m->m[i].role, m->m[i].removal,
		    m->m[i].removed_by[0],
		    (unsigned long long)m->m[i].cutoff_seq);
}

static void
history_path(const uint8_t *buf, size_t len)
{
	static struct member_entry h[MAXH], r[MAXH];
	char a[2048], b[2048];
	struct members *m1, *m2;
	size_t n = history(buf, len, h), others = 0;

	for (size_t i = 0; i < n; i++)
		r[i] = h[n - 1 - i];
	m1 = proto_members_eval(devs[0], h, n);
	m2 = proto_members_eval(devs[0], r, n);
	if (m1 == NULL || m2 == NULL)
		abort();
	summary(m1, a, sizeof(a));
	summary(m2, b, sizeof(b));
	if (strcmp(a, b) != 0)
		abort();	/* the order entries came in changed the outcome */
	for (size_t i = 0; i < m1->n; i++)
		others += m1->m[i].removal == MREMOVE_NONE &&
		    m1->m[i].role != MROLE_BOX;
	if (others > 0 && proto_members_admins(m1) == 0)
		abort();	/* members left, and none may change the team */
	proto_members_free(m1);
	proto_members_free(m2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	if (devs[1][0] == 0)
		for (int i = 0; i < DEVS; i++) {
			memset(devs[i], 0x11 * (i + 1), PROTO_IDLEN);
			devs[i][0] = (uint8_t)(i + 1);
		}
	change_path(buf, len);
	text_path(buf, len);
	history_path(buf, len);
	return 0;
}
