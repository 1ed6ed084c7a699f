/*
 * size_bench: what the store costs on disk, the two rows of issue 10.
 *
 *	size_bench SCRATCH_DIR	(SATCHEL=path/to/satchel; BENCH_RUNS=3;
 *				 BENCH_FULL=1 for the full sizes)
 *
 * (a) A teacher's laptop: N ~1 KB conference notes over 1,000 students
 *     written through the store API, 100 to a transaction (one each, as
 *     `note add` writes them, would take hours); N is 20,000
 *     (BENCH_FULL: 100,000).
 *     The floor is the log's payload: the bytes of the entries
 *     themselves, which no store can hold in less.
 * (b) The staff-room box: entries of ~1 KB from 50 devices, received
 *     the way a box receives them, a batch of one device's new entries at
 *     a time, devices taking turns, one durable transaction per batch;
 *     the box holds no key and stores ciphertext only. 100,000 entries
 *     (BENCH_FULL: 1,000,000, several GB of disk). The floor is the sum
 *     of the entries' bytes.
 *
 * Each row prints Satchel's bytes on disk (the files' blocks, as du
 * counts them), the floor, the ratio and the target, as the median of
 * BENCH_RUNS runs, with the machine's load average when it ran.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common.h"

#define STUDENTS	1000
#define PER_TXN		100	/* a day's notes, not one by one: time */
#define FIELD_TEXT	320
#define HEX_ID		(2 * PROTO_RECIDLEN + 1)
#define BOX_DEVICES	50
#define BOX_BATCH	100	/* entries a device brings per sync */
#define LAPTOP_TARGET	2.0
#define BOX_TARGET	1.5

static uint64_t laptop_notes = 20000, box_entries = 100000;

/* Classroom prose, and a pseudo-word per note (a name, a book title):
 * the index holds about as many distinct words as notes, as a real one
 * does (search_bench writes the same). word 0: none. */
static void
fill_text(char *out, size_t len, uint64_t *rng, uint64_t word)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "kq%llu", (unsigned long long)word);
	bench_fill_text(out, len, rng, word == 0 ? NULL : prefix);
}

static void
note_change(struct change *c, uint8_t id[PROTO_RECIDLEN], const char *student,
    const char *author, uint64_t i, char text[3][FIELD_TEXT + 1])
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (i + 1);
	static char date[11];	/* borrowed by c, as text is */

	fill_text(text[0], FIELD_TEXT + 1, &rng, i + 1);
	fill_text(text[1], FIELD_TEXT + 1, &rng, 0);
	fill_text(text[2], FIELD_TEXT + 1, &rng, 0);
	snprintf(date, sizeof(date), "2025-%02d-%02d", (int)(1 + i / 28 % 12),
	    (int)(1 + i % 28));
	randombytes_buf(id, PROTO_RECIDLEN);
	change_init(c, KIND_NOTE, id);
	if (change_set(c, NULL, "student", student) != 0 ||
	    change_set(c, NULL, "date", date) != 0 ||
	    change_set(c, NULL, "author", author) != 0 ||
	    change_set(c, NULL, "strengths", text[0]) != 0 ||
	    change_set(c, NULL, "obstacle", text[1]) != 0 ||
	    change_set(c, NULL, "action", text[2]) != 0)
		bench_die("cannot build a note");
}

/* SIZE_BENCH_KEEP=1 leaves the directories for mdb_stat. */
static void
remove_dir(const char *dir)
{
	if (getenv("SIZE_BENCH_KEEP") == NULL)
		bench_remove_dir(dir);
}

/* --- (a) the laptop. */

static void
add_students(struct device *d, char (*students)[HEX_ID])
{
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct change c;
	char name[32];
	int rc;

	if ((rc = store_begin(d->st, 0, &t)) != 0)
		bench_die_store("begin", rc);
	for (int i = 0; i < STUDENTS; i++) {
		snprintf(name, sizeof(name), "Student %04d", i);
		randombytes_buf(id, sizeof(id));
		change_init(&c, KIND_STUDENT, id);
		if (change_set(&c, NULL, "name", name) != 0 ||
		    change_set(&c, NULL, "class", i % 2 ? "3B" : "4A") != 0)
			bench_die("cannot build a student");
		if ((rc = device_write(d, t, &c)) != 0)
			bench_die_store("student write", rc);
		hex_id(students[i], id);
	}
	if ((rc = store_commit(t)) != 0)
		bench_die_store("commit", rc);
}

