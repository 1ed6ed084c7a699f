/*
 * The page's login sessions, which survive a restart of satchel serve.
 *
 * A session is a random 256-bit cookie that a one-time login link gave.
 * The store keeps, in its meta table, "session:" + the hex BLAKE2b hash
 * of the cookie = the session's last activity (ms, as 8 bytes): the
 * cookie itself is never written down, so the data directory read by
 * someone else gives no cookie. It is written in the store's own
 * transactions (durable, atomic, in the store's 0600 files), the way the
 * login links are.
 *
 * A session is found in memory first; one from before a restart (or one
 * pushed out of memory) is read back from the store. Activity is
 * written back at most every SESSION_SAVE_MS (sooner with a short
 * --http-idle), so the idle expiry after a restart errs early by that
 * much at most. The lock button and expiry delete the stored session;
 * expired ones left behind are swept whenever a new one starts.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "http.h"
#include "net.h"

#define SESSION_PREFIX	"session:"
#define SESSION_SAVE_MS	(UINT64_C(60) * 1000)
#define SWEEP_MAX	64	/* expired sessions deleted per sweep */

/* "session:HASH": what the store calls the session of cookie id. */
static void
session_key(const char *id, char key[SESSION_KEYLEN])
{
	uint8_t hash[32];
	char hex[65];

	crypto_generichash(hash, sizeof(hash), (const uint8_t *)id,
	    SESSION_HEXLEN, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(key, SESSION_KEYLEN, SESSION_PREFIX "%s", hex);
}

static int
expired(const struct sessions *ss, uint64_t last, uint64_t now)
{
	/* A clock stepped back a little (NTP) does not lock the page. */
	return now < last ? last - now > ss->idle_ms : now - last > ss->idle_ms;
}

/* Writes (last != 0) or deletes one stored session; 0 or -1. */
static int
store_session(struct sessions *ss, const char *id, uint64_t last)
{
	char key[SESSION_KEYLEN];
	struct store_txn *t;
	int rc;

	session_key(id, key);
	if (store_begin(ss->d->st, 0, &t) != 0)
		return -1;
	rc = last != 0 ? store_meta_put(t, key, &last, sizeof(last)) :
	    store_meta_del(t, key);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		store_abort(t);
		return -1;
	}
	return store_commit(t) == 0 ? 0 : -1;
}

/* The stored session of cookie id: 0 and its last activity, or -1. */
static int
load_session(struct sessions *ss, const char *id, uint64_t *last)
{
	char key[SESSION_KEYLEN];
	struct store_txn *t;
	const void *v;
	size_t len;
	int rc;

	session_key(id, key);
	if (store_begin(ss->d->st, STORE_RDONLY, &t) != 0)
		return -1;
	rc = store_meta_get(t, key, &v, &len);
	if (rc == 0 && len == sizeof(*last))
		memcpy(last, v, sizeof(*last));
	store_abort(t);
	return rc == 0 && len == sizeof(*last) ? 0 : -1;
}

/* A slot: a free one, else the least recently used, whose activity is
 * written back first (it lives on in the store). */
static struct session *
slot(struct sessions *ss)
{
	struct session *s = &ss->s[0];

	for (size_t i = 0; i < SESSIONS_MAX; i++)
		if (ss->s[i].last_ms < s->last_ms)
			s = &ss->s[i];
	if (s->id[0] != '\0' && s->last_ms != s->saved_ms)
		(void)store_session(ss, s->id, s->last_ms);
	sodium_memzero(s, sizeof(*s));
	return s;
}

struct session *
session_find(struct sessions *ss, const char *id)
{
	uint64_t now = now_ms(), last = 0;
	struct session *s;

	if (id == NULL || strlen(id) != SESSION_HEXLEN ||
	    strspn(id, "0123456789abcdef") != SESSION_HEXLEN)
		return NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		s = &ss->s[i];
		if (s->id[0] == '\0' ||
		    sodium_memcmp(s->id, id, SESSION_HEXLEN) != 0)
			continue;
		if (expired(ss, s->last_ms, now)) {
			session_end(ss, s);
			return NULL;
		}
		return s;
	}
	/* From before a restart, or pushed out of memory. */
	if (load_session(ss, id, &last) != 0)
		return NULL;
	if (expired(ss, last, now)) {
		(void)store_session(ss, id, 0);
		return NULL;
	}
	s = slot(ss);
	memcpy(s->id, id, SESSION_HEXLEN + 1);
	s->last_ms = s->saved_ms = last;
	return s;
}

struct sweep {
	const struct sessions *ss;
	uint64_t	 now;
	size_t		 n;
	char		 keys[SWEEP_MAX][SESSION_KEYLEN];
};

static int
sweep_cb(const char *key, size_t klen, const void *v, size_t vlen,
    void *arg)
{
	struct sweep *sw = arg;
	uint64_t last;

	if (vlen != sizeof(last) || klen >= SESSION_KEYLEN)
		return 0;
	memcpy(&last, v, sizeof(last));
	if (expired(sw->ss, last, sw->now)) {
		memcpy(sw->keys[sw->n], key, klen);
		sw->keys[sw->n++][klen] = '\0';
	}
	return sw->n == SWEEP_MAX;
}

/* A new session, stored with the expired ones swept in the same
 * transaction; NULL if the store cannot write. */
struct session *
session_new(struct sessions *ss)
{
	static struct sweep sw;		/* 5 KB: the loop's one at a time */
	uint8_t raw[SESSION_HEXLEN / 2];
	char key[SESSION_KEYLEN];
	struct session *s = slot(ss);
	struct store_txn *t;
	int rc;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(s->id, sizeof(s->id), raw, sizeof(raw));
	s->last_ms = s->saved_ms = now_ms();
	sw.ss = ss;
	sw.now = s->last_ms;
	sw.n = 0;
	session_key(s->id, key);
	if (store_begin(ss->d->st, 0, &t) != 0)
		goto fail;
	rc = store_meta_each(t, SESSION_PREFIX, sweep_cb, &sw);
	for (size_t i = 0; rc == 0 && i < sw.n; i++)
		rc = store_meta_del(t, sw.keys[i]);
	if (rc == 0)
		rc = store_meta_put(t, key, &s->last_ms, sizeof(s->last_ms));
	if (rc != 0) {
		store_abort(t);
		goto fail;
	}
	if (store_commit(t) == 0)
		return s;
fail:
	sodium_memzero(s, sizeof(*s));
	return NULL;
}

void
session_touch(struct sessions *ss, struct session *s)
{
	uint64_t every = ss->idle_ms / 4 < SESSION_SAVE_MS ? ss->idle_ms / 4 :
	    SESSION_SAVE_MS;

	s->last_ms = now_ms();
	if (s->last_ms - s->saved_ms >= every &&
	    store_session(ss, s->id, s->last_ms) == 0)
		s->saved_ms = s->last_ms;
}

void
session_end(struct sessions *ss, struct session *s)
{
	if (s->id[0] != '\0' && store_session(ss, s->id, 0) != 0)
		net_log("page: could not end a stored session; it expires "
		    "when idle");
	sodium_memzero(s, sizeof(*s));
}
