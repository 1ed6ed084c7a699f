/*
 * store_bench: what a note costs, and what reading a big store costs.
 *
 *	store_bench SCRATCH_DIR		(SATCHEL=path/to/satchel; BENCH_RUNS=5)
 *
 * (a) 10,000 ~1 KB conference notes written through the store API, one
 *     durable LMDB transaction each, as `satchel note add` writes them.
 * (b) the floor for (a): the same bytes hashed, sealed, signed and put
 *     into a raw LMDB environment, one durable commit each. The gap
 *     between (a) and (b) is what Satchel's own code costs.
 * (c) 100,000 notes over 1,000 students: wall time of the real `show` and
 *     `digest` commands, `id` as the floor (process start + store open),
 *     and the data directory's size on disk beside the log's payload.
 *
 * The machine is shared and noisy: every figure is the median of
 * BENCH_RUNS runs, and each floor is measured in the same runs, interleaved
 * with what it is the floor of, so that both see the same noise.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>	/* the floor loop only; Satchel goes through store/ */
#include <sodium.h>

#include "common.h"

#define WRITE_NOTES	10000
#define LOAD_STUDENTS	1000
#define LOAD_NOTES	100000
#define LOAD_PER_TXN	1000
#define SCHOOL_DAYS	300	/* 2025-09-01 onwards: indexes see real spread */
#define FIELD_TEXT	320	/* three fields of this, plus the rest: ~1 KB */
#define HEX_ID		(2 * PROTO_RECIDLEN + 1)
#define FLOOR_MAPSIZE	((size_t)1 << 30)
#define SHOW_TARGET_MS	20.0

struct note_text {
	char	student[HEX_ID];
	char	date[11];
	char	strengths[FIELD_TEXT + 1];
	char	obstacle[FIELD_TEXT + 1];
	char	action[FIELD_TEXT + 1];
};

/* One run's latencies, summarised. */
struct lat {
	double	rate;		/* notes/s over the time measured */
	double	p50, p99;	/* seconds */
	double	total;
};

static void
summarise(double *lat, size_t n, struct lat *out)
{
	out->total = 0;
	for (size_t i = 0; i < n; i++)
		out->total += lat[i];
	out->rate = (double)n / out->total;
	out->p50 = bench_percentile(lat, n, 50);
	out->p99 = bench_percentile(lat, n, 99);
}

/* --- Texts: deterministic per note, so (a) and (b) carry the same bytes. */

static void
note_text(struct note_text *nt, uint64_t i, const char *student,
    const char *date)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (i + 1);

	snprintf(nt->student, sizeof(nt->student), "%s", student);
	snprintf(nt->date, sizeof(nt->date), "%s", date);
	bench_fill_text(nt->strengths, FIELD_TEXT, &rng, NULL);
	bench_fill_text(nt->obstacle, FIELD_TEXT, &rng, NULL);
	bench_fill_text(nt->action, FIELD_TEXT, &rng, NULL);
}

/* A school-year date for note i: each student's notes march through the
 * year in the order written, as a teacher's do, on that student's own
 * days, so the by-student date index holds a year of distinct dates. */
static void
school_date(char out[11], uint64_t i)
{
	struct tm tm = { .tm_year = 125, .tm_mon = 8, .tm_hour = 12 };
	uint64_t k = i / LOAD_STUDENTS, per = LOAD_NOTES / LOAD_STUDENTS;

	tm.tm_mday = 1 + (int)((k * SCHOOL_DAYS / per + i % 3) % SCHOOL_DAYS);
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* --- Writing through the store, as cmd_note_add and cmd_student_add do. */

static int
build_note(struct change *c, const struct note_text *nt, const char *author)
{
	uint8_t id[PROTO_RECIDLEN];

	randombytes_buf(id, sizeof(id));
	change_init(c, KIND_NOTE, id);
	return change_set(c, NULL, "student", nt->student) != 0 ||
	    change_set(c, NULL, "date", nt->date) != 0 ||
	    change_set(c, NULL, "author", author) != 0 ||
	    change_set(c, NULL, "strengths", nt->strengths) != 0 ||
	    change_set(c, NULL, "obstacle", nt->obstacle) != 0 ||
	    change_set(c, NULL, "action", nt->action) != 0 ? -1 : 0;
}

/* Appends a student inside t; its hex id goes to hex. */
static void
add_student(struct device *d, struct store_txn *t, int n,
    char hex[HEX_ID])
{
	char name[32];
	uint8_t id[PROTO_RECIDLEN];
	struct change c;
	int rc;

	snprintf(name, sizeof(name), "Student %04d", n);
	randombytes_buf(id, sizeof(id));
	change_init(&c, KIND_STUDENT, id);
	if (change_set(&c, NULL, "name", name) != 0 ||
	    change_set(&c, NULL, "class", n % 2 ? "3B" : "4A") != 0)
		bench_die("cannot build a student");
	if ((rc = device_write(d, t, &c)) != 0)
		bench_die_store("student write", rc);
	hex_id(hex, id);
}

static void
add_one_student(struct device *d, char hex[HEX_ID])
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		bench_die_store("begin", rc);
	add_student(d, t, 0, hex);
	if ((rc = store_commit(t)) != 0)
		bench_die_store("commit", rc);
}

