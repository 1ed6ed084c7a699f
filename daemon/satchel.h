/* daemon/: the satchel program. One private header, grouped by file. */
#ifndef SATCHEL_H
#define SATCHEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "members.h"
#include "proto.h"
#include "store.h"
#include "secmem.h"

#define SATCHEL_VERSION	"0.1.0"
#define EXIT_USAGE	2	/* bad input from the user: nothing written */
#define EXIT_FAIL	1	/* the store or the system failed */
#define NAME_MAX_LEN	200
#define ARGS_MAX	64

/* args.c: flags and positional arguments of one command. */
struct args {
	const char	*cmd;		/* "student add" */
	int		 npos;
	const char	*pos[ARGS_MAX];
	int		 nflags;
	const char	*flag[ARGS_MAX];	/* name, without "--" */
	const char	*value[ARGS_MAX];	/* NULL for a switch */
	const char	*dir;		/* -d DIR given after the command */
};

/* A command's flags: "name" is a switch, "name=" takes a value,
 * "name=*" takes a value and may repeat; comma separated. */
int		 args_parse(struct args *, const char *spec, int argc,
		    char **argv, const char *cmd);
const char	*args_get(const struct args *, const char *name);
int		 args_has(const struct args *, const char *name);
int		 args_all(const struct args *, const char *name,
		    const char **out, int max);

/* util.c: a failure's one line goes to stderr, or, while a struct
 * ops_err catches it (err_capture), there: the page's API says the same
 * words as the command line. status is what HTTP calls it. */