static double
laptop_run(const char *scratch, int run, uint64_t *disk, uint64_t *payload)
{
	static char students[STUDENTS][HEX_ID];
	static char text[3][FIELD_TEXT + 1];
	char dir[4096];
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct device d;
	struct change c;
	int rc;

	snprintf(dir, sizeof(dir), "%s/laptop-%d", scratch, run);
	bench_init_device(&d, dir);
	add_students(&d, students);
	for (uint64_t i = 0; i < laptop_notes; i += PER_TXN) {
		if ((rc = store_begin(d.st, 0, &t)) != 0)
			bench_die_store("begin", rc);
		for (uint64_t j = i; j < i + PER_TXN && j < laptop_notes; j++) {
			note_change(&c, id, students[j % STUDENTS], d.name, j,
			    text);
			if ((rc = device_write(&d, t, &c)) != 0)
				bench_die_store("note write", rc);
		}
		if ((rc = store_commit(t)) != 0)
			bench_die_store("commit", rc);
	}
	*payload = bench_log_payload(&d);
	device_close(&d);
	*disk = bench_dir_disk_bytes(dir);
	remove_dir(dir);
	return (double)*disk / (double)*payload;
}

/* --- (b) the box. */

struct author {
	uint8_t		 id[PROTO_IDLEN];
	uint8_t		 sk[PROTO_SKLEN];
	uint64_t	 seq, hlc;
	uint8_t		 prev[PROTO_HASHLEN];
};

/* The next entry of author a, sealed under key, into env. */
static void
box_entry(struct author *a, const struct store_key *key, uint64_t i,
    msgpack_sbuffer *env)
{
	static char text[3][FIELD_TEXT + 1];
	static uint8_t ct[PROTO_MAX_CHANGE + PROTO_TAGLEN];
	static char student[HEX_ID];
	uint8_t id[PROTO_RECIDLEN];
	struct envelope e;
	struct change c;
	msgpack_sbuffer pt;

	if (student[0] == '\0') {
		randombytes_buf(id, sizeof(id));
		hex_id(student, id);
	}
	note_change(&c, id, student, "Teacher", i, text);
	msgpack_sbuffer_init(&pt);
	if (proto_change_encode(&c, &pt) != 0 || pt.size > PROTO_MAX_CHANGE)
		bench_die("cannot encode a change");
	memset(&e, 0, sizeof(e));
	e.version = PROTO_VERSION;
	memcpy(e.author, a->id, PROTO_IDLEN);
	e.seq = ++a->seq;
	memcpy(e.prev_hash, a->prev, PROTO_HASHLEN);
	a->hlc = proto_hlc_now(a->hlc, 1760000000000ULL + i);
	e.hlc = a->hlc;
	e.scope = SCOPE_TEAM;
	memcpy(e.key_id, key->id, PROTO_KEYIDLEN);
	msgpack_sbuffer_clear(env);
	if (proto_envelope_seal(&e, key->key, (uint8_t *)pt.data, pt.size, ct,
	    a->sk) != 0 || proto_envelope_encode(&e, env) != 0)
		bench_die("cannot seal an entry");
	proto_envelope_hash(&e, a->prev);
	msgpack_sbuffer_destroy(&pt);
}

