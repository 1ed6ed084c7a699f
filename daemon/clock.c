/*
 * How far this device's clock is from its peers'. Each handshake carries
 * the sender's wall clock (version 2 on); the offset seen is kept per peer
 * in meta, "pclock:<hex id>" = "offset_ms seen_ms", and every command can
 * then say whether a clock is off, and whose.
 *
 * Whose clock is off is decided by vote: this device's clock and each
 * peer's seen recently, the median taken as the team's time. A clock more
 * than CLOCK_WARN_MS from it is off. With one peer only there is no
 * majority, and both devices are named.
 *
 * A fixed clock recovers by itself: the offsets a device kept while its
 * own clock was off carry that clock's idea of when they were seen, so
 * once it is right they fall outside the recent window; a peer's offset
 * is replaced at its next connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "net.h"

#define CLOCK_RECENT_MS	(UINT64_C(3) * 86400 * 1000)
#define CLOCK_PEERS_MAX	64

struct clock_seen {
	uint8_t	id[PROTO_IDLEN];
	int64_t	offset;		/* its clock minus ours, ms */
};

struct clock_walk {
	uint64_t	  now;
	size_t		  n;
	struct clock_seen peers[CLOCK_PEERS_MAX];
};

int
clock_peer_save(struct store_txn *t, const uint8_t *peer, int64_t offset_ms,
    uint64_t now)
{
	char key[80], hex[2 * PROTO_IDLEN + 1], val[64];

	sodium_bin2hex(hex, sizeof(hex), peer, PROTO_IDLEN);
	snprintf(key, sizeof(key), "pclock:%s", hex);
	snprintf(val, sizeof(val), "%lld %llu", (long long)offset_ms,
	    (unsigned long long)now);
	return store_meta_put(t, key, val, strlen(val));
}

/* The offset last seen for peer, whenever it was: 0, or STORE_ENOTFOUND
 * if its clock was never seen. */
int
clock_peer_offset(struct store_txn *t, const uint8_t *peer, int64_t *offset)
{
	char key[80], hex[2 * PROTO_IDLEN + 1], buf[64];
	long long off;
	const void *v;
	size_t len;
	int rc;

	sodium_bin2hex(hex, sizeof(hex), peer, PROTO_IDLEN);
	snprintf(key, sizeof(key), "pclock:%s", hex);
	if ((rc = store_meta_get(t, key, &v, &len)) != 0)
		return rc;
	if (len >= sizeof(buf))
		return STORE_ENOTFOUND;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (sscanf(buf, "%lld", &off) != 1)
		return STORE_ENOTFOUND;
	*offset = off;
	return 0;
}

static int
pclock_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct clock_walk *w = arg;
	struct clock_seen *p;
	char buf[64];
	long long off;
	unsigned long long seen;
	size_t len;

	if (w->n == CLOCK_PEERS_MAX || klen != 7 + 2 * PROTO_IDLEN ||
	    vlen >= sizeof(buf))
		return 0;
	p = &w->peers[w->n];
	if (sodium_hex2bin(p->id, PROTO_IDLEN, key + 7, 2 * PROTO_IDLEN, NULL,
	    &len, NULL) != 0 || len != PROTO_IDLEN)
		return 0;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if (sscanf(buf, "%lld %llu", &off, &seen) != 2)
		return 0;
	/* Seen in the window by today's clock; a stamp from the future is
	 * one this device made while its own clock was ahead. */
	if (seen > w->now + (uint64_t)CLOCK_WARN_MS ||
	    seen + CLOCK_RECENT_MS < w->now)
		return 0;
	p->offset = off;
	w->n++;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
abs64(int64_t x)
{
	return x < 0 ? -x : x;
}

/* The team's time as an offset from ours, by vote; *tie when there is
 * no majority (an even vote split by more than CLOCK_WARN_MS). */
static int64_t
team_offset(const struct clock_walk *w, int *tie)
{
	int64_t v[CLOCK_PEERS_MAX + 1];
	size_t n = 0;

	v[n++] = 0;		/* this device's own vote */
	for (size_t i = 0; i < w->n; i++)
		v[n++] = w->peers[i].offset;
	qsort(v, n, sizeof(v[0]), cmp_i64);
	*tie = n % 2 == 0 && v[n / 2] - v[n / 2 - 1] > CLOCK_WARN_MS;
	return n % 2 ? v[n / 2] : v[n / 2 - 1] / 2 + v[n / 2] / 2;
}

void
clock_span(char *out, size_t len, int64_t ms)
{
	uint64_t a = (uint64_t)abs64(ms);

	if (a >= UINT64_C(700) * 86400000)	/* rounded: 729 days is 2 years */
		snprintf(out, len, "%llu years", (unsigned long long)
		    ((a + UINT64_C(365) * 43200000) / (UINT64_C(365) *
		    86400000)));
	else if (a >= UINT64_C(2) * 86400000)
		snprintf(out, len, "%llu days",
		    (unsigned long long)((a + 43200000) / 86400000));
	else if (a >= UINT64_C(2) * 3600000)
		snprintf(out, len, "%llu hours",
		    (unsigned long long)((a + 1800000) / 3600000));
	else
		snprintf(out, len, "%llu minutes",
		    (unsigned long long)((a + 30000) / 60000));
}

