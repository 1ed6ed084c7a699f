/*
 * satchel student import ROSTER.csv [--dry-run]: the school office's
 * roster, one student a row, into student records, in one transaction.
 *
 * A row is the student already here with the same external id, else the
 * one with the same name and class (as student_key folds them) and no
 * other external id, else a new student. Of a student already here, only
 * the cells that differ and are not empty are written: an empty cell
 * never clears a field a teacher filled, and importing the same roster
 * again writes nothing. Every row is checked and matched before anything
 * is written; a bad row stops the import with its line number.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "roster.h"

/* Profile columns and the student field each fills. */
static const struct {
	int		 col;
	const char	*field;
} profile[] = {
	{ ROSTER_NAME, "name" }, { ROSTER_CLASS, "class" },
	{ ROSTER_STRENGTHS, "strengths" }, { ROSTER_NEEDS, "needs" },
	{ ROSTER_INTERESTS, "interests" }, { ROSTER_GOALS, "goals" },
};
#define NPROFILE	(sizeof(profile) / sizeof(profile[0]))

enum plan_kind { PLAN_SAME, PLAN_ADD, PLAN_UPDATE, PLAN_DELETED };

struct plan {
	const struct proto_roster_row *row;
	struct student_item *it;	/* NULL for a new student */
	char		*key;		/* student_key of the row */
	int		 kind;		/* enum plan_kind */
	unsigned	 fields;	/* bit i: profile[i] differs */
	int		 set_ext;	/* the external id differs */
};

struct import {
	struct device		*d;
	const char		*path;
	struct proto_roster	 roster;
	struct student_list	 students;
	struct plan		*plans;
	size_t			 counts[4];	/* by plan_kind */
};

static int
read_roster(const char *path, uint8_t **buf, size_t *len)
{
	struct stat sb;
	ssize_t n;
	int fd;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY)) == -1)
		return fail_usage("student import: cannot read %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > PROTO_ROSTER_MAX) {
		close(fd);
		return fail_usage("student import: %s is not a roster (a CSV "
		    "file of at most 16 MiB)", path);
	}
	if ((*buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return fail("student import: out of memory");
	}
	n = read(fd, *buf, (size_t)sb.st_size);
	close(fd);
	if (n != (ssize_t)sb.st_size)
		return fail_usage("student import: cannot read %s", path);
	*len = (size_t)n;
	return 0;
}

static const char *
cell(const struct proto_roster_row *row, int col)
{
	return row->cell[col] != NULL ? row->cell[col] : "";
}

static const char *
field_or(const struct record *r, const char *field)
{
	const char *v = record_get(r, field);

	return v != NULL ? v : "";
}

/* The student a row names by its external id, or NULL. */
static struct student_item *
by_external_id(struct import *im, const char *ext)
{
	struct student_item *found = NULL;

	for (size_t i = 0; *ext != '\0' && i < im->students.n; i++) {
		struct student_item *it = &im->students.items[i];

		if (it->merged || strcmp(field_or(it->r, "external_id"), ext))
			continue;
		if (found == NULL || (found->deleted && !it->deleted))
			found = it;
	}
	return found;
}

/* The student a row names by name and class, or NULL; an exit code in
 * *rc if more than one live student could be it. */
static struct student_item *
by_key(struct import *im, const struct plan *p, const char *ext, int *rc)
{
	struct student_item *found = NULL;
	size_t live = 0;

	*rc = 0;
	for (size_t i = 0; i < im->students.n; i++) {
		struct student_item *it = &im->students.items[i];
		const char *theirs = field_or(it->r, "external_id");

		if (it->merged || strcmp(it->key, p->key) != 0 ||
		    (*ext != '\0' && *theirs != '\0'))
			continue;
		live += !it->deleted;
		if (found == NULL || (found->deleted && !it->deleted))
			found = it;
	}
	if (live > 1)
		*rc = fail_usage("%s: line %zu: %zu students here are named "
		    "'%s' in class '%s': merge them first (satchel student "
		    "list shows them; satchel student merge)", im->path,
		    p->row->line, live, cell(p->row, ROSTER_NAME),
		    cell(p->row, ROSTER_CLASS));
	return found;
}

