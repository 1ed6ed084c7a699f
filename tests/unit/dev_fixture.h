/*
 * What the record tests share (records_test, search_test): a real device
 * in a scratch directory with its store open and one student, and
 * records written through the same path as a command's (device_write).
 * Static functions in a header, as tap.h: each test is one program.
 */
#ifndef SATCHEL_DEV_FIXTURE_H
#define SATCHEL_DEV_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "satchel.h"
#include "rmdir_all.h"

struct dev {
	char		dir[64];
	struct device	d;
	uint8_t		student[PROTO_RECIDLEN];
	char		student_hex[2 * PROTO_RECIDLEN + 1];
};

/* Writes fields (name, value pairs, NULL-ended) to record id, in t. */
static int
write_fields_in(struct dev *v, struct store_txn *t, uint8_t kind,
    const uint8_t *id, const char *const *fv)
{
	struct record *r = NULL;
	struct change c;
	int rc;

	if ((rc = store_record_get(t, kind, id, &r)) != 0 &&
	    rc != STORE_ENOTFOUND)
		return rc;
	change_init(&c, kind, id);
	rc = 0;
	for (size_t i = 0; fv[i] != NULL && rc == 0; i += 2)
		rc = change_set(&c, r, fv[i], fv[i + 1]);
	if (rc == 0)
		rc = device_write(&v->d, t, &c);
	record_free(r);
	return rc;
}

/* The same in a transaction of its own. */
static int
write_fields(struct dev *v, uint8_t kind, const uint8_t *id,
    const char *const *fv)
{
	struct store_txn *t;
	int rc;

	if ((rc = store_begin(v->d.st, 0, &t)) != 0)
		return rc;
	if ((rc = write_fields_in(v, t, kind, id, fv)) != 0) {
		store_abort(t);
		return rc;
	}
	return store_commit(t);
}

/* A new device under $TMPDIR (a mkdtemp template named for the test),
 * with a student written with the fields fv; -1 if any step fails. */
static int
dev_open(struct dev *v, const char *test, const char *const *fv)
{
	int saved = dup(1);

	snprintf(v->dir, sizeof(v->dir), "%s/satchel-%s.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", test);
	if (mkdtemp(v->dir) == NULL)
		return -1;
	/* device_init prints the new device's id: not a TAP line. */
	fflush(stdout);
	if (freopen("/dev/null", "w", stdout) == NULL)
		return -1;
	if (device_init(v->dir, "Tester", 0) != 0)
		return -1;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if (device_open(&v->d, v->dir) != 0)
		return -1;
	randombytes_buf(v->student, sizeof(v->student));
	sodium_bin2hex(v->student_hex, sizeof(v->student_hex), v->student,
	    sizeof(v->student));
	return write_fields(v, KIND_STUDENT, v->student, fv);
}

static void
dev_close(struct dev *v)
{
	device_close(&v->d);
	rmdir_all(v->dir);
}

#endif
