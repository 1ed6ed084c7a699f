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
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"

#define STUDENTS	1000
#define PER_TXN		100	/* a day's notes, not one by one: time */
#define FIELD_TEXT	320
#define HEX_ID		(2 * PROTO_RECIDLEN + 1)
#define BOX_DEVICES	50
#define BOX_BATCH	100	/* entries a device brings per sync */
#define LAPTOP_TARGET	2.0
#define BOX_TARGET	1.5

static const char *satchel_bin;
static int nruns = 3;
static uint64_t laptop_notes = 20000, box_entries = 100000;

static void
die(const char *what)
{
	fprintf(stderr, "size_bench: %s\n", what);
	exit(1);
}

static void
die_store(const char *what, int rc)
{
	fprintf(stderr, "size_bench: %s: %s\n", what, store_strerror(rc));
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
load_avg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Classroom prose, and a pseudo-word per note (a name, a book title):
 * the index holds about as many distinct words as notes, as a real one
 * does (search_bench writes the same). */
static void
fill_text(char *out, size_t len, uint64_t *rng, uint64_t word)
{
	static const char *const words[] = {
		"reads", "fluently", "with", "support", "counting", "on",
		"strategies", "phonics", "partner", "work", "asked", "for",
		"help", "when", "stuck", "decoding", "multisyllable", "words",
		"number", "line", "to", "twenty", "confident", "sharing",
		"ideas", "in", "the", "group", "needs", "prompting", "check",
		"again", "next", "week", "model", "chunking", "and", "praise"
	};
	size_t n = sizeof(words) / sizeof(words[0]), at;

	at = word == 0 ? 0 : (size_t)snprintf(out, len, "kq%llu ",
	    (unsigned long long)word);
	for (;;) {
		const char *w = words[xorshift(rng) % n];
		size_t wl = strlen(w);

		if (at + wl + 1 > len)
			break;
		memcpy(out + at, w, wl);
		at += wl;
		out[at++] = ' ';
	}
	out[at > 0 ? at - 1 : 0] = '.';
	out[at] = '\0';
}

static void
note_change(struct change *c, uint8_t id[PROTO_RECIDLEN], const char *student,
    const char *author, uint64_t i, char text[3][FIELD_TEXT + 1])
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (i + 1);
	char date[11];

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
		die("cannot build a note");
}

static void
run_quiet(const char *const argv[])
{
	pid_t pid = fork();
	int status, fd;

	if (pid == -1)
		die("fork failed");
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("satchel init failed");
}

/* The directories made here are flat; SIZE_BENCH_KEEP=1 leaves them
 * for mdb_stat. */
static void
remove_dir(const char *dir)
{
	char path[4200];
	struct dirent *e;
	DIR *dp;

	if (getenv("SIZE_BENCH_KEEP") != NULL || (dp = opendir(dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path))
			unlink(path);
	closedir(dp);
	rmdir(dir);
}

/* du-like: the blocks the files really take. */
static uint64_t
dir_disk_bytes(const char *dir)
{
	char path[4200];
	struct dirent *e;
	struct stat sb;
	uint64_t sum = 0;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		die("cannot read a data directory");
	while ((e = readdir(dp)) != NULL)
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path) && lstat(path, &sb) == 0 &&
		    S_ISREG(sb.st_mode))
			sum += (uint64_t)sb.st_blocks * 512;
	closedir(dp);
	return sum;
}

static int
count_bytes(const uint8_t *env, size_t len, void *arg)
{
	(void)env;
	*(uint64_t *)arg += len;
	return 0;
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
		die_store("begin", rc);
	for (int i = 0; i < STUDENTS; i++) {
		snprintf(name, sizeof(name), "Student %04d", i);
		randombytes_buf(id, sizeof(id));
		change_init(&c, KIND_STUDENT, id);
		if (change_set(&c, NULL, "name", name) != 0 ||
		    change_set(&c, NULL, "class", i % 2 ? "3B" : "4A") != 0)
			die("cannot build a student");
		if ((rc = device_write(d, t, &c)) != 0)
			die_store("student write", rc);
		hex_id(students[i], id);
	}
	if ((rc = store_commit(t)) != 0)
		die_store("commit", rc);
}

