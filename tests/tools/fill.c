/*
 * fill DIR STUDENT_ID COUNT [TAG]: writes COUNT conference notes of about
 * 1 KB for one student through the store's API, 1,000 to a transaction.
 * Tests use it to make histories of tens of thousands of entries quickly;
 * every note goes through the same seal-append-apply path as `note add`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "satchel.h"

#define PER_TXN	1000

static int
fill_batch(struct device *d, const char *student, long from, long n,
    const char *tag)
{
	static char text[1024], action[64];
	struct store_txn *t;
	struct change c;
	uint8_t id[PROTO_RECIDLEN];
	int rc;

	memset(text, 'x', sizeof(text) - 1);
	if ((rc = store_begin(d->st, 0, &t)) != 0)
		return rc;
	for (long i = from; i < from + n; i++) {
		ops_record_id(KIND_NOTE, id);	/* as `note add` makes them */
		change_init(&c, KIND_NOTE, id);
		snprintf(action, sizeof(action), "%s %ld", tag, i);
		if (change_set(&c, NULL, "student", student) != 0 ||
		    change_set(&c, NULL, "date", "2026-10-01") != 0 ||
		    change_set(&c, NULL, "strengths", text) != 0 ||
		    change_set(&c, NULL, "obstacle", "o") != 0 ||
		    change_set(&c, NULL, "action", action) != 0 ||
		    (rc = device_write(d, t, &c)) != 0) {
			store_abort(t);
			return rc ? rc : STORE_ENOMEM;
		}
	}
	return store_commit(t);
}

int
main(int argc, char **argv)
{
	struct device d;
	long count;
	int rc = 0;

	if (argc < 4 || sodium_init() < 0)
		return fail_usage("usage: fill DIR STUDENT_ID COUNT [TAG]");
	count = atol(argv[3]);
	if (device_open(&d, argv[1]) != 0)
		return 1;
	for (long done = 0; rc == 0 && done < count; done += PER_TXN)
		rc = fill_batch(&d, argv[2], done, count - done < PER_TXN ?
		    count - done : PER_TXN, argc > 4 ? argv[4] : "fill");
	device_close(&d);
	if (rc != 0)
		return fail("fill: %s", store_strerror(rc));
	return 0;
}