/* "5be1c9a0d2e4 (Ms. Rivera)", by the team's membership records. */
static void
device_label(struct store_txn *t, const uint8_t *id, char *out, size_t len)
{
	char hex[2 * PROTO_IDLEN + 1];
	struct record *r = NULL;
	const char *name = NULL;

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	if (store_record_get(t, KIND_MEMBER, id, &r) == 0)
		name = record_get(r, "name");
	if (name != NULL)
		snprintf(out, len, "%.12s (%.60s)", hex, name);
	else
		snprintf(out, len, "%.12s", hex);
	record_free(r);
}

#define CLOCK_FIX_THIS	"set this device's date and time (its date settings, " \
	"'set time automatically'; on a box, NTP: timedatectl set-ntp true)"
#define CLOCK_FIX_PEER	"set the date and time on that device (its date " \
	"settings, or NTP on a box)"

/* The verdict on this device's clocks: v->off is 0 when every clock
 * agrees within CLOCK_WARN_MS. */
int
clock_verdict(struct store_txn *t, uint64_t now, struct clock_verdict *v)
{
	struct clock_walk w;
	char span[32], who[96];
	int64_t team;
	int rc, tie;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	w.now = now;
	if ((rc = store_meta_each(t, "pclock:", pclock_cb, &w)) != 0 ||
	    w.n == 0)
		return rc;
	v->npeers = w.n;
	team = team_offset(&w, &tie);
	if (tie) {
		size_t far = 0;

		for (size_t i = 1; i < w.n; i++)
			if (abs64(w.peers[i].offset) > abs64(w.peers[far].offset))
				far = i;
		device_label(t, w.peers[far].id, who, sizeof(who));
		clock_span(span, sizeof(span), w.peers[far].offset);
		v->off = CLOCK_OFF_UNSURE;
		memcpy(v->device, w.peers[far].id, PROTO_IDLEN);
		v->offset_ms = w.peers[far].offset;
		snprintf(v->text, sizeof(v->text), "this device's clock and "
		    "the clock of %s are %s apart, and no third device says "
		    "which is right: check the date on both; %s", who, span,
		    "set the wrong one's date and time (its date settings, or "
		    "NTP on a box)");
		return 0;
	}
	if (abs64(team) > CLOCK_WARN_MS) {
		clock_span(span, sizeof(span), team);
		v->off = CLOCK_OFF_THIS;
		v->offset_ms = -team;
		snprintf(v->text, sizeof(v->text), "this device's clock is %s "
		    "%s of its peers': %s", span, team < 0 ? "ahead" : "behind",
		    CLOCK_FIX_THIS);
		return 0;
	}
	for (size_t i = 0; i < w.n; i++) {
		int64_t d = w.peers[i].offset - team;

		if (abs64(d) <= CLOCK_WARN_MS)
			continue;
		device_label(t, w.peers[i].id, who, sizeof(who));
		clock_span(span, sizeof(span), d);
		v->off = CLOCK_OFF_PEER;
		memcpy(v->device, w.peers[i].id, PROTO_IDLEN);
		v->offset_ms = d;
		snprintf(v->text, sizeof(v->text), "the clock of %s is %s %s "
		    "of this device's and its other peers': %s", who, span,
		    d > 0 ? "ahead" : "behind", CLOCK_FIX_PEER);
		return 0;
	}
	return 0;
}

/* A peer's hello said its wall clock was wall_ms: keep the offset (a
 * lazy commit: advisory, like the rest of the peer status) and, if a
 * clock is now off, say so in the log. Called outside any transaction. */
void
clock_peer_seen(struct device *d, const uint8_t *peer, uint64_t wall_ms,
    const char *addr)
{
	struct clock_verdict v;
	struct store_txn *t;
	uint64_t now = now_ms();
	int64_t offset = (int64_t)wall_ms - (int64_t)now;

	if (store_begin(d->st, 0, &t) != 0)
		return;
	if (clock_peer_save(t, peer, offset, now) != 0) {
		store_abort(t);
		return;
	}
	if (store_commit_lazy(t) != 0 ||
	    store_begin(d->st, STORE_RDONLY, &t) != 0)
		return;
	if (clock_verdict(t, now, &v) == 0 && v.off)
		net_log("%s: warning: %s", addr, v.text);
	store_abort(t);
}

void
clock_warn(struct device *d)
{
	struct clock_verdict v;
	struct store_txn *t;

	if (store_begin(d->st, STORE_RDONLY, &t) != 0)
		return;
	if (clock_verdict(t, now_ms(), &v) == 0 && v.off)
		fprintf(stderr, "satchel: warning: %s\n", v.text);
	store_abort(t);
}

/* Remembers when an entry stamped more than CLOCK_WARN_MS after now
 * arrived, for history. A write cannot arrive before it was made, so
 * such a stamp proves a wrong clock. One stamped long before it arrived
 * proves nothing (it was written offline, or came the long way round),
 * so those are not kept: a new laptop that receives a team's whole past
 * would otherwise keep a row per entry. */
int
clock_note_received(struct store_txn *t, const struct envelope *e,
    uint64_t now)
{
	if (proto_hlc_ms(e->hlc) <= now + (uint64_t)CLOCK_WARN_MS)
		return 0;
	return store_received_put(t, e->author, e->seq, now);
}