#define OPS_EINPUT	400	/* bad input: nothing written */
#define OPS_ENOTFOUND	404	/* no such record */
#define OPS_ECONFLICT	409	/* changed meanwhile: nothing written */
#define OPS_EFAIL	500	/* the store or the system failed */
struct ops_err {
	int	status;		/* 0 until a failure is said */
	char	msg[512];	/* one line, without "satchel: " */
	char	field[PROTO_MAX_FIELD + 1];	/* OPS_ECONFLICT: which */
};
/* Catches failures in e (NULL: stderr again); returns the one before. */
struct ops_err	*err_capture(struct ops_err *e);
int		 err_capturing(void);
int		 fail_usage(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
int		 fail_missing(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
int		 fail_conflict(const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
int		 fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
const char	*plural(uint64_t n, const char *one, const char *many);
uint64_t	 now_ms(void);
void		 today(char out[11]);
int		 valid_date(const char *);
int		 valid_text(const char *, size_t max);
void		 hex_id(char out[2 * PROTO_RECIDLEN + 1], const uint8_t *id);
void		 json_str(const char *s);
void		 json_strn(const char *s, size_t len);
int		 sync_parent(const char *path);
int		 write_file_atomic(const char *path, const void *buf,
		    size_t len, int mode);
int		 read_file_secret(const char *path, void *buf, size_t len);

/* text.c: text a user types, checked and normalised to NFC on the way in. */
struct text_pool {
	int		 n;
	char		*p[2 * ARGS_MAX];	/* malloc'd NFC copies */
};

int		 text_field_class(const char *field);
const char	*text_problem(const char *, size_t max, int cls);
int		 text_pad(const char *, int width);
int		 text_args_nfc(struct args *, const char *usage, int npaths,
		    struct text_pool *);
void		 text_pool_free(struct text_pool *);

/* epoch.c: key epochs (see there). */
#define EPOCH_MAX	64		/* epochs one team may go through */
#define EPOCH_GRACE_MS	(UINT64_C(30) * 24 * 3600 * 1000)
struct epoch_key {
	uint32_t	epoch;
	uint8_t		kind;		/* EPOCH_KEY_SECRET or _NETWORK */
	uint64_t	start_ms;	/* its record's clock; 0: unknown */
	uint8_t		key[PROTO_KEYLEN];
	uint8_t		tainted;	/* sealed to a device since removed;
					 * not saved: epoch_refresh says */
};
struct epochs {				/* secmem_alloc'd: secrets */
	size_t		 n;
	struct epoch_key k[EPOCH_MAX];
};
/* device.c: this device's data directory, keys and store. */
struct device {
	char		 dir[4096];
	struct store	*st;
	uint8_t		 id[PROTO_IDLEN];
	uint8_t		*sign_sk;	/* secmem_alloc'd, PROTO_SKLEN */
	struct store_key *content;	/* in keyring; NULL on a box */
	struct store_key *network;	/* in keyring; NULL before joining */
	struct store_key *personal;	/* in keyring: seals private notes;
					 * NULL on a box */
	struct store_key *personal_key;	/* secmem_alloc'd: its copy, which
					 * survives a keyring refill */
	struct store_key *record;	/* in keyring: seals epoch records */
	struct store_key *receipt;	/* in keyring, from network; or NULL */
	struct store_key *erase;	/* in keyring, from network; or NULL */
	struct store_keyring *keyring;	/* secmem_alloc'd */
	struct epochs	*epochs;	/* every epoch held; see epoch.c */
	uint8_t		 team_id[16];
	uint8_t		 founder[PROTO_IDLEN];
	char		 name[NAME_MAX_LEN + 1];
	char		 role[16];
	int		 json;
	int		 serving;	/* this process is the daemon: no notify */
	struct device_cache *cache;	/* what is derived once per change */
};

struct team_view;
struct team_rebuild;
struct device_cache {
	struct team_view *members;	/* membership.c */
	struct team_rebuild *rebuild;	/* membership.c: the last rebuild's */
	int		 unsettled;	/* team_settle_cuts gave up */
};

const char	*device_dir(const char *flag_dir, char *buf, size_t len);
int		 device_init(const char *dir, const char *name, int box);

/* recovery.c: the recovery phrase and the personal key (phrase.h). save
 * writes DIR/personal.key; read takes a phrase from stdin (exit 2 and one
 * line for a typo); load adds the personal key to d's keyring. Each
 * returns 0 or an exit code after saying why. */
int		 recovery_save(const char *dir, const uint8_t *secret);
void		 recovery_announce(const uint8_t *secret);
int		 recovery_read(uint8_t *secret);
int		 recovery_load(struct device *);
/* Puts the personal key back into d's keyring after a refill. */
void		 recovery_keyring(struct device *);
int		 cmd_recovery(struct device *, struct args *);
int		 cmd_scope(struct device *, struct args *);
int		 device_open(struct device *, const char *dir);
void		 device_close(struct device *);
/* DIR/serve.sock, where a running `satchel serve` hears of local writes;
 * -1 if the path does not fit a socket address. */
int		 device_notify_path(const struct device *, char *out, size_t len);
/* Connects to the daemon's socket and closes: that is the notice. Returns
 * 0 if a daemon answered. Never waits on a daemon: the connect is local. */
int		 device_notify_probe(const char *path);
/* Tells a running daemon that this process committed entries; silent and
 * harmless when none listens. */
void		 device_notify(const struct device *);
int		 device_write(struct device *, struct store_txn *,
		    const struct change *);
/* device_write in a scope: SCOPE_PRIVATE seals under the personal key
 * (STORE_EBADENTRY on a device without one). */
int		 device_write_scoped(struct device *, struct store_txn *,
		    const struct change *, uint8_t scope);
int		 device_write_member(struct device *, struct store_txn *,
		    const uint8_t *member, const char *name, const char *role);
/* What a membership entry says besides the device: NULL leaves a field
 * out. add: it adds (or re-adds) the device, and says who added it. */
struct member_write {
	const char	*name;
	const char	*role;		/* "admin", "teacher", "box" */
	const char	*removed;	/* "yes", "lost"; "no" re-adds */
	const char	*cutoff;	/* with removed: "SEQ:HASH" */
	int		 add;
};
int		 device_member_write(struct device *, struct store_txn *,
		    const uint8_t *member, const struct member_write *);
void		 team_keys_derive(const uint8_t *secret, struct store_key *content,
		    struct store_key *network);
int		 device_save_team(struct device *, struct store_txn *,
		    const uint8_t *team_id, const uint8_t *founder,
		    const uint8_t *secret, int box);
int		 device_keyfile(const struct device *, const char *name,
		    char *out, size_t len);
/* Prints "what: reason" (exit 2 for a missing or existing store, else
 * 1); a full disk is named "the disk holding DIR is full". */
int		 device_store_error(int rc, const char *what);
/* 1 if a store error came from a full disk (ENOSPC, or a failed write
 * with less than DISK_FULL_ROOM bytes free beside the store). */
#define DISK_FULL_ROOM	(1024 * 1024)
int		 device_disk_full(int rc);
const char	*device_strerror(int rc);

/* ids.c: device ids as commands read and print them. */
#define DEVID_ANY	0	/* the checked form or the old 64 hex */
#define DEVID_CHECKED	1	/* the checked form only */
/* Reads the device id the user typed for command what; 0, or one line on
 * stderr and EXIT_USAGE. */
int		 devid_arg(const char *what, const char *arg, int flags,
		    uint8_t out[PROTO_IDLEN]);
void		 devid_format(const uint8_t *id, char out[PROTO_DEVID_LEN + 1]);
const char	*member_name(const struct device *, struct store_txn *,
		    const uint8_t *id, char *out, size_t len);
int		 member_joined(const struct device *, struct store_txn *,
		    const uint8_t *id);

/* model.c: the kinds teachers record and their fields. */
enum field_type { F_TEXT, F_DATE, F_STUDENT, F_CHOICE };

struct field_def {
	const char	*name;		/* field in the record */
	const char	*flag;		/* command-line flag */
	enum field_type	 type;
	int		 required;	/* on add */
};

struct kind_def {
	uint8_t			 kind;
	const char		*name;
	const struct field_def	*fields;
	const char		*set_field;	/* the OR-set, or NULL */
	const char		*set_flag;
	const char		*unset_flag;
};

const struct kind_def *model_kind(uint8_t kind);
const struct kind_def *model_kind_named(const char *name);
const char	*model_kind_name(uint8_t kind);
int		 model_check_field(const struct field_def *, const char *value);
int		 model_check_follow_up(const char *date, const char *follow_up);
const char	*model_title(const struct record *);
/* Appends an op setting field to value, naming every current head.
 * field and value are borrowed, not copied: they must outlive c. -1 if
 * c has no room for another op. change_add borrows the same way. */
int		 change_set(struct change *, const struct record *,
		    const char *field, const char *value);
int		 change_add(struct change *, const char *field,
		    const char *elem);
int		 change_remove(struct change *, const struct record *,
		    const char *field, const char *elem);
int		 change_tombstone(struct change *, const struct record *,
		    int deleted);
void		 change_init(struct change *, uint8_t kind, const uint8_t *id);

/* resolve.c: turning what a user typed into a record. */
int		 resolve_record(struct store_txn *, const char *arg,
		    uint8_t want_kind, struct record **out);
int		 resolve_name_unused(struct store_txn *, const char *name,
		    uint8_t kind);

/* ops.c: the operations that write, with no face. Text is NFC already
 * (the command line and the API both make it so); a NULL field is not
 * given. Each returns 0, or EXIT_USAGE / EXIT_FAIL after saying why
 * through fail_usage and friends (see err_capture); nothing is written
 * then. id, if not NULL, receives a new record's id. */
#define GOAL_MAX_CHECKPOINTS	9
#define OPS_VERSION_MAX		256	/* a field's version, as text */
struct ops_student {
	const char	*name, *class_, *strengths, *needs, *interests,
			*goals;
	int		 same_name;	/* another child of the same name */
};
struct ops_note {
	const char	*student, *date, *strengths, *obstacle, *action,
			*follow_up, *student_words;
	const char	*scope;		/* "private", "team"; NULL: default */
};
struct ops_entry {
	const char	*student, *date, *title, *body;
	const char	*unit, *slice, *score;	/* slice: pre|formative|post */
	const char *const *tags;
	int		 ntags;
	const char	*scope;		/* "private", "team"; NULL: default */
};
struct ops_unit {
	const char	*name, *from, *until;
};
struct ops_group {
	const char	*name, *type, *from, *until;	/* same-need|mixed */
	const char *const *members;
	int		 nmembers;
};
struct ops_goal {
	const char	*student, *text;
	int		 ncp;
	const char	*cp_date[GOAL_MAX_CHECKPOINTS];
	const char	*cp_text[GOAL_MAX_CHECKPOINTS];
};
/* An edit of one record: fields with the version the editor saw (NULL:
 * none checked), set elements to add and remove. */
struct ops_edit {
	const char	*record;	/* a name or an id prefix */
	uint8_t		 kind;		/* 0: any kind but a member */
	int		 n, nadd, nrem;
	const char	*field[PROTO_MAX_OPS], *value[PROTO_MAX_OPS];
	const char	*version[PROTO_MAX_OPS];
	const char	*add[PROTO_MAX_OPS], *rem[PROTO_MAX_OPS];
};
/* A new record's id: time-ordered for notes and entries (ops.c says
 * why and what it shows), random for the other kinds. */
void	ops_record_id(uint8_t kind, uint8_t id[PROTO_RECIDLEN]);
int	ops_student_add(struct device *, const struct ops_student *,
	    uint8_t *id);
int	ops_note_add(struct device *, const struct ops_note *, uint8_t *id);
int	ops_entry_add(struct device *, const struct ops_entry *, uint8_t *id);
int	ops_unit_add(struct device *, const struct ops_unit *, uint8_t *id);
int	ops_group_add(struct device *, const struct ops_group *, uint8_t *id);
int	ops_group_move(struct device *, const char *student, const char *from,
	    const char *to);
int	ops_goal_add(struct device *, const struct ops_goal *, uint8_t *id);
int	ops_checkpoint_set(struct device *, const char *goal, long n, int done,
	    const char *date);
int	ops_checkpoint_add(struct device *, const char *goal,
	    const char *date, const char *text);
/* changed: 0 if everything asked was so already (nothing written). */
int	ops_edit(struct device *, const struct ops_edit *, int *changed);
int	ops_tombstone(struct device *, const char *record, int deleted);
int	ops_restore(struct device *, const char *record, const char *field,
	    const char *author_seq);
void	ops_field_version(const struct record *, const char *field,
	    char *out, size_t len);
/* The scope a record was written in (SCOPE_TEAM or SCOPE_PRIVATE): that
 * of the entry that made it. */
uint8_t	ops_record_scope(struct store_txn *, const struct record *);
/* This device's default scope of new notes and entries: "private" or
 * "team" (a static string). */
int	ops_scope_get(struct device *, const char **scope);
int	ops_scope_set(struct device *, const char *scope);

/* cmd_write.c and cmd_read.c: one function per command. */
struct command {
	const char	*name;
	int		(*fn)(struct device *, struct args *);
	const char	*flags;
	int		 min_pos, max_pos;
	const char	*usage;
	const char	*help;
};

int	cmd_student_add(struct device *, struct args *);
int	cmd_edit(struct device *, struct args *);
int	cmd_note_add(struct device *, struct args *);
int	cmd_entry_add(struct device *, struct args *);
int	cmd_group_add(struct device *, struct args *);
int	cmd_group_join(struct device *, struct args *);
int	cmd_group_leave(struct device *, struct args *);
int	cmd_goal_add(struct device *, struct args *);
int	cmd_goal_check(struct device *, struct args *);
int	cmd_goal_move(struct device *, struct args *);
int	cmd_group_move(struct device *, struct args *);
int	cmd_unit_add(struct device *, struct args *);
int	cmd_delete(struct device *, struct args *);
int	cmd_undelete(struct device *, struct args *);
int	cmd_restore(struct device *, struct args *);
int	cmd_student_list(struct device *, struct args *);
int	cmd_show(struct device *, struct args *);
int	cmd_history(struct device *, struct args *);
int	cmd_conflicts(struct device *, struct args *);
int	cmd_search(struct device *, struct args *);
int	cmd_dump(struct device *, struct args *);
int	cmd_digest(struct device *, struct args *);
int	cmd_verify(struct device *, struct args *);

/* vec.c: vectors, ours and what we know of each peer's. */
struct vec_item {
	uint8_t		author[PROTO_IDLEN];
	uint64_t	seq;
	uint8_t		hash[PROTO_HASHLEN];
};

struct vec {
	size_t		 n, cap;
	struct vec_item	*items;		/* sorted by author */
};

struct wire_msg;
struct vec_item	*vec_find(const struct vec *, const uint8_t *author);
uint64_t	 vec_seq(const struct vec *, const uint8_t *author);
int		 vec_raise(struct vec *, const uint8_t *author, uint64_t seq,
		    const uint8_t *hash);
void		 vec_free(struct vec *);
int		 vec_from_heads(struct vec *, struct store_txn *);
void		 vec_pack(const struct vec *, msgpack_packer *);
int		 vec_from_msg(struct vec *, const struct wire_msg *);
int		 vec_load_peer(struct vec *, struct store_txn *,
		    const uint8_t *peer);
int		 vec_save_peer(const struct vec *, struct store_txn *,
		    const uint8_t *peer);
int		 vec_peer_known(struct store_txn *, const uint8_t *peer);

/* membership.c: the membership evaluated from the entries held
 * (proto/members.h), cached in the device until a membership entry is
 * applied. Views borrow from the device until its next call. */
const struct team_view *team_view(const struct device *, struct store_txn *);
const struct members *team_members(const struct device *, struct store_txn *);
/* Keeps the view's entries read from the log in t (sealed, in the meta
 * table) if they are not kept already, for the next process's team_view:
 * 0 or a store error. */
int		 team_view_keep(const struct device *, struct store_txn *);
/* A new view of what is held plus signed envelopes extra (a hello's
 * proofs; each must verify under a network key held); the caller frees
 * it. NULL on failure. */
struct team_view *team_view_with(const struct device *, struct store_txn *,
		    const uint8_t *const *extra, const size_t *lens, size_t n);
const struct members *team_view_members(const struct team_view *);
/* The input entry i of a view (a struct member's add_entry and so on),
 * and its envelope if it is not in the log (a proof kept from an invite
 * or a hello; NULL otherwise). Borrowed from the view. */
const struct member_entry *team_view_entry(const struct team_view *, long i);
const uint8_t	*team_view_env(const struct team_view *, long i, size_t *len);
void		 team_view_free(struct team_view *);
const char	*team_role_name(uint8_t role);
/* The "seen" value of a new membership entry of this device. */
int		 team_seen_value(const struct device *, struct store_txn *,
		    char *out, size_t cap);

/* team.c */
int	team_depth(struct device *, struct store_txn *, const uint8_t *id,
	    char role[16]);
void	team_order(struct device *, struct store_txn *, const struct vec *,
	    size_t *order);
int	team_is_member(struct device *, struct store_txn *, const uint8_t *id,
	    char role[16]);
void	team_fingerprint(const struct device *, char out[20]);
struct wire_hello;
int	team_proof(struct device *, struct store_txn *, const uint8_t *id,
	    struct wire_hello *);
int	team_check_proof(struct device *, const struct wire_hello *,
	    char role[16]);
int	team_vouch_save(struct device *, const uint8_t *hello, size_t len);
/* The member add operation: invite receives the invite (caller frees). */
int	member_add(struct device *, const char *id_arg, const char *name,
	    int box, int admin, const char *const *addrs, int naddrs,
	    char **invite);
int	cmd_member_add(struct device *, struct args *);
int	cmd_member_list(struct device *, struct args *);
int	cmd_member_role(struct device *, struct args *);
int	cmd_member_remove(struct device *, struct args *);
/* The last seq of author's entries this device applies: UINT64_MAX for a
 * member, the cut-off of a removed one, 0 for a stranger or a box.
 * *keep: entries past it are still stored (with team_network_keyring:
 * no content applied) for a removed admin and a box; refused otherwise. */
uint64_t team_limit(struct device *, struct store_txn *,
	    const uint8_t *author, int *keep);
/* The device's network keys alone (and the receipt and epoch record
 * keys derived from them): entries applied with it are stored and their
 * membership changes and receipts read, but no content is applied. A
 * box's entries are all applied with it. The caller frees it with
 * sodium_free or secmem_free; NULL if memory ran out. */
struct store_keyring *team_network_keyring(const struct device *);
/* Makes every rebuild of d's store apply what live applies do: a
 * removed device's entries after its cut-off are left out (a removed
 * admin's applied with the network keys alone). */
void	team_rebuild_rule(struct device *);
void	team_rebuild_free(struct team_rebuild *);
/* Rebuilds the derived state if a removed device's entries after its
 * cut-off are held applied (they came before the removal), or a cut-off
 * moved since the last rebuild: 1 if it did, 0, or a store code. */
int	team_settle_cuts(struct device *);
/* 1 if the membership removed id. */
int	team_removed(struct device *, struct store_txn *, const uint8_t *id);
/* The hook a removal calls inside its transaction, before it commits
 * (team.c): the new key epoch and the exposure report start there. */
int	team_after_remove(struct device *, struct store_txn *,
	    const uint8_t *removed, int lost);
int	cmd_join(struct device *, struct args *);
int	cmd_peer_add(struct device *, struct args *);
int	cmd_peer_remove(struct device *, struct args *);
int	cmd_peer_list(struct device *, struct args *);

/* epoch.c */
int	epoch_load(struct device *, const uint8_t *secret, int box);
int	epoch_keyring(struct device *);
int	epochs_add(struct epochs *, const struct epoch_key *);
int	epochs_read(const char *path, struct epochs *);
int	epochs_write(const char *path, const struct epochs *);
/* The newest epoch this device holds (its keys seal what it writes), or
 * NULL; its number, and when it began (0: unknown). */
const struct epoch_key *epoch_top(const struct device *);
uint32_t epoch_current(const struct device *, uint64_t *start_ms);
/* 1 and the i-th other network key taken while the newest epoch is
 * younger than EPOCH_GRACE_MS at now (ms): the previous epoch's first;
 * else 0. */
int	epoch_grace_key(const struct device *, uint64_t now, size_t i,
	    struct store_key *out);
/* Learns the keys epoch records hand this device (after a commit that
 * may have brought some); a store code. */
int	epoch_refresh(struct device *);
/* After two removals at once: starts the next epoch if the newest was
 * sealed to a device no longer a member. 1 if it did, 0, or a store
 * code. */
int	epoch_heal(struct device *);
int	epoch_author_ok(struct device *, struct store_txn *,
	    const uint8_t *author, uint64_t seq);
int	epoch_rotate(struct device *, struct store_txn *,
	    const uint8_t *removed);
int	epoch_grant(struct device *, struct store_txn *, const uint8_t *member,
	    int box, int readd, struct write_ref *ref);
int	epoch_from_invite(struct device *nd, struct epochs *into,
	    const uint8_t *const *proofs, const size_t *lens, size_t n);
#define EPOCH_OK	0
#define EPOCH_OUTDATED	1	/* peers refuse our network key */
#define EPOCH_REMOVED	2
void	epoch_status(struct device *, struct store_txn *, char *out,
	    size_t len, int *state);

/* bundle.c */
int	cmd_export(struct device *, struct args *);
int	cmd_import(struct device *, struct args *);
void	bundle_key(const struct device *, uint8_t out[32]);

/* cmd_fork.c: a forked log, from this device's side. */
int	fork_self(struct device *, struct store_txn *, uint64_t *fseq);
void	fork_self_line(char *out, size_t len, uint64_t fseq);
int	fork_self_check(struct device *);
int	cmd_fork_repair(struct device *, struct args *);

/* http/open.c: the page's one-time login link. */
int	cmd_open(struct device *, struct args *);

/* serve.c and status.c */
int	cmd_serve(struct device *, struct args *);
int	cmd_sync(struct device *, struct args *);
int	cmd_status(struct device *, struct args *);
#define SATCHEL_PORT	7420	/* TCP for sync; UDP for discovery */
#define PEER_ADDR_MAX	64	/* HOST:PORT with its NUL */
/* HOST:PORT, [IPv6]:PORT or a host name (RFC 1123), already in the form
 * peer_addr_normalize gives. */
int	peer_addr_valid(const char *);
/* Writes addr with the default port added where it has none to out;
 * returns -1 if it is not an address or a host name. */
int	peer_addr_normalize(const char *addr, char out[PEER_ADDR_MAX]);

/* clock.c: whether this device's clock, or a peer's, is off. */
#define CLOCK_WARN_MS	(INT64_C(3600) * 1000)	/* an hour apart */
enum clock_off {
	CLOCK_OK = 0,
	CLOCK_OFF_THIS,		/* this device's clock is off */
	CLOCK_OFF_PEER,		/* device's clock is off */
	CLOCK_OFF_UNSURE	/* this one's or device's: no majority */
};
struct clock_verdict {
	int		off;		/* enum clock_off */
	uint8_t		device[PROTO_IDLEN];	/* PEER, UNSURE */
	int64_t		offset_ms;	/* how far the clock that is off is */
	size_t		npeers;		/* peers' clocks seen lately */
	char		text[512];	/* one line: who, how far, the fix */
};
int	clock_peer_save(struct store_txn *, const uint8_t *peer,
	    int64_t offset_ms, uint64_t now);
int	clock_verdict(struct store_txn *, uint64_t now, struct clock_verdict *);
int	clock_peer_offset(struct store_txn *, const uint8_t *peer,
	    int64_t *offset_ms);
void	clock_peer_seen(struct device *, const uint8_t *peer,
	    uint64_t wall_ms, const char *addr);
/* Prints the verdict on stderr as one warning line, if a clock is off. */
void	clock_warn(struct device *);
void	clock_span(char *out, size_t len, int64_t ms);
int	clock_note_received(struct store_txn *, const struct envelope *,
	    uint64_t now);

/* receipt.c: what a peer acknowledged in a sync (see proto.h). */
#define RECEIPT_EVERY_MS	(UINT64_C(5) * 60 * 1000)	/* in a session */
struct receipt {
	uint8_t		device[PROTO_IDLEN];	/* the device it is about */
	uint8_t		writer[PROTO_IDLEN];	/* who synced with it */
	uint64_t	seq;			/* the writer's entry */
	uint64_t	synced;			/* ms, the writer's clock */
	struct vec	holds;			/* what device acknowledged */
	struct vec	self;			/* what writer held then */
};
/* The receipt key of a network key: every network key in the keyring
 * (each key epoch's) brings its own, as load_team does for the one. */
void	receipt_key_of(const struct store_key *network, struct store_key *out);
/* Reads writer's receipt entry seq into r (receipt_free it); -1 if this
 * device cannot read it. */
int	receipt_read(const struct device *, struct store_txn *,
	    const uint8_t *writer, uint64_t seq, struct receipt *r);
void	receipt_free(struct receipt *);
/* 1 if entry author:seq may hold a student's data: sealed under a key
 * that is not the network's or the receipts', or not held here to tell. */
int	receipt_may_hold_data(const struct device *, struct store_txn *,
	    const uint8_t *author, uint64_t seq);
/* After a sync with peer, which acknowledged theirs: writes a receipt in
 * t if one is due (closing: the session has ended). 1 if it wrote one, 0
 * if none was due, or a store error. *self starts zeroed for each t:
 * only the first receipt written in t carries this device's own vector
 * ("self"), and a later one about the same peer, which replaces it in
 * the index (store/receipt.c); self notes which peer that was. */
struct receipt_self {
	int		said;
	uint8_t		peer[PROTO_IDLEN];
};
int	receipt_note(struct device *, struct store_txn *, const uint8_t *peer,
	    const struct vec *theirs, uint64_t wall_ms, int closing,
	    struct receipt_self *self);

/* Appends a receipt by author a about peer, which acknowledged holds
 * while a held self (NULL: the receipt says nothing of it), in t. */
int	receipt_append(struct store_txn *, const struct store_author *a,
	    const uint8_t *peer, const struct vec *holds,
	    const struct vec *self, uint64_t wall_ms);

/* report.c: the exposure report of a device: which students' records it
 * held. report_compute fills r (report_free it) from what t holds. */
struct report_student {
	uint8_t		id[PROTO_RECIDLEN];
	int		certain;	/* 0: only possibly held */
	uint64_t	entries;	/* of its entries the device held */
};
struct report_gap {			/* entries whose students are unknown */
	uint8_t		author[PROTO_IDLEN];
	uint64_t	from, to;	/* seqs */
	const char	*why;		/* static */
};
struct report {
	uint8_t		 id[PROTO_IDLEN];	/* the device reported on */
	struct vec	 known;		/* what it is known to have held */
	uint64_t	 last_sync;	/* ms, 0 if no receipt names it */
	uint8_t		 last_by[PROTO_IDLEN];	/* whose receipt says so */
	size_t		 nreceipts;	/* receipts by and about it read */
	uint64_t	 own_head;	/* its own entries held here */
	uint64_t	 receipted_own;	/* of those, named by a receipt */
	uint64_t	 trace_ms;	/* incomplete: uncertain up to then */
	int		 incomplete;	/* it synced without a receipt */
	size_t		 nstudents;
	struct report_student *students;	/* sorted by id */
	size_t		 ngaps;
	struct report_gap *gaps;
};
int	report_compute(const struct device *, struct store_txn *,
	    const uint8_t *id, struct report *r);
void	report_free(struct report *);
int	cmd_member_report(struct device *, struct args *);
/* Prints the report on device id to stdout (as JSON if d->json), read in
 * t; 0, or a STORE_E* code. member remove --lost calls it too. */
int	report_print(struct device *, struct store_txn *, const uint8_t *id);
/* The report on id in a transaction of its own, for member report and
 * member remove --lost; 0, or one line on stderr and the exit code. */
int	report_lost(struct device *, const uint8_t *id);

/* json.c: records as JSON. */
void	json_record(const struct record *);
/* The same, with author in place of the "author" field's value (the
 * signed writer's name, see show). */
void	json_record_by(const struct record *, const char *author);

/* students.c: students as people. A student merged into another (student
 * merge) reads as that one: see students.c for the rule. */
int	student_rep(struct store_txn *, const uint8_t id[PROTO_RECIDLEN],
	    uint8_t rep[PROTO_RECIDLEN]);
/* 1 if r is a student merged into another, else 0. */
int	student_merged(struct store_txn *, const struct record *r);
/* What two records of one student share: the name and the class folded
 * as search folds them (case, Latin, Greek and Cyrillic accents), spaces
 * evened out. A new string the caller frees; NULL if out of memory. */
char	*student_key(const char *name, const char *class);
struct student_item {
	struct record	*r;		/* owned */
	char		*key;		/* student_key; owned */
	uint8_t		 rep[PROTO_RECIDLEN];
	int		 merged;	/* into another: rep is not r->id */
	int		 deleted;
	int		 dup;		/* live, unmerged, and its key shared */
};
struct student_list {
	size_t			 n, cap;
	struct student_item	*items;	/* by key, then id */
};
/* Every student record, each with its representative and whether it
 * looks like a duplicate. 0 or a STORE_E* code; free with
 * student_list_free (also after an error). */
int	student_list_load(struct store_txn *, struct student_list *);
void	student_list_free(struct student_list *);
const struct student_item *student_list_find(const struct student_list *,
	    const uint8_t id[PROTO_RECIDLEN]);
void	student_dups_text(const struct student_list *,
	    const struct student_item *, char *out, size_t len);
/* rep and the students merged into it, rep first, in *ids (malloc'd, the
 * caller frees it). */
int	student_family(const struct student_list *,
	    const uint8_t rep[PROTO_RECIDLEN],
	    uint8_t (**ids)[PROTO_RECIDLEN], size_t *n);

/* explain.c: why a data directory or a key file cannot be used, as one
 * line naming the fix (the user to run as, the chmod, a read-only file
 * system); returns the exit code, or 0 with nothing said. */
int	explain_dir(const char *dir);
int	explain_key(const char *path);

/* progress.c: a long sync or import says how far it is. */
struct progress {
	const char	*what;		/* "sync", "import" */
	int		 json, tty, live;
	uint64_t	 start, last, every;	/* ms */
};
void	progress_start(struct progress *, const char *what, int json);
int	progress_due(const struct progress *);
uint64_t progress_log_ms(void);
/* So far: entries and bytes; left: what remains in unit ("entries" or
 * "bytes"), or -1 if unknown. Says it only when a line is due. */
void	progress_show(struct progress *, uint64_t entries, uint64_t bytes,
	    int64_t left, const char *unit);
/* Clears a live line (the caller's summary follows); --json: a last
 * line, "done". */
void	progress_end(struct progress *, uint64_t entries, uint64_t bytes);

/* cmd_roster.c and cmd_merge.c */
int	cmd_student_import(struct device *, struct args *);
int	cmd_student_merge(struct device *, struct args *);
/* erase.c: erasing a student (issue 12). The erase key of a network key;
 * the command; and erase_refresh, run after a commit that may have
 * brought erase records (a sync batch, a bundle): takes those that
 * count, drops what they name, publishes this device's addendum, and
 * scrubs. 0 or a store code. */
void	erase_key_of(const struct store_key *network, struct store_key *out);
int	cmd_student_erase(struct device *, struct args *);
int	erase_refresh(struct device *);

#endif
