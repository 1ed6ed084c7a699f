/*
 * members.c: who is in the team, and with what authority, as a pure
 * function of the membership entries a device holds. Every device, the
 * box included, runs this same function on the same entries and so holds
 * the same membership, whatever order the entries arrived in.
 *
 * A membership entry is a change to a KIND_MEMBER record, sealed under the
 * network key. Its fields (schema.c):
 *	device	the member's id in hex: set by an add (and a re-add) only
 *	name, role (admin | teacher | box)
 *	added_by	the writer, for the first release (ignored here)
 *	removed	"yes" or "lost": the removal of the device; "no": a re-add
 *	cutoff	with removed, or with a demotion (role teacher for an
 *		admin): "SEQ:HASH", the device's last entry the writer had
 *		seen ("0:" and 64 zeros if none)
 *	seen	the membership heads the writer held, each "AUTHOR:SEQ:HASH"
 *		(hex, decimal, hex), comma separated; "" for none
 *
 * The rules (README, "Who may change the team"):
 *  - The founder starts as the only admin. An entry is honoured only if
 *    its writer was an admin in the membership its writer had seen: the
 *    entries it names in seen, their own seen, and so on, plus the
 *    writer's own earlier membership entries. An entry without seen
 *    (written by a release before this one) is judged against every
 *    entry before it in the order below.
 *  - The order: entries sorted so that each comes after everything it
 *    saw; among entries that did not see each other, by (clock, author,
 *    seq). Every device computes the same order from the same entries.
 *  - A removal names a cut-off: the removed device's entries after it are
 *    not honoured, whatever they say and whatever their clock. Where two
 *    removals each cut the other's writer off (two admins removing each
 *    other), the one whose writer was added earlier wins (the founder
 *    first; ties cannot happen, adds are ordered): its writer stays.
 *  - A re-add (an add of a removed device by a writer who had seen the
 *    removal) makes the device a member again; a concurrent change does
 *    not undo a removal.
 *  - A box stays a box: role changes to or from box are ignored. A change
 *    that would leave no admin is ignored; if removals still leave none,
 *    the earliest-added remaining non-box member is the admin.
 *  - A device's change to its own record changes its name only, and its
 *    removal of itself is ignored.
 * An entry whose seen names an entry not held (not arrived yet, or a
 * wrong hash) is judged, until it arrives, like one without seen: so a
 * hello's few proofs can place a new device before its team's history
 * arrives. The membership is a function of what is held, and settles
 * once everything arrived. A writer can always claim to have seen less
 * than it had, so what stops a device does not depend on its claims: a
 * removal's cut-off, and a demotion's. A demotion (since 0.3) names the
 * demoted admin's last entry its writer had seen; the demoted device's
 * membership entries after that one count only if they name the
 * demotion among what they saw (and then they are judged in a state
 * where it is a teacher, unless an admin promoted it again meanwhile).
 * So an admin demoted while it writes a membership entry is judged alike
 * everywhere: by whether the demoter had seen that entry. A demotion
 * without a cut-off (0.2) keeps the old rule: a change naming the state
 * before it counts, as a concurrent one would.
 */
#ifndef SATCHEL_MEMBERS_H
#define SATCHEL_MEMBERS_H

#include "proto.h"

#define MEMBERS_MAX_ENTRIES	4096	/* entries evaluated (by authors that
					   may be admins); the rest are not */
#define MEMBERS_MAX_SEEN	16	/* heads one entry names */
#define MEMBERS_REF_LEN		(2 * PROTO_IDLEN + 1 + 20 + 1 + \
				    2 * PROTO_HASHLEN)	/* one seen ref */

enum member_role {
	MROLE_NONE	= 0,	/* not set by this entry */
	MROLE_TEACHER	= 1,
	MROLE_ADMIN	= 2,
	MROLE_BOX	= 3
};

enum member_removal {
	MREMOVE_NONE	= 0,
	MREMOVE_LEFT	= 1,	/* "yes" */
	MREMOVE_LOST	= 2,	/* "lost": the report is owed */
	MREMOVE_UNDO	= 3	/* "no": a re-add */
};

