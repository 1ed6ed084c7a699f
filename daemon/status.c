/*
 * satchel status: this device, its peers, what each side lacks as far as
 * this device knows, and open conflicts. Read from the store alone, so it
 * works with or without a daemon running.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "satchel.h"
#include "http/http.h"

struct peer_status {
	char		addr[96];
	char		name[NAME_MAX_LEN + 1];	/* its member name, or "" */
	uint8_t		id[PROTO_IDLEN];
	int		id_known;
	int		added;		/* by peer add: this device dials it */
	int		connected;
	uint64_t	last_ms;	/* its last completed sync; 0: none */
	int		gaps_known;	/* a vector of it is held */
	uint64_t	we_lack, they_lack;
	int		clock_known;
	int64_t		clock_ms;	/* its clock minus ours, last seen */
};

struct status {
	struct device	*d;
	struct store_txn *t;
	struct vec	 ours;
	struct peer_status peers[64];
	size_t		 npeers;
	uint64_t	 entries;
	int		 conflicts;
	uint64_t	 invalid;	/* held as no-ops: refused content */
	uint64_t	 newer;		/* held for a newer version */
	struct clock_verdict clock;
	struct vec	 frozen;	/* forked authors; seq: fork point */
	char		 keys[768];	/* epoch_status */
	int		 keys_state;
};

static int
unapplied_cb(const uint8_t *author, uint64_t seq, int kind, const char *why,
    void *arg)
{
	struct status *s = arg;

	(void)author;
	(void)seq;
	(void)why;
	if (kind == UNAPPLIED_NEWER)
		s->newer++;
	else
		s->invalid++;
	return 0;
}

static int
frozen_cb(const uint8_t *author, uint64_t fseq, void *arg)
{
	return vec_raise(arg, author, fseq, NULL) != 0;
}

/* The forked logs: this device's own first, in one line it can act on. */
static void
print_forks_text(const struct status *s)
{
	const struct vec_item *self = vec_find(&s->frozen, s->d->id);
	char line[256], id[2 * PROTO_IDLEN + 1];

	if (self != NULL) {
		fork_self_line(line, sizeof(line), self->seq);
		printf("forked   %s\n", line);
	}
	for (size_t i = 0; i < s->frozen.n; i++) {
		const struct vec_item *it = &s->frozen.items[i];

		if (it == self)
			continue;
		sodium_bin2hex(id, sizeof(id), it->author, PROTO_IDLEN);
		printf("frozen   %.12s: its log forked; its changes after seq "
		    "%llu are kept aside, not applied\n", id,
		    (unsigned long long)it->seq);
	}
}

static void
print_forks_json(const struct status *s)
{
	const struct vec_item *self = vec_find(&s->frozen, s->d->id);
	char id[2 * PROTO_IDLEN + 1];

	if (self != NULL)
		printf(",\"forked\":{\"after_seq\":%llu}",
		    (unsigned long long)self->seq);
	else
		printf(",\"forked\":null");
	printf(",\"frozen\":[");
	for (size_t i = 0; i < s->frozen.n; i++) {
		sodium_bin2hex(id, sizeof(id), s->frozen.items[i].author,
		    PROTO_IDLEN);
		printf("%s{\"device\":\"%s\",\"after_seq\":%llu}",
		    i ? "," : "", id,
		    (unsigned long long)s->frozen.items[i].seq);
	}
	printf("]");
}

static struct peer_status *
peer_slot(struct status *s, const char *addr, const uint8_t *id)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (id != NULL && s->peers[i].id_known &&
		    memcmp(s->peers[i].id, id, PROTO_IDLEN) == 0)
			return &s->peers[i];
	/* An added peer whose id a one-shot sync learnt but did not save. */
	for (size_t i = 0; i < s->npeers; i++)
		if (addr != NULL && strcmp(s->peers[i].addr, addr) == 0 &&
		    (id == NULL || !s->peers[i].id_known))
			return &s->peers[i];
	if (s->npeers == sizeof(s->peers) / sizeof(s->peers[0]))
		return NULL;
	memset(&s->peers[s->npeers], 0, sizeof(s->peers[0]));
	return &s->peers[s->npeers++];
}

static int
peer_cb(const char *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct status *s = arg;
	struct peer_status *p;
	char addr[64];

	snprintf(addr, sizeof(addr), "%.*s", (int)(klen - 5), key + 5);
	if ((p = peer_slot(s, addr, vlen == PROTO_IDLEN ? val : NULL)) == NULL)
		return 1;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->added = 1;
	if (vlen == PROTO_IDLEN) {
		memcpy(p->id, val, PROTO_IDLEN);
		p->id_known = 1;
	}
	return 0;
}