static double
box_run(const char *scratch, int run, uint64_t *disk, uint64_t *payload)
{
	static struct author authors[BOX_DEVICES];
	struct store_key key;
	struct store_txn *t;
	struct store *st;
	msgpack_sbuffer env;
	char dir[4096];
	uint64_t done = 0;
	int rc;

	snprintf(dir, sizeof(dir), "%s/box-%d", scratch, run);
	if (mkdir(dir, 0700) != 0)
		bench_die("cannot make the box directory");
	if ((rc = store_open(&st, dir, STORE_CREATE)) != 0)
		bench_die_store("box store", rc);
	randombytes_buf(key.key, sizeof(key.key));
	proto_key_id(key.key, key.id);
	key.use = KEY_CONTENT;
	for (int a = 0; a < BOX_DEVICES; a++) {
		memset(&authors[a], 0, sizeof(authors[a]));
		crypto_sign_keypair(authors[a].id, authors[a].sk);
	}
	msgpack_sbuffer_init(&env);
	*payload = 0;
	for (int a = 0; done < box_entries; a = (a + 1) % BOX_DEVICES) {
		if ((rc = store_begin(st, 0, &t)) != 0)
			bench_die_store("begin", rc);
		for (int k = 0; k < BOX_BATCH && done < box_entries; k++) {
			box_entry(&authors[a], &key, done++, &env);
			*payload += env.size;
			if ((rc = store_apply_entry(t, NULL,
			    (uint8_t *)env.data, env.size,
			    k == BOX_BATCH - 1)) != 0)
				bench_die_store("box apply", rc);
		}
		if ((rc = store_commit(t)) != 0)
			bench_die_store("commit", rc);
	}
	msgpack_sbuffer_destroy(&env);
	store_close(st);
	*disk = bench_dir_disk_bytes(dir);
	remove_dir(dir);
	return (double)*disk / (double)*payload;
}

static void
row(const char *what, double target, const char *scratch,
    double (*fn)(const char *, int, uint64_t *, uint64_t *))
{
	double ratio[BENCH_MAX_RUNS], disk[BENCH_MAX_RUNS];
	double payload[BENCH_MAX_RUNS], load[BENCH_MAX_RUNS];
	char sat[32], floor[48], rs[16], ts[16];
	uint64_t d, p;

	for (int r = 0; r < bench_runs; r++) {
		load[r] = bench_load1();
		ratio[r] = fn(scratch, r, &d, &p);
		disk[r] = (double)d;
		payload[r] = (double)p;
	}
	printf("  %-44s satchel %8.1f MiB   floor (payload) %8.1f MiB   "
	    "ratio %5.2fx   target <= %.1fx   load %.2f\n", what,
	    bench_median_runs(disk) / 1048576,
	    bench_median_runs(payload) / 1048576,
	    bench_median_runs(ratio), target, bench_median_runs(load));
	snprintf(sat, sizeof(sat), "%.1f MiB", bench_median_runs(disk) /
	    1048576);
	snprintf(floor, sizeof(floor), "%.1f MiB (payload)",
	    bench_median_runs(payload) / 1048576);
	snprintf(rs, sizeof(rs), "%.2fx", bench_median_runs(ratio));
	snprintf(ts, sizeof(ts), "<= %.1fx", target);
	bench_row(what, sat, floor, rs, ts);
}

int
main(int argc, char **argv)
{
	const char *full = getenv("BENCH_FULL"), *scratch;
	char what[128];

	/* Three runs unless BENCH_RUNS says: each fills whole stores. */
	if (getenv("BENCH_RUNS") == NULL)
		setenv("BENCH_RUNS", "3", 1);
	scratch = bench_init(argc, argv, "size_bench");
	if (full != NULL && strcmp(full, "1") == 0) {
		laptop_notes = 100000;
		box_entries = 1000000;
		printf("size_bench: BENCH_FULL: the issue's full sizes\n");
	}
	if (getenv("SIZE_BENCH_NOTES") != NULL)	/* both rows' sizes */
		laptop_notes = box_entries = strtoull(
		    getenv("SIZE_BENCH_NOTES"), NULL, 10);
	snprintf(what, sizeof(what), "store size: laptop, %llu notes, "
	    "%d students", (unsigned long long)laptop_notes, STUDENTS);
	row(what, LAPTOP_TARGET, scratch, laptop_run);
	snprintf(what, sizeof(what), "store size: box, %llu entries from "
	    "%d devices", (unsigned long long)box_entries, BOX_DEVICES);
	row(what, BOX_TARGET, scratch, box_run);
	return 0;
}