/* One membership entry, as read from its change. name borrows from the
 * change's buffer. */
struct member_entry {
	struct write_ref ref;		/* author, seq, hash */
	uint64_t	 hlc;
	uint8_t		 target[PROTO_IDLEN];	/* its "device" */
	uint8_t		 role;		/* enum member_role */
	uint8_t		 removal;	/* enum member_removal */
	uint8_t		 has_seen;	/* 0: written before causal membership */
	uint8_t		 has_cutoff;	/* a removal's, or a demotion's */
	const char	*name;		/* NULL if not set */
	size_t		 name_len;
	uint64_t	 cutoff_seq;	/* removal: last entry kept */
	uint8_t		 cutoff_hash[PROTO_HASHLEN];
	size_t		 nseen;
	struct write_ref seen[MEMBERS_MAX_SEEN];
};

/* A device the membership knows, added at some point. */
struct member {
	uint8_t		 id[PROTO_IDLEN];
	uint8_t		 role;		/* TEACHER, ADMIN or BOX */
	uint8_t		 removal;	/* NONE, LEFT or LOST */
	uint8_t		 founder;
	const char	*name;		/* borrowed from the entries; may be NULL */
	size_t		 name_len;
	uint8_t		 added_by[PROTO_IDLEN];
	uint64_t	 added_hlc;	/* 0 for the founder */
	long		 add_entry;	/* index of the add in the input, or -1 */
	long		 role_entry;	/* the entry that set its role, or -1 */
	uint8_t		 removed_by[PROTO_IDLEN];
	uint64_t	 removed_hlc;
	long		 remove_entry;	/* or -1 */
	uint64_t	 cutoff_seq;	/* removed: its entries after this are
					   refused */
	uint8_t		 cutoff_hash[PROTO_HASHLEN];
};

/* The outcome. members is sorted by id; honoured and head have one byte
 * per input entry: honoured says whether it counts, head whether it is
 * one of the heads a new entry must name in seen. */
struct members {
	size_t		 n;
	struct member	*m;
	size_t		 nentries;
	uint8_t		*honoured;
	uint8_t		*head;
};

/* Reads a member change into e (ref and hlc are the entry's). 0, or -1 if
 * c is not a member change this release reads (a schema-valid one always
 * is). e->name borrows from c's buffer. */
int	proto_member_entry(struct member_entry *e, const struct change *c,
	    const struct write_ref *ref, uint64_t hlc) PROTO_WUR;
/* Evaluates n entries (any order; duplicates of one (author, seq) after the
 * first are ignored) for the team founded by founder. Returns a new
 * struct members the caller frees with proto_members_free, which borrows
 * names from the entries (keep them as long), or NULL if memory ran
 * out. */
struct members *proto_members_eval(const uint8_t founder[PROTO_IDLEN],
	    const struct member_entry *entries, size_t n);
void	proto_members_free(struct members *);
/* The member with id, or NULL if the membership never added it. */
const struct member *proto_members_find(const struct members *,
	    const uint8_t id[PROTO_IDLEN]);
/* 1 if id is a member now (added, not removed). */
int	proto_members_current(const struct members *,
	    const uint8_t id[PROTO_IDLEN]);
/* 1 if an entry of author at seq is to be taken: author is a current
 * member, or a removed one and seq is at most its cut-off. */
int	proto_members_takes(const struct members *,
	    const uint8_t author[PROTO_IDLEN], uint64_t seq);
/* The current admins. */
size_t	proto_members_admins(const struct members *);

/* The text forms of seen and cutoff values: write n refs into out (cap
 * bytes; needs n * (MEMBERS_REF_LEN + 1) + 1), and read them back (0, or
 * -1 if s is not that form or holds more than max). */
int	proto_member_refs_format(const struct write_ref *refs, size_t n,
	    char *out, size_t cap);
int	proto_member_refs_parse(const char *s, size_t len,
	    struct write_ref *refs, size_t max, size_t *n) PROTO_WUR;
int	proto_member_cutoff_parse(const char *s, size_t len, uint64_t *seq,
	    uint8_t hash[PROTO_HASHLEN]) PROTO_WUR;

#endif