/* pstat:<hex id> = "connected ms pid addr", written by serve and sync. */
static int
pstat_cb(const char *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct status *s = arg;
	struct peer_status *p;
	uint8_t id[PROTO_IDLEN];
	char buf[200], addr[64] = "";
	unsigned long long ms = 0, pid = 0;
	int connected = 0;
	size_t len;

	if (klen != 6 + 2 * PROTO_IDLEN || vlen >= sizeof(buf) ||
	    sodium_hex2bin(id, sizeof(id), key + 6, 2 * PROTO_IDLEN, NULL, &len,
	    NULL) != 0)
		return 0;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if (sscanf(buf, "%d %llu %llu %63s", &connected, &ms, &pid, addr) < 3)
		return 0;
	if ((p = peer_slot(s, addr, id)) == NULL)
		return 1;
	if (p->addr[0] == '\0')
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
	memcpy(p->id, id, PROTO_IDLEN);
	p->id_known = 1;
	p->connected = connected && pid > 0 && kill((pid_t)pid, 0) == 0;
	p->last_ms = ms;
	return 0;
}

static void
peer_gaps(struct status *s, struct peer_status *p)
{
	struct vec theirs;

	if (!p->id_known)
		return;
	member_name(s->d, s->t, p->id, p->name, sizeof(p->name));
	p->clock_known = clock_peer_offset(s->t, p->id, &p->clock_ms) == 0;
	if (!vec_peer_known(s->t, p->id) ||
	    vec_load_peer(&theirs, s->t, p->id) != 0)
		return;		/* never synced: what it lacks is unknown */
	p->gaps_known = 1;
	for (size_t i = 0; i < s->ours.n; i++) {
		uint64_t t = vec_seq(&theirs, s->ours.items[i].author);

		if (s->ours.items[i].seq > t)
			p->they_lack += s->ours.items[i].seq - t;
	}
	for (size_t i = 0; i < theirs.n; i++) {
		uint64_t o = vec_seq(&s->ours, theirs.items[i].author);

		if (theirs.items[i].seq > o)
			p->we_lack += theirs.items[i].seq - o;
	}
	vec_free(&theirs);
}

static int
conflict_cb(const struct record *r, void *arg)
{
	struct status *s = arg;

	for (size_t i = 0; i < r->nregs; i++)
		s->conflicts += r->regs[i].nheads > 1;
	return 0;
}

/* How far the peer's clock was from ours when it last connected. */
static void
print_peer_clock(const struct peer_status *p)
{
	char span[32];

	if (!p->clock_known)
		putchar('\n');
	else if (p->clock_ms > -CLOCK_WARN_MS && p->clock_ms < CLOCK_WARN_MS)
		printf("  its clock agrees\n");
	else {
		clock_span(span, sizeof(span), p->clock_ms);
		printf("  its clock %s %s\n", span, p->clock_ms > 0 ? "ahead" :
		    "behind");
	}
}

/* A peer this device dials by its address; one that dials in, by its
 * host alone: its port is a temporary one, new at each connection. */
static void
print_peer_addr(const struct peer_status *p)
{
	const char *colon = strrchr(p->addr, ':');

	if (p->added || colon == NULL)
		printf("%s", p->addr[0] ? p->addr : "?");
	else
		printf("dials in from %.*s", (int)(colon - p->addr), p->addr);
}

