/* daemon/: the satchel program. One private header, grouped by file. */
#ifndef SATCHEL_H
#define SATCHEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "store.h"

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
};

/* A command's flags: "name" is a switch, "name=" takes a value,
 * "name=*" takes a value and may repeat; comma separated. */
int		 args_parse(struct args *, const char *spec, int argc,
		    char **argv, const char *cmd);
const char	*args_get(const struct args *, const char *name);
int		 args_has(const struct args *, const char *name);
int		 args_all(const struct args *, const char *name,
		    const char **out, int max);

/* util.c */
int		 fail_usage(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
int		 fail(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
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

/* device.c: this device's data directory, keys and store. */
struct device {
	char		 dir[4096];
	struct store	*st;
	uint8_t		 id[PROTO_IDLEN];
	uint8_t		*sign_sk;	/* sodium_malloc'd, PROTO_SKLEN */
	struct store_key *content;	/* in keyring; NULL on a box */
	struct store_key *network;	/* in keyring; NULL before joining */
	struct store_keyring *keyring;	/* sodium_malloc'd */
	uint8_t		 team_id[16];
	uint8_t		 founder[PROTO_IDLEN];
	char		 name[NAME_MAX_LEN + 1];
	char		 role[16];
	int		 json;
	int		 serving;	/* this process is the daemon: no notify */
};

const char	*device_dir(const char *flag_dir, char *buf, size_t len);
int		 device_init(const char *dir, const char *name, int box);
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
int		 device_write_member(struct device *, struct store_txn *,
		    const uint8_t *member, const char *name, const char *role);
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
const char	*model_title(const struct record *);
/* Appends an op setting field to value, naming every current head. */
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
int	cmd_member_add(struct device *, struct args *);
int	cmd_member_list(struct device *, struct args *);
int	cmd_join(struct device *, struct args *);
int	cmd_peer_add(struct device *, struct args *);
int	cmd_peer_remove(struct device *, struct args *);
int	cmd_peer_list(struct device *, struct args *);

/* bundle.c */
int	cmd_export(struct device *, struct args *);
int	cmd_import(struct device *, struct args *);
void	bundle_key(const struct device *, uint8_t out[32]);

/* cmd_fork.c: a forked log, from this device's side. */
int	fork_self(struct device *, struct store_txn *, uint64_t *fseq);
void	fork_self_line(char *out, size_t len, uint64_t fseq);
int	fork_self_check(struct device *);
int	cmd_fork_repair(struct device *, struct args *);

/* serve.c and status.c */
int	cmd_serve(struct device *, struct args *);
int	cmd_sync(struct device *, struct args *);
int	cmd_status(struct device *, struct args *);
int	peer_addr_valid(const char *);

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

/* json.c: records as JSON. */
void	json_record(const struct record *);
/* The same, with author in place of the "author" field's value (the
 * signed writer's name, see show). */
void	json_record_by(const struct record *, const char *author);

#endif