/* One note, one durable transaction: returns its latency. */
static double
write_note_durable(struct device *d, const struct note_text *nt)
{
	struct change c;
	struct store_txn *t;
	double t0 = bench_mono();
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		bench_die_store("begin", rc);
	if (build_note(&c, nt, d->name) != 0)
		bench_die("cannot build a note");
	if ((rc = device_write(d, t, &c)) != 0)
		bench_die_store("note write", rc);
	if ((rc = store_commit(t)) != 0)
		bench_die_store("commit", rc);
	return bench_mono() - t0;
}

/* (a): one run into a fresh device directory. */
static void
run_satchel_writes(const char *scratch, int run, double *lat,
    struct lat *out)
{
	char dir[4096], student[HEX_ID], date[11];
	struct note_text nt;
	struct device d;

	snprintf(dir, sizeof(dir), "%s/write-%d", scratch, run);
	bench_init_device(&d, dir);
	add_one_student(&d, student);
	for (int i = 0; i < WRITE_NOTES; i++) {
		today(date);	/* what note add does without --date */
		note_text(&nt, (uint64_t)i, student, date);
		lat[i] = write_note_durable(&d, &nt);
	}
	device_close(&d);
	bench_remove_dir(dir);
	summarise(lat, WRITE_NOTES, out);
}

/* --- (b) the floor: crypto and a raw LMDB append, nothing else. */

struct floor_ctx {
	MDB_env		*env;
	MDB_dbi		 dbi;
	uint8_t		 key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t		 pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t		 sk[crypto_sign_SECRETKEYBYTES];
	uint8_t		 prev[PROTO_HASHLEN];
	uint8_t		 buf[4096];	/* nonce, ciphertext, signature */
};

static void
floor_open(struct floor_ctx *f, const char *dir)
{
	MDB_txn *txn;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		bench_die("cannot make the floor directory");
	if (mdb_env_create(&f->env) != 0 ||
	    mdb_env_set_mapsize(f->env, FLOOR_MAPSIZE) != 0 ||
	    mdb_env_open(f->env, dir, 0, 0600) != 0 ||
	    mdb_txn_begin(f->env, NULL, 0, &txn) != 0 ||
	    mdb_dbi_open(txn, NULL, 0, &f->dbi) != 0 ||
	    mdb_txn_commit(txn) != 0)
		bench_die("cannot open the floor's LMDB environment");
	crypto_aead_xchacha20poly1305_ietf_keygen(f->key);
	crypto_sign_keypair(f->pk, f->sk);
	memset(f->prev, 0, sizeof(f->prev));
}