static double
laptop_run(const char *scratch, int run, uint64_t *disk, uint64_t *payload)
{
	static char students[STUDENTS][HEX_ID];
	static char text[3][FIELD_TEXT + 1];
	char dir[4096];
	const char *argv[] = { satchel_bin, "-d", dir, "init", "--name",
	    "Bench", NULL };
	uint8_t id[PROTO_RECIDLEN];
	struct store_txn *t;
	struct device d;
	struct change c;
	int rc;

	snprintf(dir, sizeof(dir), "%s/laptop-%d", scratch, run);
	run_quiet(argv);
	if (device_open(&d, dir) != 0)
		die("device_open failed");
	add_students(&d, students);
	for (uint64_t i = 0; i < laptop_notes; i += PER_TXN) {
		if ((rc = store_begin(d.st, 0, &t)) != 0)
			die_store("begin", rc);
		for (uint64_t j = i; j < i + PER_TXN && j < laptop_notes; j++) {
			note_change(&c, id, students[j % STUDENTS], d.name, j,
			    text);
			if ((rc = device_write(&d, t, &c)) != 0)
				die_store("note write", rc);
		}
		if ((rc = store_commit(t)) != 0)
			die_store("commit", rc);
	}
	*payload = 0;
	if ((rc = store_begin(d.st, STORE_RDONLY, &t)) != 0 ||
	    (rc = store_log_each(t, count_bytes, payload)) != 0)
		die_store("log walk", rc);
	store_abort(t);
	device_close(&d);
	*disk = dir_disk_bytes(dir);
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
		die("cannot encode a change");
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
		die("cannot seal an entry");
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
		die("cannot make the box directory");
	if ((rc = store_open(&st, dir, STORE_CREATE)) != 0)
		die_store("box store", rc);
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
			die_store("begin", rc);
		for (int k = 0; k < BOX_BATCH && done < box_entries; k++) {
			box_entry(&authors[a], &key, done++, &env);
			*payload += env.size;
			if ((rc = store_apply_entry(t, NULL,
			    (uint8_t *)env.data, env.size,
			    k == BOX_BATCH - 1)) != 0)
				die_store("box apply", rc);
		}
		if ((rc = store_commit(t)) != 0)
			die_store("commit", rc);
	}
	msgpack_sbuffer_destroy(&env);
	store_close(st);
	*disk = dir_disk_bytes(dir);
	remove_dir(dir);
	return (double)*disk / (double)*payload;
}

static void
row(const char *what, double target, const char *scratch,
    double (*fn)(const char *, int, uint64_t *, uint64_t *))
{
	double ratio[99], disk[99], payload[99], load[99];
	uint64_t d, p;

	for (int r = 0; r < nruns; r++) {
		load[r] = load_avg();
		ratio[r] = fn(scratch, r, &d, &p);
		disk[r] = (double)d;
		payload[r] = (double)p;
	}
	printf("  %-44s satchel %8.1f MiB   floor (payload) %8.1f MiB   "
	    "ratio %5.2fx   target <= %.1fx   load %.2f\n", what,
	    median(disk, (size_t)nruns) / 1048576,
	    median(payload, (size_t)nruns) / 1048576,
	    median(ratio, (size_t)nruns), target,
	    median(load, (size_t)nruns));
}

int
main(int argc, char **argv)
{
	const char *runs = getenv("BENCH_RUNS"), *full = getenv("BENCH_FULL");
	char what[128];

	if (argc != 2 || (satchel_bin = getenv("SATCHEL")) == NULL) {
		fprintf(stderr, "usage: SATCHEL=path/to/satchel [BENCH_RUNS=3] "
		    "[BENCH_FULL=1] size_bench SCRATCH_DIR\n");
		return 2;
	}
	if (runs != NULL)
		nruns = atoi(runs) < 1 ? 1 : atoi(runs) > 99 ? 99 : atoi(runs);
	if (full != NULL && strcmp(full, "1") == 0) {
		laptop_notes = 100000;
		box_entries = 1000000;
	}
	if (getenv("SIZE_BENCH_NOTES") != NULL)	/* both rows' sizes */
		laptop_notes = box_entries = strtoull(
		    getenv("SIZE_BENCH_NOTES"), NULL, 10);
	if (sodium_init() < 0)
		die("cannot initialise libsodium");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("size_bench: medians of %d runs%s; satchel %s\n", nruns,
	    full ? " (BENCH_FULL)" : "", satchel_bin);
	snprintf(what, sizeof(what), "[a] laptop: %llu notes, %d students",
	    (unsigned long long)laptop_notes, STUDENTS);
	row(what, LAPTOP_TARGET, argv[1], laptop_run);
	snprintf(what, sizeof(what), "[b] box: %llu entries from %d devices",
	    (unsigned long long)box_entries, BOX_DEVICES);
	row(what, BOX_TARGET, argv[1], box_run);
	return 0;
}