static void
print_text(const struct status *s)
{
	char id[2 * PROTO_IDLEN + 1], fp[20], when[32];

	devid_format(s->d->id, id);
	team_fingerprint(s->d, fp);
	printf("device   %s  %s (%s)\nteam     %s\nentries  %llu from %zu "
	    "%s\nconflicts %d\n", id, s->d->name, s->d->role, fp,
	    (unsigned long long)s->entries, s->ours.n, s->ours.n == 1 ?
	    "device" : "devices", s->conflicts);
	if (s->invalid > 0)
		printf("refused  %llu %s held as no-ops: their content "
		    "is not valid (satchel verify lists them)\n",
		    (unsigned long long)s->invalid, plural(s->invalid, "entry",
		    "entries"));
	if (s->newer > 0)
		printf("waiting  %llu %s from a newer Satchel: upgrade "
		    "this device to apply %s\n",
		    (unsigned long long)s->newer, plural(s->newer, "entry",
		    "entries"), plural(s->newer, "it", "them"));
	print_forks_text(s);
	printf("keys     %s%s\n", s->keys_state != EPOCH_OK ? "warning: " :
	    "", s->keys);
	if (s->npeers == 0)
		printf("peers    none (satchel peer add HOST:PORT)\n");
	for (size_t i = 0; i < s->npeers; i++) {
		const struct peer_status *p = &s->peers[i];
		time_t secs = (time_t)(p->last_ms / 1000);
		struct tm tm;

		snprintf(when, sizeof(when), "never");
		if (p->last_ms > 0) {
			localtime_r(&secs, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		}
		sodium_bin2hex(id, sizeof(id), p->id, PROTO_IDLEN);
		printf("peer     %s  ", p->name[0] ? p->name : "(not a member "
		    "yet)");
		print_peer_addr(p);
		printf("  %.12s  %s  last sync %s  ", p->id_known ? id : "?",
		    p->connected ? "connected" : "not connected", when);
		if (p->gaps_known)
			printf("this device lacks %llu, it lacks %llu",
			    (unsigned long long)p->we_lack,
			    (unsigned long long)p->they_lack);
		else
			printf("what each lacks: unknown until they sync");
		print_peer_clock(p);
	}
	if (s->clock.off)
		printf("clock    warning: %s\n", s->clock.text);
	else if (s->clock.npeers > 0)
		printf("clock    within an hour of the clocks of %zu %s "
		    "seen lately\n", s->clock.npeers, s->clock.npeers == 1 ?
		    "peer" : "peers");
	else
		printf("clock    no peer's clock seen lately\n");
}

static void
print_clock_json(const struct clock_verdict *v)
{
	static const char *const off[] = { "", "this device", "peer",
	    "unsure" };
	char id[2 * PROTO_IDLEN + 1] = "";

	if (v->off == CLOCK_OFF_PEER || v->off == CLOCK_OFF_UNSURE)
		sodium_bin2hex(id, sizeof(id), v->device, PROTO_IDLEN);
	printf(",\"clock\":{\"ok\":%s,\"off\":\"%s\",\"device\":\"%s\","
	    "\"offset_ms\":%lld,\"peers_seen\":%zu,\"warning\":",
	    v->off ? "false" : "true", off[v->off], id,
	    (long long)v->offset_ms, v->npeers);
	json_str(v->text);
	putchar('}');
}

static void
print_json(const struct status *s)
{
	char id[2 * PROTO_IDLEN + 1], fp[20];

	sodium_bin2hex(id, sizeof(id), s->d->id, PROTO_IDLEN);
	team_fingerprint(s->d, fp);
	printf("{\"device\":\"%s\",\"name\":", id);
	json_str(s->d->name);
	printf(",\"role\":\"%s\",\"team\":\"%s\",\"entries\":%llu,"
	    "\"conflicts\":%d,\"refused\":%llu,\"waiting_upgrade\":%llu",
	    s->d->role, fp, (unsigned long long)s->entries, s->conflicts,
	    (unsigned long long)s->invalid, (unsigned long long)s->newer);
	print_forks_json(s);
	printf(",\"epoch\":%u,\"keys_outdated\":%s,\"removed\":%s,"
	    "\"keys\":", (unsigned)epoch_current(s->d, NULL),
	    s->keys_state == EPOCH_OUTDATED ? "true" : "false",
	    s->keys_state == EPOCH_REMOVED ? "true" : "false");
	json_str(s->keys);
	printf(",\"peers\":[");
	for (size_t i = 0; i < s->npeers; i++) {
		const struct peer_status *p = &s->peers[i];

		sodium_bin2hex(id, sizeof(id), p->id, PROTO_IDLEN);
		printf("%s{\"addr\":", i ? "," : "");
		json_str(p->addr);
		printf(",\"device\":\"%s\",\"connected\":%s,\"last_sync_ms\":"
		    "%llu,", p->id_known ? id : "", p->connected ? "true" :
		    "false", (unsigned long long)p->last_ms);
		if (p->gaps_known)
			printf("\"this_lacks\":%llu,\"it_lacks\":%llu",
			    (unsigned long long)p->we_lack,
			    (unsigned long long)p->they_lack);
		else
			printf("\"this_lacks\":null,\"it_lacks\":null");
		printf(",\"name\":");
		json_str(p->name);
		printf(",\"dials_in\":%s", p->added ? "false" : "true");
		if (p->clock_known)
			printf(",\"clock_offset_ms\":%lld",
			    (long long)p->clock_ms);
		putchar('}');
	}
	putchar(']');
	print_clock_json(&s->clock);
	printf("}\n");
}

/* Reads everything status shows, in one read transaction. */
static int
status_collect(struct device *d, struct status *s)
{
	int rc;

	s->d = d;
	if ((rc = store_begin(d->st, STORE_RDONLY, &s->t)) != 0)
		return rc;
	if ((rc = vec_from_heads(&s->ours, s->t)) == 0 &&
	    (rc = store_meta_each(s->t, "peer:", peer_cb, s)) == 0 &&
	    (rc = store_meta_each(s->t, "pstat:", pstat_cb, s)) == 0 &&
	    (rc = store_unapplied_each(s->t, unapplied_cb, s)) == 0 &&
	    (rc = store_forks_each(s->t, frozen_cb, &s->frozen)) == 0)
		rc = store_records_heads_each(s->t, 0, conflict_cb, s);
	if (rc == 0)
		rc = clock_verdict(s->t, now_ms(), &s->clock);
	if (rc == 0)
		epoch_status(d, s->t, s->keys, sizeof(s->keys), &s->keys_state);
	for (size_t i = 0; i < s->ours.n; i++)
		s->entries += s->ours.items[i].seq;
	for (size_t i = 0; rc == 0 && i < s->npeers; i++)
		peer_gaps(s, &s->peers[i]);
	store_abort(s->t);
	s->t = NULL;
	return rc;
}

static void
status_free(struct status *s)
{
	vec_free(&s->ours);
	vec_free(&s->frozen);
	free(s);
}

int
cmd_status(struct device *d, struct args *a)
{
	struct status *s = calloc(1, sizeof(*s));
	int rc;

	(void)a;
	if (s == NULL)
		return fail("out of memory");
	if ((rc = status_collect(d, s)) == 0)
		d->json ? print_json(s) : print_text(s);
	status_free(s);
	return rc == 0 ? 0 : device_store_error(rc, "status");
}

/* status --json's object, for the page (http/api_read.c): NULL if the
 * store failed. The caller owns the result. */
json_t *
status_json(struct device *d)
{
	struct status *s = calloc(1, sizeof(*s));
	char id[2 * PROTO_IDLEN + 1], fp[20];
	json_t *o = NULL, *peers;

	if (s == NULL || status_collect(d, s) != 0)
		goto out;
	sodium_bin2hex(id, sizeof(id), d->id, PROTO_IDLEN);
	team_fingerprint(d, fp);
	peers = json_array();
	if (store_begin(d->st, STORE_RDONLY, &s->t) != 0)
		s->t = NULL;
	for (size_t i = 0; i < s->npeers; i++) {
		const struct peer_status *p = &s->peers[i];
		char pid[2 * PROTO_IDLEN + 1] = "", name[NAME_MAX_LEN + 1];

		/* The page names a peer as the team knows it. */
		if (p->id_known)
			sodium_bin2hex(pid, sizeof(pid), p->id, PROTO_IDLEN);
		if (!p->id_known || s->t == NULL || member_name(d, s->t, p->id,
		    name, sizeof(name)) == NULL)
			name[0] = '\0';
		json_array_append_new(peers, json_pack("{s:s,s:s,s:s?,s:b,s:I,"
		    "s:I,s:I}", "addr", p->addr, "device", pid, "name",
		    name[0] ? name : NULL, "connected", p->connected,
		    "last_sync_ms", (json_int_t)p->last_ms, "this_lacks",
		    (json_int_t)p->we_lack, "it_lacks", (json_int_t)p->they_lack));
	}
	if (s->t != NULL)
		store_abort(s->t);
	o = json_pack("{s:s,s:s?,s:s,s:s,s:I,s:i,s:I,s:I,s:o,s:{s:b,s:s}}",
	    "device", id, "name", d->name,
	    "role", d->role, "team", fp, "entries", (json_int_t)s->entries,
	    "conflicts", s->conflicts, "refused", (json_int_t)s->invalid,
	    "waiting_upgrade", (json_int_t)s->newer, "peers", peers, "clock",
	    "ok", !s->clock.off, "warning", s->clock.text);
	if (o != NULL && vec_find(&s->frozen, d->id) != NULL) {
		char line[256];

		fork_self_line(line, sizeof(line),
		    vec_find(&s->frozen, d->id)->seq);
		json_object_set_new(o, "forked", json_string(line));
	}
out:
	if (s != NULL)
		status_free(s);
	return o;
}