/* Seal under the previous hash, hash into the chain, sign, append. */
static double
floor_note(struct floor_ctx *f, uint64_t seq, const uint8_t *pt, size_t len)
{
	uint8_t *nonce = f->buf, *ct = f->buf + PROTO_NONCELEN, kb[8];
	unsigned long long ctlen;
	crypto_generichash_state h;
	MDB_val k = { sizeof(kb), kb }, v;
	MDB_txn *txn;
	double t0 = bench_mono();

	randombytes_buf(nonce, PROTO_NONCELEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt, len,
	    f->prev, sizeof(f->prev), NULL, nonce, f->key);
	crypto_generichash_init(&h, NULL, 0, PROTO_HASHLEN);
	crypto_generichash_update(&h, f->prev, sizeof(f->prev));
	crypto_generichash_update(&h, f->buf, PROTO_NONCELEN + ctlen);
	crypto_generichash_final(&h, f->prev, PROTO_HASHLEN);
	crypto_sign_detached(ct + ctlen, NULL, f->prev, PROTO_HASHLEN, f->sk);
	for (int i = 0; i < 8; i++)	/* big-endian: MDB_APPEND needs order */
		kb[i] = (uint8_t)(seq >> (56 - 8 * i));
	v.mv_size = PROTO_NONCELEN + ctlen + PROTO_SIGLEN;
	v.mv_data = f->buf;
	if (mdb_txn_begin(f->env, NULL, 0, &txn) != 0 ||
	    mdb_put(txn, f->dbi, &k, &v, MDB_APPEND) != 0 ||
	    mdb_txn_commit(txn) != 0)
		bench_die("floor LMDB append failed");
	return bench_mono() - t0;
}

/* The payload the floor carries: the note's field values, back to back. */
static size_t
floor_payload(uint8_t *out, size_t max, const struct note_text *nt)
{
	int n = snprintf((char *)out, max, "%s%s%s%s%s%s", nt->student,
	    nt->date, "Bench", nt->strengths, nt->obstacle, nt->action);

	if (n < 0 || (size_t)n >= max)
		bench_die("floor payload too long");
	return (size_t)n;
}

static void
run_floor_writes(const char *scratch, int run, double *lat, struct lat *out)
{
	static struct floor_ctx f;
	char dir[4096], date[11], student[HEX_ID];
	uint8_t pt[2048], id[PROTO_RECIDLEN];
	struct note_text nt;

	snprintf(dir, sizeof(dir), "%s/floor-%d", scratch, run);
	floor_open(&f, dir);
	randombytes_buf(id, sizeof(id));
	hex_id(student, id);
	for (int i = 0; i < WRITE_NOTES; i++) {
		today(date);
		note_text(&nt, (uint64_t)i, student, date);
		lat[i] = floor_note(&f, (uint64_t)i + 1, pt,
		    floor_payload(pt, sizeof(pt), &nt));
	}
	mdb_env_close(f.env);
	sodium_memzero(&f, sizeof(f));
	bench_remove_dir(dir);
	summarise(lat, WRITE_NOTES, out);
}

static void
print_lat(const char *what, double *rate, double *p50, double *p99)
{
	printf("  %-8s %8.0f notes/s   p50 %7.3f ms   p99 %7.3f ms\n", what,
	    bench_median_runs(rate), bench_median_runs(p50) * 1e3,
	    bench_median_runs(p99) * 1e3);
}

/* (a) and (b), interleaved run by run. */
static void
bench_writes(const char *scratch)
{
	double *lat = malloc(WRITE_NOTES * sizeof(*lat));
	double sr[BENCH_MAX_RUNS], s50[BENCH_MAX_RUNS], s99[BENCH_MAX_RUNS],
	    fr[BENCH_MAX_RUNS], f50[BENCH_MAX_RUNS], f99[BENCH_MAX_RUNS],
	    ratio[BENCH_MAX_RUNS], ratio50[BENCH_MAX_RUNS];
	struct lat s, f;

	if (lat == NULL)
		bench_die("out of memory");
	for (int r = 0; r < bench_runs; r++) {
		run_satchel_writes(scratch, r, lat, &s);
		run_floor_writes(scratch, r, lat, &f);
		sr[r] = s.rate, s50[r] = s.p50, s99[r] = s.p99;
		fr[r] = f.rate, f50[r] = f.p50, f99[r] = f.p99;
		ratio[r] = s.total / f.total;
		ratio50[r] = s.p50 / f.p50;
	}
	free(lat);
	printf("[a] %d notes of ~1 KB through the store API, one durable "
	    "LMDB transaction each\n", WRITE_NOTES);
	print_lat("satchel", sr, s50, s99);
	printf("[b] floor: the same bytes, BLAKE2b + XChaCha20-Poly1305 + "
	    "ed25519 + raw LMDB put, one durable commit each\n");
	print_lat("floor", fr, f50, f99);
	printf("  satchel/floor time per note: %.2fx overall, %.2fx at p50\n",
	    bench_median_runs(ratio), bench_median_runs(ratio50));
}