/* What the row changes in the student it names. */
static void
plan_diff(struct plan *p, const char *ext)
{
	for (size_t i = 0; i < NPROFILE; i++) {
		const char *v = cell(p->row, profile[i].col);

		if (*v != '\0' && strcmp(v, field_or(p->it->r,
		    profile[i].field)) != 0)
			p->fields |= 1u << i;
	}
	p->set_ext = *ext != '\0' &&
	    strcmp(ext, field_or(p->it->r, "external_id")) != 0;
	if (p->it->deleted)
		p->kind = PLAN_DELETED;
	else
		p->kind = p->fields || p->set_ext ? PLAN_UPDATE : PLAN_SAME;
}

/* Two rows of the file that are one student. */
static int
same_student(const struct plan *a, const struct plan *b)
{
	const char *ea = cell(a->row, ROSTER_EXTERNAL_ID);
	const char *eb = cell(b->row, ROSTER_EXTERNAL_ID);

	if (a->it != NULL || b->it != NULL)
		return a->it == b->it;
	if (*ea != '\0' && *eb != '\0')
		return strcmp(ea, eb) == 0;
	return strcmp(a->key, b->key) == 0;
}

static int
plan_rows(struct import *im)
{
	size_t n = im->roster.nrows;
	int rc;

	if ((im->plans = calloc(n ? n : 1, sizeof(*im->plans))) == NULL)
		return fail("student import: out of memory");
	for (size_t i = 0; i < n; i++) {
		struct plan *p = &im->plans[i];
		const char *ext = cell(&im->roster.rows[i], ROSTER_EXTERNAL_ID);

		p->row = &im->roster.rows[i];
		if ((p->key = student_key(cell(p->row, ROSTER_NAME),
		    cell(p->row, ROSTER_CLASS))) == NULL)
			return fail("student import: out of memory");
		if ((p->it = by_external_id(im, ext)) == NULL) {
			p->it = by_key(im, p, ext, &rc);
			if (rc != 0)
				return rc;
		}
		if (p->it == NULL)
			p->kind = PLAN_ADD;
		else
			plan_diff(p, ext);
		for (size_t j = 0; j < i; j++)
			if (same_student(&im->plans[j], p))
				return fail_usage("%s: line %zu: the same "
				    "student as line %zu", im->path,
				    p->row->line, im->plans[j].row->line);
		im->counts[p->kind]++;
	}
	return 0;
}

static void
print_plan(const struct plan *p, int dry)
{
	const char *name = cell(p->row, ROSTER_NAME);
	const char *class = cell(p->row, ROSTER_CLASS);
	int first = 1;

	if (p->kind == PLAN_SAME)
		return;
	if (p->kind == PLAN_DELETED) {
		printf("line %zu: %s (%s) is deleted here: left as it is "
		    "(satchel undelete brings it back)\n", p->row->line, name,
		    class);
		return;
	}
	printf("line %zu: %s %s (%s)", p->row->line, p->kind == PLAN_ADD ?
	    (dry ? "would add" : "added") : (dry ? "would update" :
	    "updated"), name, class);
	for (size_t i = 0; p->kind == PLAN_UPDATE && i < NPROFILE; i++)
		if (p->fields & (1u << i)) {
			printf("%s%s", first ? ": " : ", ", profile[i].field);
			first = 0;
		}
	if (p->kind == PLAN_UPDATE && p->set_ext)
		printf("%sexternal_id", first ? ": " : ", ");
	putchar('\n');
}

/* One change: the profile fields of a new or changed student. The
 * external id goes in a change of its own, so that a device of an older
 * release, which does not know that field yet, still takes the rest. */
static int
write_one(struct import *im, struct store_txn *t, const struct plan *p,
    const uint8_t id[PROTO_RECIDLEN], int ext_only)
{
	const struct record *r = p->it ? p->it->r : NULL;
	struct change *c;
	const char *why;
	int rc = 0;

	if ((c = malloc(sizeof(*c))) == NULL)
		return STORE_ENOMEM;
	change_init(c, KIND_STUDENT, id);
	for (size_t i = 0; !ext_only && i < NPROFILE; i++) {
		const char *v = cell(p->row, profile[i].col);

		if (*v != '\0' && (r == NULL || (p->fields & (1u << i))))
			rc |= change_set(c, r, profile[i].field, v);
	}
	if (ext_only)
		rc |= change_set(c, r, "external_id",
		    cell(p->row, ROSTER_EXTERNAL_ID));
	if (rc != 0 || proto_change_validate(c, PROTO_KEY_CONTENT, &why) != 0)
		rc = STORE_EINVALID;
	else
		rc = device_write(im->d, t, c);
	free(c);
	return rc;
}

