/*
 * Device ids as commands read and print them, and what this device knows
 * of a member: the name its record gives, and whether it has joined.
 *
 * People copy ids between laptops by hand, so commands print the checked
 * form (proto/devid.c) and read it back; a typo is refused with the place
 * of the mistake. The old 64-hex form has no check: it is still read where
 * scripts may pass it (peer add, export --for), never by member add, which
 * would otherwise add a device that can never join or be told apart.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

void
devid_format(const uint8_t *id, char out[PROTO_DEVID_LEN + 1])
{
	proto_devid_encode(id, out);
}

static int
devid_hex(const char *s, size_t len, uint8_t out[PROTO_IDLEN])
{
	size_t n;

	return len == 2 * PROTO_IDLEN && sodium_hex2bin(out, PROTO_IDLEN, s,
	    len, NULL, &n, NULL) == 0 && n == PROTO_IDLEN ? 0 : -1;
}

int
devid_arg(const char *what, const char *arg, int flags,
    uint8_t out[PROTO_IDLEN])
{
	const char *s = arg;
	size_t len;
	int group = 0, rc;

	/* Pasted ids come with spaces or a newline around them. */
	while (isspace((unsigned char)*s))
		s++;
	for (len = strlen(s); len > 0 && isspace((unsigned char)s[len - 1]);
	    len--)
		;
	if ((rc = proto_devid_decode(s, len, out, &group)) == 0) {
		if (crypto_core_ed25519_is_valid_point(out) != 1)
			return fail_usage("%s: '%.80s' is not the id of any "
			    "device (no key has it); copy it again from "
			    "'satchel id' on that device", what, arg);
		return 0;
	}
	if (rc == PROTO_DEVID_ECHECK)
		return fail_usage("%s: device id '%.80s' has a typo in "
		    "characters %d to %d (their check letter does not "
		    "match); copy it again from 'satchel id' on that device",
		    what, arg, 14 * (group - 1) + 1, 14 * group);
	if (devid_hex(s, len, out) == 0) {
		if (flags & DEVID_CHECKED)
			return fail_usage("%s: '%.80s' is a device id in the "
			    "old 64-hex form, which has no check against "
			    "typos; give the form 'satchel id' prints (8 "
			    "groups of 7, like ABCDEFG-HIJKLMN-...)", what,
			    arg);
		if (crypto_core_ed25519_is_valid_point(out) == 1)
			return 0;
	}
	return fail_usage("%s: '%.80s' is not a device id (8 groups of 7 "
	    "letters and digits, as 'satchel id' prints%s)", what, arg,
	    flags & DEVID_CHECKED ? "" : ", or the old 64 hex digits");
}

/* The name the team knows the device by: the one in its membership, which
 * an admin signed, never text the device wrote about itself (nor a name
 * a box or a teacher wrote into its record: those are not honoured);
 * this device's own name before its record exists; else NULL. */
const char *
member_name(const struct device *d, struct store_txn *t, const uint8_t *id,
    char *out, size_t len)
{
	const struct member *m = d->cache != NULL ?
	    proto_members_find(team_members(d, t), id) : NULL;

	if (m != NULL && m->name != NULL) {
		snprintf(out, len, "%.*s", (int)m->name_len, m->name);
		return out;
	}
	if (memcmp(id, d->id, PROTO_IDLEN) == 0) {
		snprintf(out, len, "%s", d->name);
		return out;
	}
	return NULL;
}

static int
meta_has(struct store_txn *t, const char *prefix, const uint8_t *id)
{
	char key[80], hex[2 * PROTO_IDLEN + 1];
	const void *v;
	size_t len;

	sodium_bin2hex(hex, sizeof(hex), id, PROTO_IDLEN);
	snprintf(key, sizeof(key), "%s%s", prefix, hex);
	return store_meta_get(t, key, &v, &len) == 0;
}

/* Whether a member has joined, as far as this device knows: it is this
 * device, or we hold an entry it signed, or it completed a handshake with
 * us (its vector, status or clock was kept). An invited device that has
 * done neither yet is only invited. */
int
member_joined(const struct device *d, struct store_txn *t, const uint8_t *id)
{
	uint8_t hash[PROTO_HASHLEN];
	uint64_t seq = 0;

	if (memcmp(id, d->id, PROTO_IDLEN) == 0)
		return 1;
	if (store_head_get(t, id, &seq, hash) == 0 && seq > 0)
		return 1;
	return meta_has(t, "pvec:", id) || meta_has(t, "pstat:", id) ||
	    meta_has(t, "pclock:", id);
}