/* --- (c) a year of notes: the real commands against a big store. */

static void
load_notes(struct device *d, char (*students)[HEX_ID], int from)
{
	char date[11];
	struct note_text nt;
	struct change c;
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		bench_die_store("begin", rc);
	for (int i = from; i < from + LOAD_PER_TXN; i++) {
		school_date(date, (uint64_t)i);
		note_text(&nt, (uint64_t)i, students[i % LOAD_STUDENTS], date);
		if (build_note(&c, &nt, d->name) != 0)
			bench_die("cannot build a note");
		if ((rc = device_write(d, t, &c)) != 0)
			bench_die_store("note write", rc);
	}
	if ((rc = store_commit(t)) != 0)
		bench_die_store("commit", rc);
}

/* Fills dir with the students and notes; returns the log's payload. */
static uint64_t
populate(const char *dir, char (*students)[HEX_ID])
{
	struct store_txn *t;
	struct device d;
	double t0;
	uint64_t payload;
	int rc;

	bench_init_device(&d, dir);
	t0 = bench_mono();
	if ((rc = store_begin(d.st, 0, &t)) != 0)
		bench_die_store("begin", rc);
	for (int i = 0; i < LOAD_STUDENTS; i++)
		add_student(&d, t, i, students[i]);
	if ((rc = store_commit(t)) != 0)
		bench_die_store("commit", rc);
	for (int i = 0; i < LOAD_NOTES; i += LOAD_PER_TXN)
		load_notes(&d, students, i);
	printf("[c] %d notes over %d students, populated through the store "
	    "API in %.1f s (%d per transaction)\n", LOAD_NOTES, LOAD_STUDENTS,
	    bench_mono() - t0, LOAD_PER_TXN);
	payload = bench_log_payload(&d);
	device_close(&d);
	return payload;
}

static void
time_commands(const char *dir, char (*students)[HEX_ID], double *show,
    double *digest, double *id)
{
	const char *idv[] = { bench_satchel, "-d", dir, "id", NULL };
	const char *dgv[] = { bench_satchel, "-d", dir, "digest", NULL };
	const char *shv[] = { bench_satchel, "-d", dir, "show", students[0],
	    NULL };

	/* Warm the page cache once: these are the figures a teacher who
	 * uses the machine daily sees, not a cold boot's. */
	bench_run(shv);
	bench_run(dgv);
	for (int r = 0; r < bench_runs; r++) {
		shv[4] = students[(r * 97) % LOAD_STUDENTS];
		id[r] = bench_run(idv);
		show[r] = bench_run(shv);
		digest[r] = bench_run(dgv);
	}
}

static void
bench_reads(const char *scratch)
{
	static char students[LOAD_STUDENTS][HEX_ID];
	char dir[4096];
	double show[BENCH_MAX_RUNS], digest[BENCH_MAX_RUNS], id[BENCH_MAX_RUNS];
	double idm;
	uint64_t payload, disk;

	snprintf(dir, sizeof(dir), "%s/load", scratch);
	payload = populate(dir, students);
	disk = bench_dir_disk_bytes(dir);
	time_commands(dir, students, show, digest, id);
	idm = bench_median_runs(id) * 1e3;
	printf("  show STUDENT  %8.2f ms   target < %.0f ms   floor (satchel "
	    "id) %.2f ms\n", bench_median_runs(show) * 1e3,
	    SHOW_TARGET_MS, idm);
	printf("  digest        %8.2f ms   floor (satchel id) %.2f ms\n",
	    bench_median_runs(digest) * 1e3, idm);
	printf("  id            %8.2f ms   (process start + store open)\n",
	    idm);
	printf("  data directory on disk %.1f MiB   log raw payload %.1f MiB "
	    "(%.2fx)\n", (double)disk / 1048576, (double)payload / 1048576,
	    (double)disk / (double)payload);
	bench_remove_dir(dir);
}

int
main(int argc, char **argv)
{
	const char *scratch = bench_init(argc, argv, "store_bench");

	bench_writes(scratch);
	bench_reads(scratch);
	return 0;
}