static int
write_rows(struct import *im, struct store_txn *t)
{
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	for (size_t i = 0; i < im->roster.nrows; i++) {
		struct plan *p = &im->plans[i];
		int add = p->kind == PLAN_ADD;
		int ext = *cell(p->row, ROSTER_EXTERNAL_ID) != '\0';

		if (!add && p->kind != PLAN_UPDATE)
			continue;
		if (add)
			randombytes_buf(id, sizeof(id));
		else
			memcpy(id, p->it->r->id, sizeof(id));
		if ((add || p->fields) && (rc = write_one(im, t, p, id, 0)) != 0)
			return rc;
		if (((add && ext) || p->set_ext) &&
		    (rc = write_one(im, t, p, id, 1)) != 0)
			return rc;
	}
	return 0;
}

static const char *
students(size_t n)
{
	return n == 1 ? "student" : "students";
}

static void
summary(const struct import *im, int dry)
{
	const size_t *n = im->counts;

	if (dry)
		printf("%s: would add %zu %s and update %zu; %zu unchanged%s. "
		    "Nothing written (--dry-run).\n", im->path, n[PLAN_ADD],
		    students(n[PLAN_ADD]), n[PLAN_UPDATE], n[PLAN_SAME],
		    n[PLAN_DELETED] ? ", some deleted here" : "");
	else if (n[PLAN_ADD] + n[PLAN_UPDATE] == 0)
		printf("%s: nothing to change (%zu %s here already).\n",
		    im->path, n[PLAN_SAME] + n[PLAN_DELETED],
		    students(n[PLAN_SAME] + n[PLAN_DELETED]));
	else
		printf("%s: added %zu %s, updated %zu, %zu unchanged.\n",
		    im->path, n[PLAN_ADD], students(n[PLAN_ADD]),
		    n[PLAN_UPDATE], n[PLAN_SAME]);
}

static int
import_run(struct import *im, int dry)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(im->d->st, 0, &t)) != 0)
		return device_store_error(rc, "cannot write");
	if ((rc = student_list_load(t, &im->students)) != 0) {
		store_abort(t);
		return device_store_error(rc, "student import");
	}
	if ((rc = plan_rows(im)) != 0) {
		store_abort(t);
		return rc;
	}
	for (size_t i = 0; i < im->roster.nrows; i++)
		print_plan(&im->plans[i], dry);
	if (dry || im->counts[PLAN_ADD] + im->counts[PLAN_UPDATE] == 0) {
		store_abort(t);
		summary(im, dry);
		return 0;
	}
	if ((rc = write_rows(im, t)) != 0) {
		store_abort(t);
		return rc == STORE_EINVALID ? fail_usage("student import: a "
		    "row makes a change peers would refuse; nothing written") :
		    device_store_error(rc, "student import");
	}
	if ((rc = store_commit(t)) != 0)
		return device_store_error(rc, "student import");
	summary(im, 0);
	return 0;
}

int
cmd_student_import(struct device *d, struct args *a)
{
	struct import im;
	uint8_t *buf;
	size_t len = 0;
	int rc;

	memset(&im, 0, sizeof(im));
	im.d = d;
	im.path = a->pos[0];
	if ((rc = read_roster(im.path, &buf, &len)) != 0) {
		free(buf);
		return rc;
	}
	if (proto_roster_parse(&im.roster, buf, len) != 0)
		rc = fail_usage("%s: line %zu: %s; nothing written", im.path,
		    im.roster.err_line, im.roster.err);
	else
		rc = import_run(&im, args_has(a, "dry-run"));
	free(buf);
	for (size_t i = 0; im.plans != NULL && i < im.roster.nrows; i++)
		free(im.plans[i].key);
	free(im.plans);
	student_list_free(&im.students);
	proto_roster_free(&im.roster);
	return rc;
}
